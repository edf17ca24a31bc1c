"""Lesson 05, activations and initialization: the graded questions.

The learner writes the two classic weight initializations and a batch-normalization layer:

- ``xavier_init(fan_in, fan_out, rng)`` and ``he_init(fan_in, fan_out, rng)``: a weight matrix of
  shape (fan_in, fan_out) drawn from a zero-mean normal distribution with the right standard
  deviation. Random draws cannot be compared entry by entry, so the checks are statistical: on
  large draws the sample mean, standard deviation and tail fraction must match the formula.
- ``batchnorm_forward`` (training and evaluation modes, running statistics updated in place) and
  ``batchnorm_backward`` (dx, dgamma, dbeta), in the style of :mod:`coursepkg.functional`, whose
  pair is the reference. Gradients are compared with central differences in float64; the cache
  is the learner's business.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy

from coursepkg import functional as F  # noqa: N812  (the conventional short name)
from coursepkg.exercises.question import (
    CheckFailure,
    as_host,
    describe_inputs,
    expect,
    expect_close,
    register,
)
from coursepkg.gradcheck import numerical_gradient

NUMERIC_RTOL, NUMERIC_ATOL = 1e-5, 1e-7  # central differences in float64 with h = 1e-6


# ----------------------------------------------------------------------------- reference solutions
def reference_xavier_init(fan_in: int, fan_out: int, rng: numpy.random.Generator) -> numpy.ndarray:
    """Xavier/Glorot normal initialization (Glorot & Bengio, 2010).

    Inputs: fan_in (D), fan_out (M), rng a numpy Generator.
    Returns: array of shape (D, M) drawn from N(0, 2 / (D + M)).
    """
    return rng.standard_normal((fan_in, fan_out)) * math.sqrt(2.0 / (fan_in + fan_out))


def reference_he_init(fan_in: int, fan_out: int, rng: numpy.random.Generator) -> numpy.ndarray:
    """He/Kaiming normal initialization for ReLU layers (He et al., 2015).

    Inputs: fan_in (D), fan_out (M), rng a numpy Generator.
    Returns: array of shape (D, M) drawn from N(0, 2 / D).
    """
    return rng.standard_normal((fan_in, fan_out)) * math.sqrt(2.0 / fan_in)


reference_batchnorm_forward = F.batchnorm_forward
reference_batchnorm_backward = F.batchnorm_backward


def xavier_std(fan_in: int, fan_out: int) -> float:
    """The standard deviation sqrt(2 / (fan_in + fan_out)) that xavier_init must have."""
    return math.sqrt(2.0 / (fan_in + fan_out))


def he_std(fan_in: int, fan_out: int) -> float:
    """The standard deviation sqrt(2 / fan_in) that he_init must have."""
    return math.sqrt(2.0 / fan_in)


# ----------------------------------------------------------------------------- planted wrong answers
def _normal(std: Callable[[int, int], float]) -> Callable:
    def init(fan_in, fan_out, rng):
        return rng.standard_normal((fan_in, fan_out)) * std(fan_in, fan_out)

    return init


def _uniform(bound: Callable[[int, int], float]) -> Callable:
    def init(fan_in, fan_out, rng):
        b = bound(fan_in, fan_out)
        return rng.uniform(-b, b, size=(fan_in, fan_out))

    return init


def _transposed(init: Callable) -> Callable:
    def transposed(fan_in, fan_out, rng):
        return init(fan_out, fan_in, rng)

    return transposed


def _ignores_rng(std: Callable[[int, int], float]) -> Callable:
    def init(fan_in, fan_out, rng):
        return numpy.random.default_rng().standard_normal((fan_in, fan_out)) * std(fan_in, fan_out)

    return init


def _bn_forward_variant(bug: str) -> Callable:
    """The reference forward pass with one planted bug (the cache stays the reference's)."""

    def forward(x, gamma, beta, running_mean, running_var, momentum=0.1, eps=1e-5, training=True):
        if training and bug == "eval stats in training":
            return F.batchnorm_forward(x, gamma, beta, running_mean, running_var, momentum, eps, training=False)
        if not training and bug == "batch stats in eval":
            return F.batchnorm_forward(x, gamma, beta, running_mean.copy(), running_var.copy(), momentum, eps,
                                       training=True)
        if not training:
            return F.batchnorm_forward(x, gamma, beta, running_mean, running_var, momentum, eps, training=False)
        n = x.shape[0]
        mean = x.mean(axis=0)
        var = x.var(axis=0, ddof=1 if bug == "unbiased in normalization" else 0)
        if bug == "eps outside sqrt":
            xhat = (x - mean) / (numpy.sqrt(var) + eps)
        else:
            xhat = (x - mean) / numpy.sqrt(var + eps)
        running_var_batch = var if bug in ("biased running var", "unbiased in normalization") else var * n / (n - 1)
        if bug == "momentum swapped":
            running_mean[:] = momentum * running_mean + (1 - momentum) * mean
            running_var[:] = momentum * running_var + (1 - momentum) * running_var_batch
        elif bug != "running stats rebound":
            running_mean[:] = (1 - momentum) * running_mean + momentum * mean
            running_var[:] = (1 - momentum) * running_var + momentum * running_var_batch
        else:
            running_mean = (1 - momentum) * running_mean + momentum * mean  # noqa: F841  (the bug: a new local)
        out = gamma * xhat + beta
        inv_std = 1 / numpy.sqrt(var + eps)
        return out, (xhat, inv_std[None, :], gamma, (0,), (1, x.shape[1]), True)

    return forward


def _bn_backward_variant(bug: str) -> Callable:
    """The reference backward pass (training mode) with one planted bug."""

    def backward(dout, cache):
        xhat, inv_std, gamma, _, _, _ = cache
        n = dout.shape[0]
        dbeta = dout.mean(axis=0) if bug == "dbeta averaged" else dout.sum(axis=0)
        if bug == "dgamma over features":
            dgamma = (dout * xhat).sum(axis=1)
        elif bug == "dgamma without xhat":
            dgamma = dout.sum(axis=0)
        else:
            dgamma = (dout * xhat).sum(axis=0)
        dxhat = dout if bug == "forgot gamma" else dout * gamma
        if bug == "constants":
            return dxhat * inv_std, dgamma, dbeta
        sum_dxhat = dxhat.sum(axis=0, keepdims=True)
        sum_dxhat_xhat = (dxhat * xhat).sum(axis=0, keepdims=True)
        if bug == "forgot mean term":
            dx = (inv_std / n) * (n * dxhat - xhat * sum_dxhat_xhat)
        elif bug == "forgot variance term":
            dx = (inv_std / n) * (n * dxhat - sum_dxhat)
        else:
            dx = (inv_std / n) * (n * dxhat - sum_dxhat - xhat * sum_dxhat_xhat)
        return dx, dgamma, dbeta

    return backward


# ----------------------------------------------------------------------------- how an init is checked
BIG_SHAPES = [(400, 100), (100, 400), (250, 250), (30, 900)]
SMALL_SHAPES = [(3, 5), (1, 7), (6, 1)]
TWO_SIGMA_FRACTION = math.erfc(2 / math.sqrt(2))  # P(|w| > 2 std) for a normal distribution, 4.55%


def _call(function: Callable, what: str, *args: Any) -> Any:
    """Call the learner's function; turn a shape or type error into feedback that names the call."""
    try:
        return function(*args)
    except (ValueError, IndexError, TypeError) as error:
        raise CheckFailure(f"{what} raised {type(error).__name__}: {error}") from None


def _as_array(value: Any, what: str) -> numpy.ndarray:
    expect(value is not None, f"{what} returned None; did you forget `return`?")
    try:
        array = as_host(value)
    except Exception as error:  # noqa: BLE001  (anything a learner returns)
        raise CheckFailure(f"{what} returned a {type(value).__name__}, not an array ({error}).") from None
    expect(array.dtype.kind == "f", f"{what} returned an array of dtype {array.dtype}; weights are floats.")
    return array


def _check_init(init: Callable, name: str, std: Callable[[int, int], float], formula: str,
                rng: numpy.random.Generator) -> None:
    """Shape, use of the generator, and the statistics of large draws."""
    for fan_in, fan_out in SMALL_SHAPES + BIG_SHAPES[:1]:
        what = f"{name}(fan_in={fan_in}, fan_out={fan_out}, rng)"
        w = _as_array(_call(init, what, fan_in, fan_out, numpy.random.default_rng(1)), what)
        expect(w.shape == (fan_in, fan_out),
               f"{what} returned shape {w.shape}; a Linear weight has shape (fan_in, fan_out) = {(fan_in, fan_out)}.")
        expect(bool(numpy.all(numpy.isfinite(w))), f"{what} returned NaN or infinite values.")
    seed = int(rng.integers(1_000_000))
    what = f"{name}(50, 20, rng)"
    first = _as_array(_call(init, what, 50, 20, numpy.random.default_rng(seed)), what)
    again = _as_array(_call(init, what, 50, 20, numpy.random.default_rng(seed)), what)
    expect(numpy.array_equal(first, again),
           f"{what} called twice with generators seeded alike returned different weights: draw the random "
           "numbers from the `rng` you are given (rng.standard_normal or rng.normal), not from numpy.random.")
    shared = numpy.random.default_rng(seed)
    second = _as_array(_call(init, what, 50, 20, shared), what)
    third = _as_array(_call(init, what, 50, 20, shared), what)
    expect(not numpy.array_equal(second, third),
           f"{what} returned the same weights on two calls with the same generator: draw from `rng` itself "
           "(do not create a new generator with a fixed seed inside the function).")

    for fan_in, fan_out in BIG_SHAPES:
        what = f"{name}(fan_in={fan_in}, fan_out={fan_out}, rng)"
        w = _as_array(_call(init, what, fan_in, fan_out, rng), what).astype(numpy.float64)
        expect(w.shape == (fan_in, fan_out), f"{what} returned shape {w.shape}, expected {(fan_in, fan_out)}.")
        expected = std(fan_in, fan_out)
        n = w.size
        mean, sample_std = float(w.mean()), float(w.std())
        expect(abs(mean) < 0.05 * expected,
               f"{what}: the mean of the {n} weights is {mean:.4g}; it should be 0 up to sampling noise "
               f"(|mean| < {0.05 * expected:.2g}). Draw from a distribution centred at zero.")
        expect(abs(sample_std / expected - 1) < 0.03,
               f"{what}: the standard deviation of the {n} weights is {sample_std:.4g}, expected "
               f"{formula} = {expected:.4g} (within 3%; the ratio is {sample_std / expected:.3f}).")
        tail = float(numpy.mean(numpy.abs(w) > 2 * expected))
        expect(abs(tail - TWO_SIGMA_FRACTION) < 0.011,
               f"{what}: {tail:.2%} of the weights are more than 2 standard deviations from 0; a normal "
               f"distribution has {TWO_SIGMA_FRACTION:.2%} there. The task asks for a normal distribution "
               "(rng.standard_normal(shape) * std), not a uniform one.")


# ----------------------------------------------------------------------------- the init questions
@register(
    id="05.xavier_init", lesson="05", points=1, names=("xavier_init",),
    reference=(reference_xavier_init,),
    mutants={
        "std sqrt(1 / fan_in) (LeCun), ignoring fan_out": (_normal(lambda i, o: math.sqrt(1 / i)),),
        "variance 2 / (fan_in + fan_out) used as the standard deviation": (_normal(lambda i, o: 2 / (i + o)),),
        "uniform on [-std, std]: the bound of a uniform is not its std": (_uniform(xavier_std),),
        "uniform with the right variance instead of a normal": (_uniform(lambda i, o: math.sqrt(6 / (i + o))),),
        "shape (fan_out, fan_in)": (_transposed(reference_xavier_init),),
        "ignores the rng it is given": (_ignores_rng(xavier_std),),
    },
    hint="std = sqrt(2 / (fan_in + fan_out)); return rng.standard_normal((fan_in, fan_out)) * std.",
)
def check_xavier_init(xavier_init: Callable, rng: numpy.random.Generator) -> None:
    """Xavier/Glorot normal initialization."""
    _check_init(xavier_init, "xavier_init", xavier_std, "sqrt(2 / (fan_in + fan_out))", rng)


@register(
    id="05.he_init", lesson="05", points=1, names=("he_init",),
    reference=(reference_he_init,),
    mutants={
        "uses fan_out instead of fan_in": (_normal(lambda i, o: math.sqrt(2 / o)),),
        "missing the factor 2: std sqrt(1 / fan_in)": (_normal(lambda i, o: math.sqrt(1 / i)),),
        "Xavier's std instead of He's": (_normal(xavier_std),),
        "uniform on [-sqrt(2 / fan_in), sqrt(2 / fan_in)]: the bound of a uniform is not its std":
            (_uniform(he_std),),
        "uniform with the right variance instead of a normal": (_uniform(lambda i, o: math.sqrt(6 / i)),),
        "ignores the rng it is given": (_ignores_rng(he_std),),
    },
    hint="std = sqrt(2 / fan_in): only the number of inputs matters; "
         "return rng.standard_normal((fan_in, fan_out)) * std.",
)
def check_he_init(he_init: Callable, rng: numpy.random.Generator) -> None:
    """He/Kaiming normal initialization."""
    _check_init(he_init, "he_init", he_std, "sqrt(2 / fan_in)", rng)


# ----------------------------------------------------------------------------- batch norm
def _bn_case(rng: numpy.random.Generator, n: int, d: int) -> dict[str, Any]:
    """Inputs with per-feature means and scales far from (0, 1), so every statistic matters."""
    x = rng.normal(rng.uniform(-3, 3, size=d), rng.uniform(0.2, 3, size=d), size=(n, d))
    return {"x": x, "gamma": rng.uniform(0.5, 2, size=d) * rng.choice([-1, 1], size=d),
            "beta": rng.standard_normal(d), "running_mean": rng.standard_normal(d),
            "running_var": rng.uniform(0.5, 2, size=d)}


def _forward(batchnorm_forward: Callable, case: dict[str, Any], momentum: float, eps: float, training: bool,
             ) -> tuple[str, Any, Any, numpy.ndarray, numpy.ndarray]:
    """Call the learner's forward on copies; return (description, out, cache, running_mean, running_var)."""
    mode = "training" if training else "eval"
    what = (f"batchnorm_forward(x, gamma, beta, running_mean, running_var, momentum={momentum:g}, eps={eps:g}, "
            f"training={training}) with {describe_inputs(x=case['x'])}")
    running_mean, running_var = case["running_mean"].copy(), case["running_var"].copy()
    result = _call(batchnorm_forward, what, case["x"].copy(), case["gamma"].copy(), case["beta"].copy(),
                   running_mean, running_var, momentum, eps, training)
    expect(isinstance(result, tuple) and len(result) == 2,
           f"{what} ({mode} mode) should return a tuple (out, cache); got {type(result).__name__}.")
    return what, result[0], result[1], running_mean, running_var


def _check_forward_case(batchnorm_forward: Callable, case: dict[str, Any], momentum: float, eps: float,
                        training: bool) -> Any:
    what, out, cache, running_mean, running_var = _forward(batchnorm_forward, case, momentum, eps, training)
    expected_mean, expected_var = case["running_mean"].copy(), case["running_var"].copy()
    expected_out, _ = reference_batchnorm_forward(case["x"], case["gamma"], case["beta"], expected_mean,
                                                  expected_var, momentum=momentum, eps=eps, training=training)
    if training:
        expect_close(out, expected_out, what=f"{what}: out", rtol=1e-6, atol=1e-9,
                     hint="Normalize with this batch's mean and its biased variance (divide by N): "
                          "xhat = (x - mean) / sqrt(var + eps), out = gamma * xhat + beta.")
        for name, got, expected, old in [("running_mean", running_mean, expected_mean, case["running_mean"]),
                                         ("running_var", running_var, expected_var, case["running_var"])]:
            expect(not numpy.array_equal(got, old),
                   f"{what}: {name} was not updated in place; after the call it still holds its old values. "
                   f"Write `{name}[:] = ...` (or use *= and +=): assigning a new array to the name {name} inside "
                   "your function is not seen by the caller.")
            expect_close(got, expected, what=f"{what}: {name} after the call", rtol=1e-6, atol=1e-9,
                         hint="running = (1 - momentum) * running + momentum * batch_statistic, where the "
                              "variance stored is the unbiased one, var * N / (N - 1).")
    else:
        expect_close(out, expected_out, what=f"{what}: out", rtol=1e-6, atol=1e-9,
                     hint="In eval mode normalize with running_mean and running_var, not the batch's statistics.")
        for name, got, old in [("running_mean", running_mean, case["running_mean"]),
                               ("running_var", running_var, case["running_var"])]:
            expect(numpy.array_equal(got, old),
                   f"{what}: {name} changed in eval mode; only training updates the running statistics.")
    return cache


@register(
    id="05.batchnorm_forward", lesson="05", points=2, names=("batchnorm_forward",),
    reference=(reference_batchnorm_forward,),
    mutants={
        "unbiased variance (divide by N - 1) in the normalization": (_bn_forward_variant("unbiased in normalization"),),
        "running_var stores the biased variance": (_bn_forward_variant("biased running var"),),
        "momentum the wrong way round in the running averages": (_bn_forward_variant("momentum swapped"),),
        "eval mode normalizes with the batch statistics": (_bn_forward_variant("batch stats in eval"),),
        "training mode normalizes with the running statistics": (_bn_forward_variant("eval stats in training"),),
        "eps added outside the square root": (_bn_forward_variant("eps outside sqrt"),),
        "running statistics rebound instead of updated in place": (_bn_forward_variant("running stats rebound"),),
    },
    hint="Training: mean and biased var of each column, xhat = (x - mean) / sqrt(var + eps), "
         "out = gamma * xhat + beta, running stats updated in place (unbiased var). Eval: use the running stats.",
)
def check_batchnorm_forward(batchnorm_forward: Callable, rng: numpy.random.Generator) -> None:
    """Batch normalization, forward pass (training and eval)."""
    for (n, d), momentum, eps in [((8, 3), 0.1, 1e-5), ((2, 4), 0.3, 1e-5), ((32, 5), 0.1, 0.5),
                                  ((5, 1), 0.9, 1e-3)]:
        case = _bn_case(rng, n, d)
        _check_forward_case(batchnorm_forward, case, momentum, eps, training=True)
        _check_forward_case(batchnorm_forward, case, momentum, eps, training=False)
    # Eval mode works on a single example: there is no batch statistic to compute.
    case = _bn_case(rng, 1, 3)
    _check_forward_case(batchnorm_forward, case, 0.1, 1e-5, training=False)


@register(
    id="05.batchnorm_backward", lesson="05", points=3, names=("batchnorm_forward", "batchnorm_backward"),
    reference=(reference_batchnorm_forward, reference_batchnorm_backward),
    mutants={
        "forgot the mean term (-sum(dxhat)) in dx": (F.batchnorm_forward, _bn_backward_variant("forgot mean term")),
        "forgot the variance term in dx": (F.batchnorm_forward, _bn_backward_variant("forgot variance term")),
        "mean and variance treated as constants": (F.batchnorm_forward, _bn_backward_variant("constants")),
        "dgamma summed over the features instead of the batch":
            (F.batchnorm_forward, _bn_backward_variant("dgamma over features")),
        "dgamma without xhat": (F.batchnorm_forward, _bn_backward_variant("dgamma without xhat")),
        "dbeta averaged instead of summed": (F.batchnorm_forward, _bn_backward_variant("dbeta averaged")),
        "forgot gamma in dx": (F.batchnorm_forward, _bn_backward_variant("forgot gamma")),
    },
    hint="With dxhat = dout * gamma and sums over the batch axis: dbeta = sum(dout), dgamma = sum(dout * xhat), "
         "dx = inv_std / N * (N * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat)).",
)
def check_batchnorm_backward(batchnorm_forward: Callable, batchnorm_backward: Callable,
                             rng: numpy.random.Generator) -> None:
    """Batch normalization, backward pass (training mode)."""
    for (n, d), eps in [((4, 3), 1e-5), ((2, 2), 1e-5), ((10, 5), 0.1), ((3, 1), 1e-5), ((6, 4), 1e-5)]:
        case = _bn_case(rng, n, d)
        cache = _check_forward_case(batchnorm_forward, case, 0.1, eps, training=True)
        dout = rng.standard_normal((n, d))
        back = (f"batchnorm_backward(dout, cache) after batchnorm_forward in training mode with "
                f"{describe_inputs(x=case['x'])}")
        grads = _call(batchnorm_backward, back, dout, cache)
        expect(isinstance(grads, tuple) and len(grads) == 3,
               f"{back} should return a tuple (dx, dgamma, dbeta); got {type(grads).__name__}"
               + (f" of length {len(grads)}." if isinstance(grads, tuple) else "."))
        point = {key: case[key].copy() for key in ("x", "gamma", "beta")}

        def loss(point: dict[str, numpy.ndarray] = point, dout: numpy.ndarray = dout, eps: float = eps,
                 d: int = d) -> float:
            out, _ = reference_batchnorm_forward(point["x"], point["gamma"], point["beta"], numpy.zeros(d),
                                                 numpy.ones(d), eps=eps, training=True)
            return float(numpy.sum(out * dout))

        for name, grad in zip(("x", "gamma", "beta"), grads):
            expected = numerical_gradient(loss, point[name])
            expect_close(grad, expected, what=f"{back}: d{name} (checked against central differences)",
                         rtol=NUMERIC_RTOL, atol=NUMERIC_ATOL)
