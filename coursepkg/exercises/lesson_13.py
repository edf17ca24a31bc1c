"""Lesson 13, attention: the graded questions.

The learner writes, on plain NumPy arrays:

- ``scaled_dot_product_attention(q, k, v, mask=None) -> (out, weights)`` with q (..., T, d),
  k (..., S, d), v (..., S, dv), an optional bool mask broadcastable to (..., T, S) (True = may
  attend), out (..., T, dv) and weights (..., T, S);
- ``attention_backward(dout, cache) -> (dq, dk, dv)`` where ``cache = (q, k, v, weights)``: the
  check builds the cache itself from the right weights, so this question does not depend on the
  learner's forward pass;
- ``causal_mask(T)``: the (T, T) bool array that is True where key s <= query t.

Forward values are compared with a naive implementation written here (one query at a time, the
masked keys dropped before a max-shifted softmax); gradients with central differences in float64
of ``sum(out * dout)``. The references are the library's functions, wrapped to these signatures.
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

NUMERIC_RTOL, NUMERIC_ATOL = 1e-5, 1e-7  # central differences in float64 with h = 1e-6 are good to ~1e-9


# ----------------------------------------------------------------------------- references
def reference_scaled_dot_product_attention(q: numpy.ndarray, k: numpy.ndarray, v: numpy.ndarray,
                                           mask: numpy.ndarray | None = None) -> tuple[numpy.ndarray, numpy.ndarray]:
    """softmax(q @ k^T / sqrt(d), hidden pairs removed) @ v and the weights (the library's forward).

    Inputs: q (..., T, d), k (..., S, d), v (..., S, dv) with one or two leading axes; mask: bool,
    broadcastable to (..., T, S), True = may attend.
    Returns: out (..., T, dv) and weights (..., T, S).
    """
    out, cache = F.scaled_dot_product_attention_forward(q, k, v, mask=mask)
    return out, cache[3]


def reference_attention_backward(dout: numpy.ndarray, cache: tuple) -> tuple[numpy.ndarray, ...]:
    """(dq, dk, dv) of scaled dot-product attention, from cache = (q, k, v, weights) (the library's backward)."""
    return F.scaled_dot_product_attention_backward(dout, tuple(cache))


def reference_causal_mask(T: int) -> numpy.ndarray:
    """The (T, T) bool NumPy array that is True where key s <= query t: the lower triangle, diagonal included."""
    return numpy.tril(numpy.ones((T, T), dtype=bool))


def naive_attention(q: numpy.ndarray, k: numpy.ndarray, v: numpy.ndarray,
                    mask: numpy.ndarray | None = None) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Attention one query at a time: the allowed keys' scores, a max-shifted softmax, a weighted sum of values."""
    lead, (T, d), S = q.shape[:-2], q.shape[-2:], k.shape[-2]
    allowed_all = numpy.ones(lead + (T, S), dtype=bool) if mask is None else numpy.broadcast_to(mask, lead + (T, S))
    out = numpy.zeros(lead + (T, v.shape[-1]))
    weights = numpy.zeros(lead + (T, S))
    for index in numpy.ndindex(*lead):
        for t in range(T):
            allowed = allowed_all[index + (t,)]
            scores = (k[index] @ q[index + (t,)])[allowed] / math.sqrt(d)
            e = numpy.exp(scores - scores.max())
            weights[index + (t,)][allowed] = e / e.sum()
            out[index + (t,)] = weights[index + (t,)] @ v[index]
    return out, weights


# ----------------------------------------------------------------------------- planted wrong answers
def _softmax(scores: numpy.ndarray, axis: int = -1, shift: bool = True) -> numpy.ndarray:
    with numpy.errstate(over="ignore", invalid="ignore"):
        e = numpy.exp(scores - scores.max(axis=axis, keepdims=True) if shift else scores)
        return e / e.sum(axis=axis, keepdims=True)


def _attention_variant(bug: str) -> Callable:
    def attention(q, k, v, mask=None):
        scale = 1.0 if bug == "no scale" else 1 / math.sqrt(q.shape[-1])
        scores = q @ numpy.swapaxes(k, -1, -2) * scale
        if mask is not None and bug not in ("after", "polarity"):
            scores = numpy.where(mask, scores, -numpy.inf)
        if mask is not None and bug == "polarity":
            scores = numpy.where(mask, -numpy.inf, scores)
        weights = _softmax(scores, axis=-2 if bug == "wrong axis" else -1, shift=bug != "no shift")
        if mask is not None and bug == "after":
            weights = weights * mask
        return weights @ v, weights

    return attention


def _backward_variant(bug: str) -> Callable:
    def backward(dout, cache):
        q, k, v, weights = cache
        scale = 1.0 if bug == "no scale" else 1 / math.sqrt(q.shape[-1])
        dv = (weights if bug == "dv transpose" else numpy.swapaxes(weights, -1, -2)) @ dout
        dweights = dout @ numpy.swapaxes(v, -1, -2)
        dscores = weights * dweights
        if bug != "no jacobian":
            dscores = dscores - weights * numpy.sum(dweights * weights, axis=-1, keepdims=True)
        return dscores @ k * scale, numpy.swapaxes(dscores, -1, -2) @ q * scale, dv

    return backward


def _mask_with_future(T: int) -> numpy.ndarray:
    return numpy.triu(numpy.ones((T, T), dtype=bool))


def _mask_without_diagonal(T: int) -> numpy.ndarray:
    return numpy.tril(numpy.ones((T, T), dtype=bool), k=-1)


def _mask_as_floats(T: int) -> numpy.ndarray:
    return numpy.tril(numpy.ones((T, T)))


# ----------------------------------------------------------------------------- the cases
def _cases(rng: numpy.random.Generator) -> list[tuple[dict[str, numpy.ndarray], numpy.ndarray | None, str]]:
    """(q, k, v), mask, and a description of the mask, over several shapes and kinds of mask."""

    def qkv(lead: tuple[int, ...], T: int, S: int, d: int, dv: int, size: float = 1.0) -> dict[str, numpy.ndarray]:
        return {"q": size * rng.standard_normal(lead + (T, d)), "k": size * rng.standard_normal(lead + (S, d)),
                "v": rng.standard_normal(lead + (S, dv))}

    lengths = numpy.array([3, 1, 5])  # one padding length per example; every query keeps >= 1 key
    padding = (numpy.arange(5)[None, :] < lengths[:, None])[:, None, None, :]  # (B, 1, 1, S)
    random_mask = rng.random((2, 4, 6)) < 0.5
    random_mask[numpy.arange(2)[:, None], numpy.arange(4)[None, :], rng.integers(0, 6, (2, 4))] = True
    return [
        (qkv((2,), 4, 4, 3, 5), None, "no mask"),
        (qkv((1, 1), 3, 5, 8, 2), None, "no mask, 3 queries and 5 keys"),
        (qkv((2, 2), 5, 5, 4, 3), numpy.tril(numpy.ones((5, 5), dtype=bool)), "a causal (5, 5) mask"),
        (qkv((3, 2), 4, 5, 4, 3), padding, "a padding mask of shape (3, 1, 1, 5)"),
        (qkv((2,), 4, 6, 3, 2), random_mask, "a random (2, 4, 6) mask"),
        (qkv((1,), 3, 4, 16, 2, size=30.0), None, "large scores (hundreds): does your softmax overflow?"),
    ]


def _call(function: Callable, what: str, *args: Any, **kwargs: Any) -> Any:
    """Call the learner's function; turn a shape error into feedback that names the call."""
    try:
        return function(*args, **kwargs)
    except (ValueError, IndexError, TypeError) as error:
        raise CheckFailure(f"{what} raised {type(error).__name__}: {error}") from None


# ----------------------------------------------------------------------------- the questions
@register(
    id="13.scaled_dot_product_attention", lesson="13", points=3, names=("scaled_dot_product_attention",),
    reference=(reference_scaled_dot_product_attention,),
    mutants={
        "no 1/sqrt(d) scaling": (_attention_variant("no scale"),),
        "softmax over the queries axis instead of the keys": (_attention_variant("wrong axis"),),
        "mask applied after the softmax (weights zeroed, not renormalized)": (_attention_variant("after"),),
        "mask polarity reversed (True hides the key)": (_attention_variant("polarity"),),
        "softmax without subtracting the row maximum (overflows)": (_attention_variant("no shift"),),
    },
    hint="scores = q @ k^T / sqrt(d) (swap the last two axes of k); hidden pairs get -inf before the softmax; "
         "softmax over the last axis (the keys) after subtracting each row's maximum; out = weights @ v.",
)
def check_scaled_dot_product_attention(scaled_dot_product_attention: Callable, rng: numpy.random.Generator) -> None:
    """Scaled dot-product attention with an optional mask: outputs and weights."""
    for inputs, mask, what in _cases(rng):
        call = f"scaled_dot_product_attention(q, k, v, mask) with {describe_inputs(**inputs)} and {what}"
        args = {name: value.copy() for name, value in inputs.items()}
        result = (_call(scaled_dot_product_attention, call, **args) if mask is None
                  else _call(scaled_dot_product_attention, call, **args, mask=mask.copy()))
        expect(isinstance(result, tuple) and len(result) == 2,
               f"{call} should return a tuple (out, weights); got {type(result).__name__}.")
        out, weights = result
        expected_out, expected_weights = naive_attention(*inputs.values(), mask)
        expect_close(weights, expected_weights, what=f"{call}: weights", rtol=1e-5, atol=1e-7)
        expect_close(out, expected_out, what=f"{call}: out", rtol=1e-5, atol=1e-7)


@register(
    id="13.attention_backward", lesson="13", points=3, names=("attention_backward",),
    reference=(reference_attention_backward,),
    mutants={
        "softmax backward missing the - sum(dP * P) term": (_backward_variant("no jacobian"),),
        "forgot the 1/sqrt(d) scale in dq and dk": (_backward_variant("no scale"),),
        "dv = weights @ dout (missing transpose)": (_backward_variant("dv transpose"),),
    },
    hint="dv = P^T @ dout; dP = dout @ v^T; dscores = P * (dP - sum(dP * P, over keys)); "
         "dq = dscores @ k / sqrt(d); dk = dscores^T @ q / sqrt(d) (transpose the last two axes only).",
)
def check_attention_backward(attention_backward: Callable, rng: numpy.random.Generator) -> None:
    """The backward pass of scaled dot-product attention: dq, dk and dv."""
    for inputs, mask, what in _cases(rng)[:5]:  # moderate scores: finite differences need a smooth softmax
        _, weights = naive_attention(*inputs.values(), mask)
        cache = tuple(value.copy() for value in inputs.values()) + (weights.copy(),)
        dout = rng.standard_normal(inputs["q"].shape[:-1] + (inputs["v"].shape[-1],))
        call = (f"attention_backward(dout, cache) with cache = (q, k, v, weights) for {describe_inputs(**inputs)} "
                f"and {what}")
        grads = _call(attention_backward, call, dout.copy(), cache)
        expect(isinstance(grads, tuple) and len(grads) == 3,
               f"{call} should return a tuple (dq, dk, dv); got {type(grads).__name__}"
               + (f" of length {len(grads)}." if isinstance(grads, tuple) else "."))
        for name, grad in zip(inputs, grads):
            point = {key: value.copy() for key, value in inputs.items()}
            expected = numerical_gradient(
                lambda point=point, mask=mask, dout=dout: numpy.sum(
                    reference_scaled_dot_product_attention(**point, mask=mask)[0] * dout),
                point[name])
            expect_close(grad, expected, what=f"{call}: d{name} (checked against central differences)",
                         rtol=NUMERIC_RTOL, atol=NUMERIC_ATOL)


@register(
    id="13.causal_mask", lesson="13", points=1, names=("causal_mask",),
    reference=(reference_causal_mask,),
    mutants={
        "includes the future (upper triangle)": (_mask_with_future,),
        "excludes the diagonal (a position cannot see itself)": (_mask_without_diagonal,),
        "floats instead of booleans": (_mask_as_floats,),
    },
    hint="Query t (row) may look at keys s (columns) with s <= t: numpy.tril of a (T, T) array of True.",
)
def check_causal_mask(causal_mask: Callable, rng: numpy.random.Generator) -> None:
    """The causal mask: True where query t may attend to key s, i.e. s <= t."""
    for T in (1, 2, 5, int(rng.integers(6, 12))):
        call = f"causal_mask({T})"
        got = _call(causal_mask, call, T)
        expect(got is not None, f"{call} returned None; did you forget `return`?")
        host = as_host(got)
        expect(host.shape == (T, T), f"{call}: expected shape {(T, T)}, got shape {host.shape}.")
        expect(host.dtype == numpy.bool_, f"{call}: expected a bool array (True = may attend), got dtype "
                                          f"{host.dtype}; use dtype=bool or .astype(bool).")
        expected = numpy.tril(numpy.ones((T, T), dtype=bool))
        wrong = numpy.argwhere(host != expected)
        if wrong.size:
            t, s = (int(i) for i in wrong[0])
            raise CheckFailure(f"{call}: entry [{t}, {s}] (query {t}, key {s}) is {bool(host[t, s])}; expected "
                               f"{bool(expected[t, s])} because key {s} is {'after' if s > t else 'not after'} "
                               f"query {t}.")
