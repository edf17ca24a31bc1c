"""Lesson 07, optimizers: the graded questions.

The learner writes each optimizer's update as a pure function on NumPy arrays, with its state
passed in and returned explicitly (``sgd_momentum_step(w, grad, velocity, lr, momentum) ->
(w, velocity)`` and so on), and the cosine learning-rate schedule with a linear warm-up.

Each optimizer check runs several steps, feeding the learner's returned state back in, on a
quadratic (the gradient depends on where the previous steps went) and on random gradients, and
compares the weights after every step with an independent implementation: the library's own
optimizer classes (:mod:`coursepkg.optim`), driven through their ``step()`` method. The schedule
is compared with :class:`coursepkg.optim.CosineAnnealing`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy

from coursepkg import nn
from coursepkg.backend import set_backend, to_numpy
from coursepkg.exercises.question import CheckFailure, as_host, describe_inputs, expect, expect_close, register
from coursepkg.optim import SGD, Adam, AdamW, CosineAnnealing, RMSprop


# ----------------------------------------------------------------------------- reference solutions
def reference_sgd_momentum_step(w: numpy.ndarray, grad: numpy.ndarray, velocity: numpy.ndarray, lr: float,
                                momentum: float) -> tuple[numpy.ndarray, numpy.ndarray]:
    """One step of SGD with (heavy-ball) momentum: v = mu v + g, w = w - lr v.

    Inputs: w, grad, velocity: arrays of one shape S; lr > 0; momentum mu in [0, 1).
    Returns: (new w, new velocity), both of shape S.
    """
    velocity = momentum * velocity + grad
    return w - lr * velocity, velocity


def reference_nesterov_step(w: numpy.ndarray, grad: numpy.ndarray, velocity: numpy.ndarray, lr: float,
                            momentum: float) -> tuple[numpy.ndarray, numpy.ndarray]:
    """One step of Nesterov momentum: v = mu v + g, w = w - lr (g + mu v).

    Inputs: w, grad (the gradient at w), velocity: arrays of one shape S; lr > 0; momentum in [0, 1).
    Returns: (new w, new velocity), both of shape S.
    """
    velocity = momentum * velocity + grad
    return w - lr * (grad + momentum * velocity), velocity


def reference_rmsprop_step(w: numpy.ndarray, grad: numpy.ndarray, square_avg: numpy.ndarray, lr: float,
                           alpha: float, eps: float) -> tuple[numpy.ndarray, numpy.ndarray]:
    """One step of RMSprop: s = alpha s + (1 - alpha) g^2, w = w - lr g / (sqrt(s) + eps).

    Inputs: w, grad, square_avg: arrays of one shape S; lr > 0; alpha in [0, 1); eps >= 0.
    Returns: (new w, new square_avg), both of shape S.
    """
    square_avg = alpha * square_avg + (1 - alpha) * grad**2
    return w - lr * grad / (numpy.sqrt(square_avg) + eps), square_avg


def reference_adam_step(w: numpy.ndarray, grad: numpy.ndarray, m: numpy.ndarray, v: numpy.ndarray, t: int,
                        lr: float, beta1: float, beta2: float, eps: float
                        ) -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """One step of Adam, t = 1 on the first step.

    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  m_hat = m / (1 - b1^t);  v_hat = v / (1 - b2^t);
    w = w - lr m_hat / (sqrt(v_hat) + eps).

    Inputs: w, grad, m, v: arrays of one shape S; t >= 1; lr > 0; beta1, beta2 in [0, 1); eps >= 0.
    Returns: (new w, new m, new v), each of shape S.
    """
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return w - lr * m_hat / (numpy.sqrt(v_hat) + eps), m, v


def reference_adamw_step(w: numpy.ndarray, grad: numpy.ndarray, m: numpy.ndarray, v: numpy.ndarray, t: int,
                         lr: float, beta1: float, beta2: float, eps: float, weight_decay: float
                         ) -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """One step of AdamW: Adam on the loss's gradient, plus a decay lr * wd * w of the weights before the step.

    w = w - lr (m_hat / (sqrt(v_hat) + eps) + wd w), with m_hat, v_hat as in Adam (the gradient has no wd term).

    Returns: (new w, new m, new v), each of the shape of w.
    """
    adam_w, m, v = reference_adam_step(w, grad, m, v, t, lr, beta1, beta2, eps)
    return adam_w - lr * weight_decay * w, m, v


def reference_cosine_with_warmup(step: int, total_steps: int, warmup_steps: int, base_lr: float,
                                 min_lr: float) -> float:
    """The learning rate at ``step`` (0 is the first update) of a linear warm-up then a cosine decay.

    lr = base_lr * step / W                                         for 0 <= step < W
    lr = min_lr + (base_lr - min_lr) * (1 + cos(pi * p)) / 2,  p = (step - W) / (T - W)   for W <= step <= T
    lr = min_lr                                                     for step > T
    with W = warmup_steps (0 <= W < T) and T = total_steps.
    """
    if step < warmup_steps:
        return base_lr * step / warmup_steps
    progress = min(1.0, (step - warmup_steps) / (total_steps - warmup_steps))
    return min_lr + (base_lr - min_lr) * 0.5 * (1 + math.cos(math.pi * progress))


# ----------------------------------------------------------------------------- planted wrong answers
def _momentum_wrong_sign(w, grad, velocity, lr, momentum):
    velocity = momentum * velocity - grad
    return w - lr * velocity, velocity


def _momentum_forgotten(w, grad, velocity, lr, momentum):
    return w - lr * grad, velocity


def _momentum_old_velocity(w, grad, velocity, lr, momentum):
    return w - lr * velocity, momentum * velocity + grad


def _momentum_dampened(w, grad, velocity, lr, momentum):
    velocity = momentum * velocity + (1 - momentum) * grad
    return w - lr * velocity, velocity


def _nesterov_plain_momentum(w, grad, velocity, lr, momentum):
    return reference_sgd_momentum_step(w, grad, velocity, lr, momentum)


def _nesterov_old_velocity(w, grad, velocity, lr, momentum):
    new_velocity = momentum * velocity + grad
    return w - lr * (grad + momentum * velocity), new_velocity


def _nesterov_wrong_sign(w, grad, velocity, lr, momentum):
    velocity = momentum * velocity + grad
    return w - lr * (grad - momentum * velocity), velocity


def _rmsprop_no_sqrt(w, grad, square_avg, lr, alpha, eps):
    square_avg = alpha * square_avg + (1 - alpha) * grad**2
    return w - lr * grad / (square_avg + eps), square_avg


def _rmsprop_swapped(w, grad, square_avg, lr, alpha, eps):
    square_avg = (1 - alpha) * square_avg + alpha * grad**2
    return w - lr * grad / (numpy.sqrt(square_avg) + eps), square_avg


def _rmsprop_old_average(w, grad, square_avg, lr, alpha, eps):
    return w - lr * grad / (numpy.sqrt(square_avg) + eps), alpha * square_avg + (1 - alpha) * grad**2


def _adam_no_correction(w, grad, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    return w - lr * m / (numpy.sqrt(v) + eps), m, v


def _adam_t_from_zero(w, grad, m, v, t, lr, beta1, beta2, eps):
    """Bias correction as if the first step were t = 0: 1 - beta^0 = 0 on the first step."""
    with numpy.errstate(divide="ignore", invalid="ignore"):
        return reference_adam_step(w, grad, m, v, t - 1, lr, beta1, beta2, eps)


def _adam_t_plus_one(w, grad, m, v, t, lr, beta1, beta2, eps):
    return reference_adam_step(w, grad, m, v, t + 1, lr, beta1, beta2, eps)


def _adam_no_sqrt(w, grad, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    return w - lr * (m / (1 - beta1**t)) / (v / (1 - beta2**t) + eps), m, v


def _adam_swapped_betas(w, grad, m, v, t, lr, beta1, beta2, eps):
    return reference_adam_step(w, grad, m, v, t, lr, beta2, beta1, eps)


def _adamw_l2_in_gradient(w, grad, m, v, t, lr, beta1, beta2, eps, weight_decay):
    return reference_adam_step(w, grad + weight_decay * w, m, v, t, lr, beta1, beta2, eps)


def _adamw_decay_without_lr(w, grad, m, v, t, lr, beta1, beta2, eps, weight_decay):
    adam_w, m, v = reference_adam_step(w, grad, m, v, t, lr, beta1, beta2, eps)
    return adam_w - weight_decay * w, m, v


def _adamw_no_decay(w, grad, m, v, t, lr, beta1, beta2, eps, weight_decay):
    return reference_adam_step(w, grad, m, v, t, lr, beta1, beta2, eps)


def _adamw_no_correction(w, grad, m, v, t, lr, beta1, beta2, eps, weight_decay):
    adam_w, m, v = _adam_no_correction(w, grad, m, v, t, lr, beta1, beta2, eps)
    return adam_w - lr * weight_decay * w, m, v


def _cosine_warmup_off_by_one(step, total_steps, warmup_steps, base_lr, min_lr):
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    return reference_cosine_with_warmup(step, total_steps, warmup_steps, base_lr, min_lr)


def _cosine_over_total(step, total_steps, warmup_steps, base_lr, min_lr):
    """Progress measured over T instead of T - W: the cosine stops short of min_lr."""
    if step < warmup_steps:
        return base_lr * step / warmup_steps
    progress = min(1.0, (step - warmup_steps) / total_steps)
    return min_lr + (base_lr - min_lr) * 0.5 * (1 + math.cos(math.pi * progress))


def _cosine_to_zero(step, total_steps, warmup_steps, base_lr, min_lr):
    return reference_cosine_with_warmup(step, total_steps, warmup_steps, base_lr, 0.0)


def _cosine_restarts(step, total_steps, warmup_steps, base_lr, min_lr):
    if step < warmup_steps:
        return base_lr * step / warmup_steps
    progress = ((step - warmup_steps) % (total_steps - warmup_steps)) / (total_steps - warmup_steps)
    return min_lr + (base_lr - min_lr) * 0.5 * (1 + math.cos(math.pi * progress))


def _cosine_unclamped(step, total_steps, warmup_steps, base_lr, min_lr):
    """The cosine keeps going after T and climbs back up."""
    if step < warmup_steps:
        return base_lr * step / warmup_steps
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return min_lr + (base_lr - min_lr) * 0.5 * (1 + math.cos(math.pi * progress))


# ----------------------------------------------------------------------------- the independent implementation
def _library_trajectory(make_optimizer: Callable[[Any], Any], w0: numpy.ndarray, gradients: Callable,
                        steps: int, state: dict[str, numpy.ndarray] | None = None,
                        start_step: int = 0) -> list[numpy.ndarray]:
    """Run a coursepkg optimizer on a float64 Parameter; gradients(k, w) gives the gradient at step k.

    ``state`` (the library's state names, e.g. "exp_avg") and ``start_step`` (updates already made)
    let a run start from the middle of training. Returns the weights after each step.
    """
    p = nn.Parameter(numpy.array(w0, dtype=numpy.float64, copy=True))
    optimizer = make_optimizer([p])
    if state:  # through the public API: the optimizer may keep its state in its own (flat) storage
        optimizer.load_state_dict({"state.0.step": start_step,
                                   **{f"state.0.{name}": numpy.array(a, dtype=numpy.float64)
                                      for name, a in state.items()}})
    path = []
    for k in range(steps):
        p.grad = numpy.asarray(gradients(k, to_numpy(p.data)), dtype=numpy.float64)
        optimizer.step()
        path.append(to_numpy(p.data).copy())
    return path


def _gradient_source(rng: numpy.random.Generator, shape: tuple[int, ...], kind: str) -> tuple[Callable, str]:
    """gradients(k, w) for a run: a quadratic's gradient (depends on w) or fixed random gradients."""
    if kind == "quadratic":
        curvature = rng.uniform(0.2, 5.0, size=shape)
        centre = rng.standard_normal(shape)
        return (lambda k, w: curvature * (w - centre)), "the gradient of a quadratic, curvature * (w - centre)"
    noise = rng.standard_normal((12, *shape)) * rng.uniform(0.1, 3.0, size=(12, *shape))
    return (lambda k, w: noise[k]), "random gradients"


def _as_result(result: Any, count: int, what: str, names: str) -> tuple[Any, ...]:
    expect(isinstance(result, (tuple, list)) and len(result) == count,
           f"{what} should return a tuple ({names}); got {type(result).__name__}"
           + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else "") + ".")
    return tuple(result)


def _run_steps(step_fn: Callable, name: str, state_names: tuple[str, ...], w0: numpy.ndarray, state0: tuple,
               gradients: Callable, description: str, steps: int, hyper: dict[str, float],
               expected_path: list[numpy.ndarray], expected_states: list[tuple] | None, t0: int | None = None,
               hint: str = "") -> None:
    """Call the learner's step function ``steps`` times, feeding its own state back, and compare."""
    w, state = w0.copy(), tuple(s.copy() for s in state0)
    settings = ", ".join(f"{key}={value:g}" for key, value in hyper.items())
    for k in range(steps):
        grad = numpy.asarray(gradients(k, w), dtype=numpy.float64)
        t_part = [] if t0 is None else [t0 + k + 1]
        call = (f"{name}(w, grad, {', '.join(state_names)}{', t=' + str(t0 + k + 1) if t0 is not None else ''}, "
                f"{settings})")
        what = (f"step {k + 1} of {steps}, {call} with {describe_inputs(w=w)} and {description}")
        result = _as_result(step_fn(w.copy(), grad.copy(), *(s.copy() for s in state), *t_part, *hyper.values()),
                            1 + len(state_names), what, ", ".join(("w", *state_names)))
        expect_close(result[0], expected_path[k], what=f"{what}: the new w", rtol=1e-6, atol=1e-10, hint=hint)
        for i, state_name in enumerate(state_names):
            expect(numpy.shape(as_host(result[1 + i])) == w.shape,
                   f"{what}: the new {state_name} has shape {numpy.shape(as_host(result[1 + i]))}, expected {w.shape}.")
            if expected_states is not None:
                expect_close(result[1 + i], expected_states[k][i], what=f"{what}: the new {state_name}", rtol=1e-6,
                             atol=1e-12)
        w = numpy.asarray(as_host(result[0]), dtype=numpy.float64)
        state = tuple(numpy.asarray(as_host(s), dtype=numpy.float64) for s in result[1:])


def _cases() -> list[tuple[tuple[int, ...], str]]:
    """(shape of w, kind of gradients) for the runs of every optimizer check."""
    return [((5,), "quadratic"), ((3, 4), "random"), ((1,), "quadratic"), ((2, 3), "quadratic"), ((7,), "random")]


def _reference_states(step_fn: Callable, w0: numpy.ndarray, state0: tuple, gradients: Callable, steps: int,
                      hyper: dict[str, float], t0: int | None = None) -> list[tuple]:
    """The states along the run, from the reference function (only for states the formulas fix: m, v, s)."""
    w, state, states = w0.copy(), state0, []
    for k in range(steps):
        t_part = [] if t0 is None else [t0 + k + 1]
        w, *state = step_fn(w, gradients(k, w), *state, *t_part, *hyper.values())
        states.append(tuple(state))
    return states


# ----------------------------------------------------------------------------- the questions
@register(
    id="07.sgd_momentum", lesson="07", points=1, names=("sgd_momentum_step",),
    reference=(reference_sgd_momentum_step,),
    mutants={
        "momentum sign: v = mu v - g": (_momentum_wrong_sign,),
        "forgets the velocity (plain SGD)": (_momentum_forgotten,),
        "steps with the old velocity, updated afterwards": (_momentum_old_velocity,),
        "dampened: v = mu v + (1 - mu) g": (_momentum_dampened,),
    },
    hint="velocity = momentum * velocity + grad; w = w - lr * velocity; return (w, velocity).",
)
def check_sgd_momentum(sgd_momentum_step: Callable, rng: numpy.random.Generator) -> None:
    """SGD with momentum, one step."""
    set_backend("numpy")
    for shape, kind in _cases():
        lr, momentum = float(rng.uniform(0.01, 0.2)), float(rng.choice([0.5, 0.9, 0.99]))
        gradients, description = _gradient_source(rng, shape, kind)
        w0 = rng.standard_normal(shape)
        path = _library_trajectory(lambda p, lr=lr, mu=momentum: SGD(p, lr=lr, momentum=mu), w0, gradients, 6)
        _run_steps(sgd_momentum_step, "sgd_momentum_step", ("velocity",), w0, (numpy.zeros(shape),), gradients,
                   description, 6, {"lr": lr, "momentum": momentum}, path, None)


@register(
    id="07.nesterov", lesson="07", points=1, names=("nesterov_step",),
    reference=(reference_nesterov_step,),
    mutants={
        "plain momentum, no look-ahead": (_nesterov_plain_momentum,),
        "look-ahead with the old velocity": (_nesterov_old_velocity,),
        "look-ahead with the wrong sign": (_nesterov_wrong_sign,),
    },
    hint="velocity = momentum * velocity + grad; w = w - lr * (grad + momentum * velocity) with the NEW velocity.",
)
def check_nesterov(nesterov_step: Callable, rng: numpy.random.Generator) -> None:
    """Nesterov momentum, one step."""
    set_backend("numpy")
    for shape, kind in _cases():
        lr, momentum = float(rng.uniform(0.01, 0.2)), float(rng.choice([0.5, 0.9, 0.99]))
        gradients, description = _gradient_source(rng, shape, kind)
        w0 = rng.standard_normal(shape)
        path = _library_trajectory(lambda p, lr=lr, mu=momentum: SGD(p, lr=lr, momentum=mu, nesterov=True),
                                   w0, gradients, 6)
        _run_steps(nesterov_step, "nesterov_step", ("velocity",), w0, (numpy.zeros(shape),), gradients, description,
                   6, {"lr": lr, "momentum": momentum}, path, None)


@register(
    id="07.rmsprop", lesson="07", points=1, names=("rmsprop_step",),
    reference=(reference_rmsprop_step,),
    mutants={
        "square root missing": (_rmsprop_no_sqrt,),
        "alpha and 1 - alpha swapped": (_rmsprop_swapped,),
        "divides by the old average, updated afterwards": (_rmsprop_old_average,),
    },
    hint="square_avg = alpha * square_avg + (1 - alpha) * grad**2; w = w - lr * grad / (sqrt(square_avg) + eps).",
)
def check_rmsprop(rmsprop_step: Callable, rng: numpy.random.Generator) -> None:
    """RMSprop, one step."""
    set_backend("numpy")
    for shape, kind in _cases():
        lr, alpha = float(rng.uniform(0.001, 0.05)), float(rng.choice([0.9, 0.99]))
        eps = float(rng.choice([1e-8, 1e-3]))
        gradients, description = _gradient_source(rng, shape, kind)
        w0 = rng.standard_normal(shape)
        hyper = {"lr": lr, "alpha": alpha, "eps": eps}
        path = _library_trajectory(lambda p, h=hyper: RMSprop(p, **h), w0, gradients, 6)
        state0 = (numpy.zeros(shape),)
        states = _reference_states(reference_rmsprop_step, w0, state0, gradients, 6, hyper)
        _run_steps(rmsprop_step, "rmsprop_step", ("square_avg",), w0, state0, gradients, description, 6, hyper,
                   path, states)


def _check_adam_like(step_fn: Callable, name: str, reference: Callable, make: Callable, rng: numpy.random.Generator,
                     with_decay: bool, hint: str) -> None:
    set_backend("numpy")
    for i, (shape, kind) in enumerate(_cases()):
        hyper = {"lr": float(rng.choice([1e-3, 0.01, 0.1])), "beta1": float(rng.choice([0.9, 0.8])),
                 "beta2": float(rng.choice([0.999, 0.99])), "eps": 1e-8}
        if with_decay:
            hyper["weight_decay"] = float(rng.choice([0.01, 0.1, 0.5]))
        gradients, description = _gradient_source(rng, shape, kind)
        w0 = rng.standard_normal(shape) * 2
        t0 = 0 if i < 3 else int(rng.integers(3, 50))  # later cases start in the middle of training
        if t0 == 0:
            m0, v0 = numpy.zeros(shape), numpy.zeros(shape)
        else:
            m0, v0 = rng.standard_normal(shape), rng.uniform(0.1, 2.0, size=shape)
            description += f" (m and v from {t0} earlier steps)"
        library_hyper = {"lr": hyper["lr"], "betas": (hyper["beta1"], hyper["beta2"]), "eps": hyper["eps"],
                         "weight_decay": hyper.get("weight_decay", 0.0)}
        path = _library_trajectory(lambda p, h=library_hyper: make(p, **h), w0, gradients, 6,
                                   state={"exp_avg": m0, "exp_avg_sq": v0} if t0 else None, start_step=t0)
        states = _reference_states(reference, w0, (m0, v0), gradients, 6, hyper, t0=t0)
        _run_steps(step_fn, name, ("m", "v"), w0, (m0, v0), gradients, description, 6, hyper, path, states, t0=t0,
                   hint=hint)


@register(
    id="07.adam", lesson="07", points=2, names=("adam_step",),
    reference=(reference_adam_step,),
    mutants={
        "missing bias correction": (_adam_no_correction,),
        "bias correction with t starting at 0": (_adam_t_from_zero,),
        "bias correction with t + 1": (_adam_t_plus_one,),
        "square root of v_hat missing": (_adam_no_sqrt,),
        "beta1 and beta2 swapped": (_adam_swapped_betas,),
    },
    hint="m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g**2; m_hat = m / (1 - b1**t); v_hat = v / (1 - b2**t); "
         "w = w - lr * m_hat / (sqrt(v_hat) + eps). Return the new m and v, not m_hat and v_hat.",
)
def check_adam(adam_step: Callable, rng: numpy.random.Generator) -> None:
    """Adam, one step."""
    _check_adam_like(adam_step, "adam_step", reference_adam_step, Adam, rng, with_decay=False,
                     hint="t counts the steps from 1: on the first step 1 - beta1**t = 1 - beta1.")


@register(
    id="07.adamw", lesson="07", points=2, names=("adamw_step",),
    reference=(reference_adamw_step,),
    mutants={
        "weight decay inside the gradient (that is Adam with L2, not AdamW)": (_adamw_l2_in_gradient,),
        "weight decay not multiplied by the learning rate": (_adamw_decay_without_lr,),
        "no weight decay at all": (_adamw_no_decay,),
        "missing bias correction": (_adamw_no_correction,),
    },
    hint="Run Adam on grad alone (no weight-decay term in m or v), then also subtract lr * weight_decay * w, "
         "with w as it was before this step.",
)
def check_adamw(adamw_step: Callable, rng: numpy.random.Generator) -> None:
    """AdamW (decoupled weight decay), one step."""
    _check_adam_like(adamw_step, "adamw_step", reference_adamw_step, AdamW, rng, with_decay=True,
                     hint="The decay is decoupled: m and v see only grad, and w shrinks by lr * weight_decay * w "
                          "(the w from before the step).")


@register(
    id="07.cosine_with_warmup", lesson="07", points=2, names=("cosine_with_warmup",),
    reference=(reference_cosine_with_warmup,),
    mutants={
        "warm-up off by one: (step + 1) / W": (_cosine_warmup_off_by_one,),
        "cosine never reaches min_lr (progress over T instead of T - W)": (_cosine_over_total,),
        "decays to 0 instead of min_lr": (_cosine_to_zero,),
        "restarts after total_steps": (_cosine_restarts,),
        "keeps following the cosine after total_steps (climbs back up)": (_cosine_unclamped,),
    },
    hint="step < W: base_lr * step / W. Otherwise p = min(1, (step - W) / (T - W)) and "
         "lr = min_lr + (base_lr - min_lr) * (1 + cos(pi p)) / 2.",
)
def check_cosine_with_warmup(cosine_with_warmup: Callable, rng: numpy.random.Generator) -> None:
    """A cosine learning-rate schedule with a linear warm-up."""
    cases = [(100, 10, 0.1, 0.001), (50, 0, 1.0, 0.0), (20, 5, 3e-4, 1e-5), (7, 1, 0.5, 0.05),
             (int(rng.integers(30, 200)), int(rng.integers(1, 20)), float(rng.uniform(0.01, 1)), 0.0)]
    for total, warmup, base_lr, min_lr in cases:
        schedule = CosineAnnealing(None, total_steps=total, min_lr=min_lr, warmup_steps=warmup, base_lr=base_lr)
        landmarks = [0, 1, warmup - 1, warmup, warmup + 1, total - 1, total, total + 1, 2 * total + warmup]
        steps = dict.fromkeys([step for step in landmarks if step >= 0] + list(range(0, 3 * total, 3)))
        for step in steps:  # the landmarks first, so the feedback names the telling step
            what = (f"cosine_with_warmup(step={step}, total_steps={total}, warmup_steps={warmup}, "
                    f"base_lr={base_lr:g}, min_lr={min_lr:g})")
            got = cosine_with_warmup(step, total, warmup, base_lr, min_lr)
            try:
                value = float(as_host(got))
            except (TypeError, ValueError):
                raise CheckFailure(f"{what} returned {got!r}, not a number.") from None
            expected = schedule.lr_at(step)
            stage = ("during the warm-up" if step < warmup else "after total_steps: it should stay at min_lr"
                     if step > total else "at total_steps: the cosine should have reached min_lr"
                     if step == total else "in the cosine part")
            expect_close(value, expected, what=f"{what} ({stage})", rtol=1e-9, atol=1e-15)
