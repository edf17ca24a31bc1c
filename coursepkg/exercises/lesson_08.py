"""Lesson 08, overfitting and regularization: the graded questions.

The learner writes the three regularizers' core computations on plain NumPy arrays:

- ``l2_penalty_and_grad(params, lam)``: the penalty lam/2 * (sum of squared weights) over the
  weight arrays of a parameter dict (arrays with 2 or more axes; biases are not penalized) and
  its gradient, checked against the formula and against central differences.
- ``dropout_forward(x, p, training, rng)``: inverted dropout. The mask is random, so the checks
  test its structure exactly (every output entry is 0 or x / (1 - p); eval mode is the
  identity) and its statistics on large inputs (the fraction dropped is p).
- ``best_epoch(val_losses, min_delta)`` and ``should_stop(val_losses, patience, min_delta)``: the
  rule of :class:`coursepkg.train.EarlyStopping`, checked on hand-made and random loss curves.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy

from coursepkg.exercises.question import (
    CheckFailure,
    as_host,
    describe_inputs,
    expect,
    expect_close,
    register,
)
from coursepkg.gradcheck import numerical_gradient


# ----------------------------------------------------------------------------- reference solutions
def reference_l2_penalty_and_grad(params: dict[str, numpy.ndarray], lam: float
                                  ) -> tuple[float, dict[str, numpy.ndarray]]:
    """L2 penalty on the weights of a model, and its gradient.

    Inputs:
    - params: name -> array. Arrays with 2 or more axes (weight matrices, convolution kernels)
      are penalized; 1-D arrays (biases) are not.
    - lam: the strength lambda >= 0.
    Returns: the penalty lam / 2 * sum of w**2 over every entry of every weight array (a number),
    and a dict with the same keys as params: lam * w for a weight, zeros for a bias.
    """
    penalty = 0.0
    grads = {}
    for name, w in params.items():
        if w.ndim >= 2:
            penalty += 0.5 * lam * float(numpy.sum(w * w))
            grads[name] = lam * w
        else:
            grads[name] = numpy.zeros_like(w)
    return penalty, grads


def reference_dropout_forward(x: numpy.ndarray, p: float, training: bool, rng: numpy.random.Generator
                              ) -> tuple[numpy.ndarray, numpy.ndarray | None]:
    """Inverted dropout.

    Inputs: x of any shape; p in [0, 1), the probability of dropping each entry; training;
    rng, a numpy Generator for the mask.
    Returns: (out, mask). Training: mask has x's shape, 0 for a dropped entry and 1 / (1 - p)
    for a kept one, and out = x * mask. Eval: (x, None).
    """
    if not training:
        return x, None
    mask = (rng.random(x.shape) >= p) / (1 - p)
    return x * mask, mask


def reference_best_epoch(val_losses: list[float], min_delta: float = 0.0) -> int:
    """The index of the last improvement in val_losses (the epoch whose weights to restore).

    An epoch improves when its loss is below best - min_delta, where best is the loss of the
    previous improvement; the first epoch always improves.
    """
    best, best_index = math.inf, 0
    for index, loss in enumerate(val_losses):
        if loss < best - min_delta:
            best, best_index = loss, index
    return best_index


def reference_should_stop(val_losses: list[float], patience: int, min_delta: float = 0.0) -> bool:
    """True when the last ``patience`` epochs (or more) all failed to improve."""
    return len(val_losses) - 1 - reference_best_epoch(val_losses, min_delta) >= patience


# ----------------------------------------------------------------------------- planted wrong answers
def _l2_variant(bug: str) -> Callable:
    def l2_penalty_and_grad(params, lam):
        penalty, grads = 0.0, {}
        for name, w in params.items():
            penalized = w.ndim >= 2 or bug == "biases"
            if bug == "names" and not name.startswith("W"):
                penalized = False
            if not penalized:
                grads[name] = numpy.zeros_like(w)
                continue
            half = 1.0 if bug in ("no half", "no half, gradient 2 lam w") else 0.5
            penalty += half * lam * float(numpy.sum(w * w))
            factor = 2.0 if bug in ("gradient 2 lam w", "no half, gradient 2 lam w") else 1.0
            grads[name] = factor * lam * w
        if bug == "weights only":
            grads = {name: g for name, g in grads.items() if params[name].ndim >= 2}
        return penalty, grads

    return l2_penalty_and_grad


def _dropout_variant(bug: str) -> Callable:
    def dropout_forward(x, p, training, rng):
        if not training:
            if bug == "drops in eval":
                keep = rng.random(x.shape) >= p
                return x * keep / (1 - p), keep / (1 - p)
            if bug == "scales in eval":
                return x * (1 - p), None
            return x, None
        if bug == "fixed seed":
            rng = numpy.random.default_rng(0)
        keep = rng.random(x.shape) < p if bug == "keeps with p" else rng.random(x.shape) >= p
        if bug in ("no rescale", "scales in eval"):
            mask = keep.astype(x.dtype)
        else:
            mask = keep / (1 - p)
        if bug == "in place":
            x *= mask
            return x, mask
        return x * mask, mask

    return dropout_forward


def _improves(bug: str) -> Callable[[float, float, float, float], bool]:
    """Whether ``loss`` counts as an improvement, given the best and the previous loss."""
    def improves(loss, best, previous, min_delta):
        if bug == "ties":
            return loss <= best - min_delta
        if bug == "previous":
            return loss < previous - min_delta
        if bug == "no min_delta":
            return loss < best
        return loss < best - min_delta

    return improves


def _early_variant(bug: str) -> tuple[Callable, Callable]:
    improves = _improves(bug)

    def best_epoch(val_losses, min_delta=0.0):
        best, previous, best_index = math.inf, math.inf, 0
        for index, loss in enumerate(val_losses):
            if improves(loss, best, previous, min_delta):
                best, best_index = loss, index
            elif bug == "best follows every new minimum" and loss < best:
                best = loss
            previous = loss
        return best_index + (1 if bug == "one-based" else 0)

    def should_stop(val_losses, patience, min_delta=0.0):
        if bug == "counts every bad epoch":
            best, bad = math.inf, 0
            for loss in val_losses:
                if loss < best - min_delta:
                    best = loss
                else:
                    bad += 1
            return bad >= patience
        waited = len(val_losses) - 1 - (best_epoch(val_losses, min_delta) - (1 if bug == "one-based" else 0))
        return waited > patience if bug == "patience off by one" else waited >= patience

    return best_epoch, should_stop


# ----------------------------------------------------------------------------- helpers
def _call(function: Callable, what: str, *args: Any) -> Any:
    """Call the learner's function; turn a shape or type error into feedback that names the call."""
    try:
        return function(*args)
    except (ValueError, IndexError, TypeError, KeyError) as error:
        raise CheckFailure(f"{what} raised {type(error).__name__}: {error}") from None


def _describe_params(params: dict[str, numpy.ndarray]) -> str:
    return "{" + ", ".join(f"{name!r}: shape {w.shape}" for name, w in params.items()) + "}"


# ----------------------------------------------------------------------------- the L2 question
@register(
    id="08.l2_penalty", lesson="08", points=2, names=("l2_penalty_and_grad",),
    reference=(reference_l2_penalty_and_grad,),
    mutants={
        "missing the 1/2: penalty lam * sum(w**2) (with its gradient 2 lam w)":
            (_l2_variant("no half, gradient 2 lam w"),),
        "penalty without the 1/2 but gradient lam * w (inconsistent)": (_l2_variant("no half"),),
        "gradient 2 * lam * w for the penalty lam/2 * sum(w**2)": (_l2_variant("gradient 2 lam w"),),
        "biases penalized too": (_l2_variant("biases"),),
        "weights recognized by their name (W...) instead of their number of axes": (_l2_variant("names"),),
        "no gradient entry for the biases": (_l2_variant("weights only"),),
    },
    hint="Loop over params.items(): for arrays with w.ndim >= 2 add 0.5 * lam * sum(w**2) to the penalty and set "
         "grads[name] = lam * w; for the others set grads[name] = zeros_like(w).",
)
def check_l2_penalty(l2_penalty_and_grad: Callable, rng: numpy.random.Generator) -> None:
    """L2 penalty on the weights and its gradient."""
    cases = [
        ({"W1": (3, 4), "b1": (4,), "W2": (4, 2), "b2": (2,)}, 0.1),
        ({"W": (1, 1), "b": (1,)}, 2.0),
        ({"W1": (5, 3), "b1": (3,), "kernel": (2, 3, 2, 2), "bias": (2,), "W_out": (2, 4)}, 0.03),
        ({"W1": (2, 3), "b1": (3,)}, 0.0),
    ]
    for shapes, lam in cases:
        params = {name: rng.standard_normal(shape) for name, shape in shapes.items()}
        before = {name: w.copy() for name, w in params.items()}
        what = f"l2_penalty_and_grad(params, lam={lam:g}) with params {_describe_params(params)}"
        result = _call(l2_penalty_and_grad, what, params, lam)
        expect(isinstance(result, tuple) and len(result) == 2,
               f"{what} should return a tuple (penalty, grads); got {type(result).__name__}.")
        penalty, grads = result
        expect(all(numpy.array_equal(params[k], before[k]) for k in params),
               f"{what} changed the parameters it was given; compute the penalty without updating them.")
        expected_penalty, _ = reference_l2_penalty_and_grad(before, lam)
        expect_close(penalty, expected_penalty, what=f"{what}: the penalty", rtol=1e-6, atol=1e-12,
                     hint="penalty = lam / 2 * (sum of w**2 over the weight arrays only, those with 2 or more axes).")
        expect(isinstance(grads, dict) and set(grads) == set(params),
               f"{what}: grads should be a dict with the keys of params, {sorted(params)} (zeros for the biases); got "
               f"{sorted(grads) if isinstance(grads, dict) else type(grads).__name__}.")
        point = {name: w.copy() for name, w in before.items()}
        for name in params:
            expected = numerical_gradient(lambda point=point, lam=lam: reference_l2_penalty_and_grad(point, lam)[0],
                                          point[name])
            expect_close(grads[name], expected, what=f"{what}: grads[{name!r}] (checked against central differences)",
                         rtol=1e-5, atol=1e-8)


# ----------------------------------------------------------------------------- the dropout question
def _check_dropout_structure(dropout_forward: Callable, x: numpy.ndarray, p: float,
                             rng: numpy.random.Generator) -> numpy.ndarray:
    """Training mode: out is x * mask with every mask entry 0 or 1 / (1 - p). Returns the kept pattern."""
    what = f"dropout_forward(x, p={p:g}, training=True, rng) with {describe_inputs(x=x)}"
    original = x.copy()
    result = _call(dropout_forward, what, x, p, True, rng)
    expect(isinstance(result, tuple) and len(result) == 2,
           f"{what} should return a tuple (out, mask); got {type(result).__name__}.")
    expect(numpy.array_equal(x, original),
           f"{what} changed x in place; compute out as a new array (out = x * mask), leaving x alone.")
    out, mask = result
    expect(out is not None and mask is not None, f"{what} returned None for out or mask in training mode.")
    out, mask = as_host(out).astype(numpy.float64), as_host(mask).astype(numpy.float64)
    expect(out.shape == x.shape and mask.shape == x.shape,
           f"{what}: out and mask must have x's shape {x.shape}; got {out.shape} and {mask.shape}.")
    scale = 1 / (1 - p)
    kept = numpy.isclose(mask, scale, rtol=1e-6, atol=0)
    dropped = mask == 0
    if not numpy.all(kept | dropped):
        bad = mask[~(kept | dropped)].reshape(-1)[0]
        raise CheckFailure(f"{what}: mask has the entry {bad:.6g}; every entry must be 0 (dropped) or "
                           f"1 / (1 - p) = {scale:.6g} (kept). Inverted dropout rescales the kept entries so that "
                           "the expected output equals x.")
    expect_close(out, x * mask, what=f"{what}: out (should be x * mask)", rtol=1e-6, atol=1e-12)
    return kept


@register(
    id="08.dropout", lesson="08", points=2, names=("dropout_forward",),
    reference=(reference_dropout_forward,),
    mutants={
        "kept entries not rescaled by 1 / (1 - p)": (_dropout_variant("no rescale"),),
        "drops entries in eval mode too": (_dropout_variant("drops in eval"),),
        "keeps each entry with probability p instead of 1 - p": (_dropout_variant("keeps with p"),),
        "old-style dropout: no rescaling in training, multiplies by 1 - p in eval":
            (_dropout_variant("scales in eval"),),
        "the same mask on every call (a generator with a fixed seed)": (_dropout_variant("fixed seed"),),
        "multiplies x in place": (_dropout_variant("in place"),),
    },
    hint="Training: keep = rng.random(x.shape) >= p (True with probability 1 - p), mask = keep / (1 - p), "
         "return x * mask, mask. Eval: return x, None.",
)
def check_dropout(dropout_forward: Callable, rng: numpy.random.Generator) -> None:
    """Inverted dropout, training and eval modes."""
    for shape, p in [((4, 5), 0.5), ((1, 6), 0.3), ((2, 3, 4), 0.8), ((7,), 0.1)]:
        x = rng.standard_normal(shape)
        _check_dropout_structure(dropout_forward, x, p, rng)
        what = f"dropout_forward(x, p={p:g}, training=False, rng) with {describe_inputs(x=x)}"
        result = _call(dropout_forward, what, x.copy(), p, False, rng)
        expect(isinstance(result, tuple) and len(result) == 2,
               f"{what} should return a tuple (out, mask); got {type(result).__name__}.")
        expect_close(result[0], x, what=f"{what}: out", rtol=0, atol=0,
                     hint="In eval mode dropout is the identity: inverted dropout already rescaled in training.")
    x = rng.standard_normal((3, 4))
    what = f"dropout_forward(x, p=0, training=True, rng) with {describe_inputs(x=x)}"
    result = _call(dropout_forward, what, x.copy(), 0.0, True, rng)
    expect(isinstance(result, tuple) and len(result) == 2, f"{what} should return a tuple (out, mask).")
    expect_close(result[0], x, what=f"{what}: out", rtol=1e-12, hint="With p = 0 nothing is dropped.")

    # Statistics on 100 000 entries: the fraction dropped is p (standard error below 0.002).
    for p in (0.2, 0.7, 0.5):
        x = rng.uniform(0.5, 1.5, size=(200, 500))
        kept = _check_dropout_structure(dropout_forward, x, p, rng)
        dropped = 1 - float(kept.mean())
        expect(abs(dropped - p) < 0.01,
               f"dropout_forward(x, p={p:g}, training=True, rng) on {x.size} entries dropped {dropped:.1%} of them; "
               f"expected {p:.0%} (p is the probability of DROPPING an entry, so keep it when rng.random() >= p).")
        column_rates = kept.mean(axis=0)
        expect(float(column_rates.std()) < 0.1 and float(kept.mean(axis=1).std()) < 0.1,
               f"dropout_forward(x, p={p:g}, ...): whole rows or columns are dropped together; draw one random "
               "number per entry (rng.random(x.shape)).")
    x = rng.standard_normal((50, 40))
    first = _check_dropout_structure(dropout_forward, x, 0.5, rng)
    second = _check_dropout_structure(dropout_forward, x, 0.5, rng)
    expect(not numpy.array_equal(first, second),
           "dropout_forward(x, p=0.5, training=True, rng) dropped exactly the same entries on two calls with the "
           "same generator: draw a fresh mask from `rng` on every call.")


# ----------------------------------------------------------------------------- the early-stopping question
HAND_CASES = [  # (val_losses, min_delta, patience): binary fractions, so best - min_delta is exact
    ([1.0], 0.0, 1),
    ([1.0, 0.75, 0.5, 0.625, 0.75], 0.0, 2),
    ([1.0, 0.75, 0.5, 0.625, 0.75], 0.0, 3),
    ([1.0, 0.5, 0.5, 0.5], 0.0, 2),            # ties are not improvements
    ([1.0, 0.5, 0.5, 0.5], 0.0, 3),
    ([1.0, 0.75, 0.5], 0.25, 1),               # 0.75 is exactly best - min_delta: not an improvement
    ([1.0, 0.875, 0.75, 0.625], 0.25, 3),      # slow progress: each step is below min_delta
    ([1.0, 0.875, 0.75, 0.625], 0.25, 2),
    ([1.0, 0.5, 0.75, 0.625, 0.5625], 0.0, 3),  # better than the previous epoch, not than the best
    ([1.0, 0.5, 0.75, 0.625, 0.5625], 0.0, 4),
    ([2.0, 1.0, 1.5, 0.5, 0.75, 0.625, 0.5625, 0.53125], 0.0, 4),
    ([2.0, 1.0, 1.5, 0.5, 0.75, 0.625, 0.5625, 0.53125], 0.0, 5),
]


def _random_curve(rng: numpy.random.Generator) -> tuple[list[float], float, int]:
    """A noisy validation curve (multiples of 1/64) that falls, then rises: an overfitting run."""
    n = int(rng.integers(3, 25))
    turn = int(rng.integers(1, n))
    steps = numpy.concatenate([-rng.integers(0, 16, size=turn), rng.integers(-4, 10, size=n - turn)])
    losses = (256 + numpy.cumsum(steps)) / 64
    return [float(v) for v in losses], float(rng.choice([0.0, 1 / 64, 2 / 64, 4 / 64])), int(rng.integers(1, 6))


def _show(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:g}" for v in values) + "]"


@register(
    id="08.early_stopping", lesson="08", points=2, names=("best_epoch", "should_stop"),
    reference=(reference_best_epoch, reference_should_stop),
    mutants={
        "patience off by one: stops after patience + 1 epochs without improvement":
            _early_variant("patience off by one"),
        "a loss of exactly best - min_delta (or a tie) counts as an improvement": _early_variant("ties"),
        "compares with the previous epoch instead of the best": _early_variant("previous"),
        "ignores min_delta": _early_variant("no min_delta"),
        "best moves to every new minimum, even one that is not an improvement":
            _early_variant("best follows every new minimum"),
        "counts every bad epoch, not the epochs since the best": _early_variant("counts every bad epoch"),
        "epochs counted from 1": _early_variant("one-based"),
    },
    hint="best = inf; for each index i: if val_losses[i] < best - min_delta: best, best_i = val_losses[i], i. "
         "Stop when len(val_losses) - 1 - best_i >= patience.",
)
def check_early_stopping(best_epoch: Callable, should_stop: Callable, rng: numpy.random.Generator) -> None:
    """Early stopping: the best epoch and the stopping rule."""
    cases = HAND_CASES + [_random_curve(rng) for _ in range(40)]
    for val_losses, min_delta, patience in cases:
        what = f"best_epoch({_show(val_losses)}, min_delta={min_delta:g})"
        got = _call(best_epoch, what, list(val_losses), min_delta)
        expected = reference_best_epoch(val_losses, min_delta)
        expect(got is not None, f"{what} returned None; did you forget `return`?")
        expect(isinstance(got, (int, numpy.integer)) and got == expected,
               f"{what} returned {got!r}, expected {expected} (the index, from 0, of the last epoch whose loss was "
               "below best - min_delta).")
        what = f"should_stop({_show(val_losses)}, patience={patience}, min_delta={min_delta:g})"
        got = _call(should_stop, what, list(val_losses), patience, min_delta)
        expected = reference_should_stop(val_losses, patience, min_delta)
        expect(got is not None, f"{what} returned None; did you forget `return`?")
        best = reference_best_epoch(val_losses, min_delta)
        expect(isinstance(got, (bool, numpy.bool_)) and bool(got) == expected,
               f"{what} returned {got!r}, expected {expected} (the best epoch is {best}, "
               f"{len(val_losses) - 1 - best} epoch(s) ago).")
