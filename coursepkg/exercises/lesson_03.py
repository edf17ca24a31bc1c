"""Lesson 03, backpropagation: the graded questions.

The learner writes forward/backward pairs in the style of :mod:`coursepkg.functional`
(``out, cache = foo_forward(x, ...)``, ``dx, ... = foo_backward(dout, cache)``) for Linear,
ReLU, Sigmoid, Tanh and softmax-cross-entropy, then a two-layer network's loss and gradients.

Every check calls the learner's forward, then the learner's backward with a random upstream
gradient ``dout``, and compares each returned gradient with the central-difference gradient of
``sum(forward(...) * dout)`` in float64. The cache is the learner's business: any content works.
The references are the library's own pairs.
"""

from __future__ import annotations

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

NUMERIC_RTOL, NUMERIC_ATOL = 1e-5, 1e-7  # central differences in float64 with h = 1e-6 are good to ~1e-9


# ----------------------------------------------------------------------------- reference: a two-layer net
def reference_two_layer_loss_and_grads(params: dict[str, numpy.ndarray], X: numpy.ndarray, y: numpy.ndarray
                                       ) -> tuple[float, dict[str, numpy.ndarray]]:
    """Loss and gradients of  softmax-cross-entropy(relu(X @ W1 + b1) @ W2 + b2, y).

    Inputs:
    - params: "W1" (D, H), "b1" (H,), "W2" (H, C), "b2" (C,).
    - X: (N, D) inputs; y: (N,) integer labels in [0, C).
    Returns: the mean loss (a number) and a dict of gradients with the keys and shapes of params.
    """
    pre, linear1_cache = F.linear_forward(X, params["W1"], params["b1"])
    hidden, relu_cache = F.relu_forward(pre)
    scores, linear2_cache = F.linear_forward(hidden, params["W2"], params["b2"])
    loss, loss_cache = F.softmax_cross_entropy_forward(scores, y)

    dscores = F.softmax_cross_entropy_backward(1.0, loss_cache)
    dhidden, dW2, db2 = F.linear_backward(dscores, linear2_cache)
    dpre = F.relu_backward(dhidden, relu_cache)
    _, dW1, db1 = F.linear_backward(dpre, linear1_cache)
    return float(loss), {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def two_layer_scores(params: dict[str, numpy.ndarray], X: numpy.ndarray) -> numpy.ndarray:
    """Class scores (N, C) of the two-layer net, for measuring accuracy."""
    return numpy.maximum(X @ params["W1"] + params["b1"], 0) @ params["W2"] + params["b2"]


# ----------------------------------------------------------------------------- planted wrong answers
def _linear_no_bias_grad(dout, cache):
    dx, dw, db = F.linear_backward(dout, cache)
    return dx, dw, numpy.zeros_like(db)


def _linear_bias_mean(dout, cache):
    dx, dw, _ = F.linear_backward(dout, cache)
    return dx, dw, dout.mean(axis=0)


def _linear_no_transpose(dout, cache):
    x, w, _ = cache
    return dout @ w, x.T @ dout, dout.sum(axis=0)


def _linear_dw_over_n(dout, cache):
    dx, dw, db = F.linear_backward(dout, cache)
    return dx, dw / dout.shape[0], db


def _relu_no_mask(dout, cache):
    return dout


def _relu_mask_of_dout(dout, cache):
    return dout * (dout > 0)


def _relu_mask_only(dout, cache):
    return cache.astype(dout.dtype)


def _sigmoid_forward_caching_input(x):
    out, _ = F.sigmoid_forward(x)
    return out, x


def _sigmoid_backward_of_input(dout, cache):
    x = cache
    return dout * x * (1 - x)  # sigma'(x) written with x where sigma(x) belongs


def _sigmoid_backward_no_dout(dout, cache):
    return cache * (1 - cache) + 0 * dout


def _sigmoid_backward_missing_factor(dout, cache):
    return dout * (1 - cache)


def _tanh_forward_caching_input(x):
    return numpy.tanh(x), x


def _tanh_backward_of_input(dout, cache):
    return dout * (1 - cache * cache)


def _tanh_backward_plus(dout, cache):
    return dout * (1 + cache * cache)


def _tanh_backward_no_square(dout, cache):
    return dout * (1 - cache)


def _softmax_ce_no_mean(dout, cache):
    probs, _ = cache
    return F.softmax_cross_entropy_backward(dout, cache) * probs.shape[0]


def _softmax_ce_no_one_hot(dout, cache):
    probs, _ = cache
    return probs * (dout / probs.shape[0])


def _softmax_ce_sign(dout, cache):
    return -F.softmax_cross_entropy_backward(dout, cache)


def _softmax_ce_ignores_dout(dout, cache):
    return F.softmax_cross_entropy_backward(1.0, cache)


def _softmax_ce_forward_unshifted(logits, labels):
    with numpy.errstate(over="ignore", invalid="ignore", divide="ignore"):
        e = numpy.exp(logits)
        probs = e / e.sum(axis=1, keepdims=True)
        loss = -numpy.mean(numpy.log(probs[numpy.arange(len(labels)), labels]))
    return loss, (probs, labels)


def _two_layer_variant(bug: str) -> Callable:
    def loss_and_grads(params, X, y):
        pre = X @ params["W1"] + params["b1"]
        hidden = numpy.maximum(pre, 0)
        loss, cache = F.softmax_cross_entropy_forward(hidden @ params["W2"] + params["b2"], y)
        dscores = F.softmax_cross_entropy_backward(1.0, cache)
        if bug == "no 1/N":
            dscores = dscores * X.shape[0]
        if bug == "sign":
            dscores = -dscores
        dW2 = (pre if bug == "pre-activation" else hidden).T @ dscores
        dhidden = dscores @ params["W2"].T
        dpre = dhidden if bug == "no mask" else dhidden * (pre > 0)
        db1 = numpy.zeros_like(params["b1"]) if bug == "no b1" else dpre.sum(axis=0)
        return float(loss), {"W1": X.T @ dpre, "b1": db1, "W2": dW2, "b2": dscores.sum(axis=0)}

    return loss_and_grads


# ----------------------------------------------------------------------------- how a pair is checked
def _call(function: Callable, what: str, *args: Any) -> Any:
    """Call the learner's function; turn a shape error into feedback that names the call."""
    try:
        return function(*args)
    except (ValueError, IndexError) as error:
        raise CheckFailure(f"{what} raised {type(error).__name__}: {error}") from None


def _check_pair(forward: Callable, backward: Callable, reference_forward: Callable, fname: str,
                inputs: dict[str, Any], differentiable: tuple[str, ...], rng: numpy.random.Generator,
                reference_backward: Callable | None = None, hint: str = "") -> None:
    """Check a forward/backward pair at one point.

    forward(*inputs) must match reference_forward(*inputs); backward(dout, cache) must return the
    gradient of sum(forward(*inputs) * dout) with respect to each input named in ``differentiable``
    (one array, or a tuple in that order), compared with central differences, or with
    ``reference_backward`` where finite differences are unreliable (at kinks).
    """
    args = tuple(inputs.values())
    call = f"{fname}_forward({', '.join(inputs)}) with {describe_inputs(**inputs)}"
    result = _call(forward, call, *(a.copy() for a in args))
    expect(isinstance(result, (tuple, list)) and len(result) == 2,
           f"{call} should return a tuple (out, cache); got {type(result).__name__}.")
    out, cache = result
    expected_out, reference_cache = reference_forward(*args)
    expect_close(out, expected_out, what=call, rtol=1e-6, hint=hint)

    dout = rng.standard_normal(numpy.shape(expected_out)) if numpy.ndim(expected_out) else float(rng.uniform(0.5, 2))
    back = f"{fname}_backward(dout, cache) after {call}"
    grads = _call(backward, back, dout, cache)
    if len(differentiable) == 1:
        grads = (grads,)
    else:
        is_sequence = isinstance(grads, (tuple, list))
        expect(is_sequence and len(grads) == len(differentiable),
               f"{back} should return a tuple ({', '.join('d' + n for n in differentiable)}); "
               f"got {type(grads).__name__}" + (f" of length {len(grads)}." if is_sequence else "."))
    for name, grad in zip(differentiable, grads):
        point = {key: value.copy() for key, value in inputs.items()}
        if reference_backward is None:
            expected = numerical_gradient(
                lambda point=point: numpy.sum(reference_forward(*point.values())[0] * dout), point[name])
            expect_close(grad, expected, what=f"{back}: d{name} (checked against central differences)",
                         rtol=NUMERIC_RTOL, atol=NUMERIC_ATOL)
        else:
            expected = reference_backward(dout, reference_cache)
            expect_close(grad, expected, what=f"{back}: d{name}", rtol=1e-6)


def _away_from_zero(x: numpy.ndarray) -> numpy.ndarray:
    """Inputs for ReLU checks: nothing within 1e-3 of the kink (the derivative at 0 is a convention)."""
    return numpy.where(numpy.abs(x) < 1e-3, 1e-3, x)


# ----------------------------------------------------------------------------- the questions
@register(
    id="03.linear", lesson="03", points=2, names=("linear_forward", "linear_backward"),
    reference=(F.linear_forward, F.linear_backward),
    mutants={
        "forgot the bias gradient": (F.linear_forward, _linear_no_bias_grad),
        "bias gradient averaged instead of summed over the batch": (F.linear_forward, _linear_bias_mean),
        "dx = dout @ w (missing transpose)": (F.linear_forward, _linear_no_transpose),
        "dw divided by the batch size": (F.linear_forward, _linear_dw_over_n),
    },
    hint="out = x @ w + b. Backward: dx = dout @ w.T, dw = x.T @ dout, db = dout.sum(axis=0). "
         "Check the shapes: each gradient has the shape of its input.",
)
def check_linear(linear_forward: Callable, linear_backward: Callable, rng: numpy.random.Generator) -> None:
    """Forward and backward of the affine layer."""
    for n, d, m in [(4, 3, 3), (1, 2, 4), (6, 5, 2)]:
        inputs = {"x": rng.standard_normal((n, d)), "w": rng.standard_normal((d, m)), "b": rng.standard_normal(m)}
        _check_pair(linear_forward, linear_backward, F.linear_forward, "linear", inputs, ("x", "w", "b"), rng)


@register(
    id="03.relu", lesson="03", points=1, names=("relu_forward", "relu_backward"),
    reference=(F.relu_forward, F.relu_backward),
    mutants={
        "gradient passed through everywhere": (F.relu_forward, _relu_no_mask),
        "mask computed from dout instead of the input": (F.relu_forward, _relu_mask_of_dout),
        "returns the mask, forgot to multiply by dout": (F.relu_forward, _relu_mask_only),
    },
    hint="Keep the mask x > 0 in the cache; dx = dout * mask.",
)
def check_relu(relu_forward: Callable, relu_backward: Callable, rng: numpy.random.Generator) -> None:
    """Forward and backward of ReLU."""
    for shape in [(5, 4), (1, 3), (2, 3, 4)]:
        inputs = {"x": _away_from_zero(rng.standard_normal(shape))}
        _check_pair(relu_forward, relu_backward, F.relu_forward, "relu", inputs, ("x",), rng,
                    reference_backward=F.relu_backward)


@register(
    id="03.sigmoid", lesson="03", points=1, names=("sigmoid_forward", "sigmoid_backward"),
    reference=(F.sigmoid_forward, F.sigmoid_backward),
    mutants={
        "derivative written with the input x instead of the output sigma(x)":
            (_sigmoid_forward_caching_input, _sigmoid_backward_of_input),
        "forgot to multiply by dout": (F.sigmoid_forward, _sigmoid_backward_no_dout),
        "derivative (1 - sigma) instead of sigma (1 - sigma)": (F.sigmoid_forward, _sigmoid_backward_missing_factor),
    },
    hint="sigma'(x) = sigma(x) (1 - sigma(x)): cache the output s and return dout * s * (1 - s).",
)
def check_sigmoid(sigmoid_forward: Callable, sigmoid_backward: Callable, rng: numpy.random.Generator) -> None:
    """Forward and backward of the logistic sigmoid."""
    for shape in [(4, 3), (1, 1), (3, 5)]:
        inputs = {"x": 2 * rng.standard_normal(shape)}
        _check_pair(sigmoid_forward, sigmoid_backward, F.sigmoid_forward, "sigmoid", inputs, ("x",), rng)


@register(
    id="03.tanh", lesson="03", points=1, names=("tanh_forward", "tanh_backward"),
    reference=(F.tanh_forward, F.tanh_backward),
    mutants={
        "derivative written with the input x instead of the output tanh(x)":
            (_tanh_forward_caching_input, _tanh_backward_of_input),
        "sign error: 1 + tanh^2": (F.tanh_forward, _tanh_backward_plus),
        "forgot the square: 1 - tanh": (F.tanh_forward, _tanh_backward_no_square),
    },
    hint="tanh'(x) = 1 - tanh(x)^2: cache the output t and return dout * (1 - t * t).",
)
def check_tanh(tanh_forward: Callable, tanh_backward: Callable, rng: numpy.random.Generator) -> None:
    """Forward and backward of tanh."""
    for shape in [(4, 3), (1, 1), (2, 6)]:
        inputs = {"x": 1.5 * rng.standard_normal(shape)}
        _check_pair(tanh_forward, tanh_backward, F.tanh_forward, "tanh", inputs, ("x",), rng)


def _labels(rng: numpy.random.Generator, n: int, c: int) -> numpy.ndarray:
    return rng.integers(0, c, size=n)


@register(
    id="03.softmax_cross_entropy", lesson="03", points=2,
    names=("softmax_cross_entropy_forward", "softmax_cross_entropy_backward"),
    reference=(F.softmax_cross_entropy_forward, F.softmax_cross_entropy_backward),
    mutants={
        "forgot to divide the gradient by N": (F.softmax_cross_entropy_forward, _softmax_ce_no_mean),
        "forgot to subtract the one-hot labels": (F.softmax_cross_entropy_forward, _softmax_ce_no_one_hot),
        "sign error: one_hot - softmax": (F.softmax_cross_entropy_forward, _softmax_ce_sign),
        "ignores dout": (F.softmax_cross_entropy_forward, _softmax_ce_ignores_dout),
        "exp of unshifted logits overflows for large logits": (_softmax_ce_forward_unshifted,
                                                                F.softmax_cross_entropy_backward),
    },
    hint="Subtract each row's max before exp. loss = -mean(log p[i, y_i]); "
         "dlogits = (p - one_hot(y)) / N * dout.",
)
def check_softmax_cross_entropy(softmax_cross_entropy_forward: Callable, softmax_cross_entropy_backward: Callable,
                                rng: numpy.random.Generator) -> None:
    """Forward and backward of the mean softmax cross-entropy."""
    forward, backward = softmax_cross_entropy_forward, softmax_cross_entropy_backward
    for n, c in [(5, 3), (1, 4), (8, 10)]:
        labels = _labels(rng, n, c)
        _check_labelled(forward, backward, rng.standard_normal((n, c)), labels, rng)
    # Large logits: exp(1000) overflows unless the row max is subtracted first.
    logits = rng.standard_normal((4, 3)) + numpy.array([[1000.0], [-1000.0], [0.0], [500.0]])
    _check_labelled(forward, backward, logits, _labels(rng, 4, 3), rng,
                    hint="Logits of size 1000 overflow exp(); subtract each row's maximum first "
                         "(softmax does not change when a constant is added to a row).")


def _check_labelled(forward: Callable, backward: Callable, logits: numpy.ndarray, labels: numpy.ndarray,
                    rng: numpy.random.Generator, hint: str = "") -> None:
    """Like _check_pair for a loss with integer labels: only the logits are differentiated."""
    reference = F.softmax_cross_entropy_forward
    call = f"softmax_cross_entropy_forward(logits, labels) with {describe_inputs(logits=logits, labels=labels)}"
    result = _call(forward, call, logits.copy(), labels.copy())
    expect(isinstance(result, (tuple, list)) and len(result) == 2,
           f"{call} should return a tuple (loss, cache); got {type(result).__name__}.")
    loss, cache = result
    expect_close(loss, reference(logits, labels)[0], what=f"{call}: the loss", rtol=1e-6, hint=hint)
    dout = float(rng.choice([1.0, 0.5, 2.0]))
    back = f"softmax_cross_entropy_backward(dout={dout:g}, cache) after {call}"
    dlogits = _call(backward, back, dout, cache)
    point = logits.copy()
    expected = numerical_gradient(lambda: reference(point, labels)[0] * dout, point)
    expect_close(dlogits, expected, what=f"{back}: dlogits (checked against central differences)",
                 rtol=NUMERIC_RTOL, atol=NUMERIC_ATOL, hint=hint)


# ----------------------------------------------------------------------------- the two-layer network
TRAIN_STEPS, TRAIN_LR, HIDDEN, TARGET_ACCURACY = 300, 1.0, 16, 0.95


def _moons() -> tuple[numpy.ndarray, numpy.ndarray]:
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=200, noise=0.15, random_state=0)
    return (X - X.mean(axis=0)) / X.std(axis=0), y


def _random_params(rng: numpy.random.Generator, d: int, h: int, c: int, scale: float = 1.0) -> dict:
    return {"W1": scale * rng.standard_normal((d, h)) / numpy.sqrt(d), "b1": 0.1 * rng.standard_normal(h),
            "W2": scale * rng.standard_normal((h, c)) / numpy.sqrt(h), "b2": 0.1 * rng.standard_normal(c)}


@register(
    id="03.two_layer", lesson="03", points=3, names=("two_layer_loss_and_grads",),
    reference=(reference_two_layer_loss_and_grads,),
    mutants={
        "forgot the gradient of b1": (_two_layer_variant("no b1"),),
        "ReLU mask not applied in the backward pass": (_two_layer_variant("no mask"),),
        "forgot the 1/N of the mean loss": (_two_layer_variant("no 1/N"),),
        "sign error in dscores": (_two_layer_variant("sign"),),
        "dW2 computed from the pre-activation instead of the ReLU output": (_two_layer_variant("pre-activation"),),
    },
    hint="Forward: pre = X @ W1 + b1, hidden = relu(pre), scores = hidden @ W2 + b2, loss = softmax CE. "
         "Backward in reverse order, reusing your pairs; every gradient has the shape of its parameter.",
)
def check_two_layer(two_layer_loss_and_grads: Callable, rng: numpy.random.Generator) -> None:
    """A two-layer network's loss and gradients, and training it."""
    for n, d, h, c in [(1, 2, 3, 2), (6, 3, 5, 4), (10, 4, 8, 3)]:
        params = _random_params(rng, d, h, c)
        X, y = rng.standard_normal((n, d)), _labels(rng, n, c)
        before = {key: value.copy() for key, value in params.items()}
        call = f"two_layer_loss_and_grads(params, X, y) with {describe_inputs(X=X, y=y)}, H={h}, C={c}"
        result = _call(two_layer_loss_and_grads, call, params, X.copy(), y.copy())
        expect(isinstance(result, (tuple, list)) and len(result) == 2,
               f"{call} should return a tuple (loss, grads); got {type(result).__name__}.")
        loss, grads = result
        expect(all(numpy.array_equal(params[k], before[k]) for k in params),
               f"{call} changed the parameters it was given; compute the gradients without updating params.")
        expected_loss, _ = reference_two_layer_loss_and_grads(params, X, y)
        expect_close(loss, expected_loss, what=f"{call}: the loss", rtol=1e-6)
        expect(isinstance(grads, dict) and set(grads) >= set(params),
               f"{call}: grads should be a dict with keys {sorted(params)}; got "
               f"{sorted(grads) if isinstance(grads, dict) else type(grads).__name__}.")
        point = {key: value.copy() for key, value in params.items()}
        for key in ("W2", "b2", "W1", "b1"):
            expected = numerical_gradient(
                lambda point=point, X=X, y=y: reference_two_layer_loss_and_grads(point, X, y)[0], point[key])
            expect_close(grads[key], expected, what=f"{call}: grads[{key!r}] (checked against central differences)",
                         rtol=NUMERIC_RTOL, atol=NUMERIC_ATOL)

    X, y = _moons()
    params = _random_params(numpy.random.default_rng(0), 2, HIDDEN, 2)
    for _ in range(TRAIN_STEPS):
        _, grads = two_layer_loss_and_grads(params, X, y)
        params = {key: value - TRAIN_LR * as_host(grads[key]) for key, value in params.items()}
    accuracy = float(numpy.mean(two_layer_scores(params, X).argmax(axis=1) == y))
    expect(accuracy >= TARGET_ACCURACY,
           f"{TRAIN_STEPS} steps of gradient descent (lr={TRAIN_LR}) with your gradients on 200 'moons' points "
           f"reach a training accuracy of {accuracy:.1%}; the reference reaches at least {TARGET_ACCURACY:.0%}.")
