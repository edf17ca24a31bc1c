"""Lesson 14, scaling up on a GPU: the graded questions.

- ``train_step(model, optimizer, X_batch, y_batch) -> float``: one training step that runs on
  whichever backend the model and the batch live on. Checked on NumPy and on ``array_api_strict``
  on the fake device "device1" (a stand-in for a GPU that refuses NumPy calls on its arrays), whose
  backend records every host array it is asked to move to the device, so a step that sends the
  batch to the host and back is caught too. The parameters after two steps are compared with a
  clone trained by the reference, and every parameter starts with a stale gradient, so a step
  that forgets ``zero_grad()`` moves them wrongly.
- ``time_fn(fn, repeats, warmup, synchronize, clock) -> median seconds``: a fair timer. Checked on
  a pretend device with a virtual clock: ``fn()`` only *queues* its work (it advances the clock
  by a tiny launch time) and ``synchronize()`` advances the clock by the queued work, as a GPU
  does. The first calls are slow (warm-up) and one repeat is an outlier (another process took
  the machine), so a timer without warm-up, without synchronization, with the mean or with one
  synchronization at the end returns a number that differs from the right one.
"""

from __future__ import annotations

import numbers
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy

from coursepkg import nn, ops
from coursepkg.backend import Backend, set_backend, to_numpy
from coursepkg.exercises.question import CheckFailure, describe_inputs, expect, expect_close, register
from coursepkg.optim import SGD, Adam
from coursepkg.tensor import Tensor

FAKE_DEVICE = "device1"


# ----------------------------------------------------------------------------- reference solutions
def reference_train_step(model: nn.Module, optimizer: Any, X_batch: Any, y_batch: Any) -> float:
    """One step of training with the mean softmax cross-entropy, on the backend the data lives on.

    Inputs:
    - model: a Module mapping a Tensor (B, D) to logits (B, C), its parameters on the same
      backend and device as the batch.
    - optimizer: an Optimizer built on the model's parameters.
    - X_batch: array of shape (B, D); y_batch: int array of shape (B,), values in [0, C). Both are
      arrays of the backend (NumPy, CuPy, array_api_strict), never converted.
    Returns: the batch's loss *before* the update, as a Python float (one number to the host).
    """
    optimizer.zero_grad()
    loss = ops.cross_entropy(model(Tensor(X_batch)), y_batch)
    loss.backward()
    optimizer.step()
    return loss.item()


def reference_time_fn(fn: Callable[[], Any], repeats: int = 10, warmup: int = 2,
                      synchronize: Callable[[], None] | None = None,
                      clock: Callable[[], float] = time.perf_counter) -> float:
    """The median time of ``fn()`` in seconds, measured fairly.

    Inputs:
    - fn: the code to time, called with no arguments.
    - repeats: how many timed calls (>= 1).
    - warmup: how many untimed calls first (>= 0): they pay one-time costs (allocation, caches,
      compilation) that a steady training loop does not.
    - synchronize: waits until queued device work is done (``backend.synchronize``), or None on the CPU.
    - clock: returns the current time in seconds (``time.perf_counter``).
    Returns: the median of the ``repeats`` durations, a Python float.
    """
    wait = synchronize if synchronize is not None else (lambda: None)
    for _ in range(warmup):
        fn()
    durations = []
    for _ in range(repeats):
        wait()  # nothing queued before the clock starts (the warm-up's work included)
        start = clock()
        fn()
        wait()  # the work fn queued is done before the clock stops
        durations.append(clock() - start)
    return float(statistics.median(durations))


# ----------------------------------------------------------------------------- planted wrong answers: train_step
def _step_via_numpy(model, optimizer, X_batch, y_batch):
    optimizer.zero_grad()
    X_host, y_host = numpy.asarray(X_batch), numpy.asarray(y_batch)  # the planted bug: NumPy calls on device data
    loss = ops.cross_entropy(model(Tensor(X_host)), y_host)
    loss.backward()
    optimizer.step()
    return loss.item()


def _step_round_trip(model, optimizer, X_batch, y_batch):
    optimizer.zero_grad()
    loss = ops.cross_entropy(model(Tensor(to_numpy(X_batch))), y_batch)  # host and back, every step
    loss.backward()
    optimizer.step()
    return loss.item()


def _step_without_zero_grad(model, optimizer, X_batch, y_batch):
    loss = ops.cross_entropy(model(Tensor(X_batch)), y_batch)
    loss.backward()
    optimizer.step()
    return loss.item()


def _step_returns_tensor(model, optimizer, X_batch, y_batch):
    optimizer.zero_grad()
    loss = ops.cross_entropy(model(Tensor(X_batch)), y_batch)
    loss.backward()
    optimizer.step()
    return loss


def _step_before_backward(model, optimizer, X_batch, y_batch):
    optimizer.zero_grad()
    loss = ops.cross_entropy(model(Tensor(X_batch)), y_batch)
    optimizer.step()
    loss.backward()
    return loss.item()


# ----------------------------------------------------------------------------- planted wrong answers: time_fn
def _timer_variant(*, warm: bool = True, sync_each: bool = True, sync_once: bool = False, summary: str = "median",
                   own_clock: bool = False) -> Callable:
    def time_fn(fn, repeats=10, warmup=2, synchronize=None, clock=time.perf_counter):
        wait = synchronize if synchronize is not None else (lambda: None)
        read = time.perf_counter if own_clock else clock
        for _ in range(warmup if warm else 0):
            fn()
        durations = []
        for _ in range(repeats):
            if sync_each:
                wait()
            start = read()
            fn()
            if sync_each:
                wait()
            durations.append(read() - start)
        if sync_once:
            wait()
            durations[-1] = read() - start
        return float(statistics.median(durations) if summary == "median" else statistics.fmean(durations))

    return time_fn


# ----------------------------------------------------------------------------- the spies
class _TransferSpyBackend(Backend):
    """A Backend that records every host (NumPy) array it is asked to move to its device."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.moved: list[numpy.ndarray] = []

    def asarray(self, data: Any, dtype: Any = None) -> Any:
        if isinstance(data, numpy.ndarray):
            self.moved.append(data)
        return super().asarray(data, dtype)


class _PretendDevice:
    """An accelerator with a virtual clock, to check a timer without timing anything real.

    ``fn()`` queues ``durations[k]`` seconds of work (k counts the calls) and returns after a tiny
    launch time; ``synchronize()`` waits for the queue; ``clock()`` reads the virtual time. With
    ``asynchronous=False`` it is a CPU: ``fn()`` itself takes the time.
    """

    LAUNCH = 2e-6

    def __init__(self, durations: list[float], asynchronous: bool) -> None:
        self.durations, self.asynchronous = durations, asynchronous
        self.now, self.queued, self.calls, self.syncs, self.reads = 100.0, 0.0, 0, 0, 0

    def fn(self) -> None:
        work = self.durations[min(self.calls, len(self.durations) - 1)]
        self.calls += 1
        if self.asynchronous:
            self.now += self.LAUNCH
            self.queued += work
        else:
            self.now += work

    def synchronize(self) -> None:
        self.syncs += 1
        self.now += self.queued
        self.queued = 0.0

    def clock(self) -> float:
        self.reads += 1
        return self.now


# ----------------------------------------------------------------------------- helpers
def _call(function: Callable, what: str, *args: Any, hint: str = "", **kwargs: Any) -> Any:
    """Call the learner's function; an exception becomes feedback that names the call."""
    try:
        return function(*args, **kwargs)
    except (NotImplementedError, CheckFailure):
        raise
    except Exception as error:  # noqa: BLE001  (whatever goes wrong is the learner's feedback)
        raise CheckFailure(f"{what} raised {type(error).__name__}: {error}" + (f" {hint}" if hint else "")) from None


def _mlp(sizes: tuple[int, ...], seed: int, backend: Backend) -> nn.Sequential:
    backend.seed(seed)
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip(sizes[:-2], sizes[1:-1]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(sizes[-2], sizes[-1]))


def _optimizer(name: str, model: nn.Module) -> Any:
    return SGD(model.parameters(), lr=0.1, momentum=0.9) if name == "SGD" else Adam(model.parameters(), lr=0.01)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


# ----------------------------------------------------------------------------- question 1: train_step
HOST_HINT = ("Leave the batch where it is: cp.Tensor(X_batch) wraps the backend array as it is, and "
             "ops.cross_entropy accepts y_batch as it is. No np.asarray, no to_numpy on the data.")


@register(
    id="14.train_step", lesson="14", points=3, names=("train_step",),
    reference=(reference_train_step,),
    mutants={
        "converts the batch to NumPy (a host transfer; fails on a GPU)": (_step_via_numpy,),
        "copies the batch to the host and back every step": (_step_round_trip,),
        "forgets optimizer.zero_grad()": (_step_without_zero_grad,),
        "returns the loss Tensor, not a float": (_step_returns_tensor,),
        "steps before backward()": (_step_before_backward,),
    },
    hint="optimizer.zero_grad(); loss = ops.cross_entropy(model(cp.Tensor(X_batch)), y_batch); loss.backward(); "
         "optimizer.step(); return loss.item().",
)
def check_train_step(train_step: Callable, rng: numpy.random.Generator) -> None:
    """One training step on whichever backend the data lives on."""
    cases = [("numpy", (5, 8, 3), 6, "SGD"), ("numpy", (4, 6, 6, 2), 1, "Adam"),
             ("array_api_strict", (5, 7, 4), 8, "SGD"), ("array_api_strict", (3, 6, 5, 3), 1, "Adam")]
    for library, sizes, batch, optimizer_name in cases:
        device = FAKE_DEVICE if library == "array_api_strict" else None
        backend = set_backend(_TransferSpyBackend(library, seed=0, device=device))
        where = "NumPy arrays" if device is None else f"array_api_strict arrays on device {FAKE_DEVICE!r}"
        seed = int(rng.integers(1 << 30))
        model, twin = _mlp(sizes, seed, backend), _mlp(sizes, seed, backend)
        optimizer, twin_optimizer = _optimizer(optimizer_name, model), _optimizer(optimizer_name, twin)
        name = f"an MLP {sizes} with {optimizer_name}"
        for step in (1, 2):
            X_host = rng.standard_normal((batch, sizes[0])).astype(numpy.float32)
            y_host = rng.integers(0, sizes[-1], size=batch)
            X_batch, y_batch = backend.asarray(X_host), backend.asarray(y_host)
            for p in model.parameters():  # stale gradients, as a previous step leaves them
                p.grad = backend.randn(tuple(p.shape))
            expected = reference_train_step(twin, twin_optimizer, X_batch, y_batch)
            what = (f"train_step(model, optimizer, X_batch, y_batch), step {step}, for {name} and a batch of "
                    f"{where} ({describe_inputs(X_batch=X_host, y_batch=y_host)})")
            backend.moved.clear()
            got = _call(train_step, what, model, optimizer, X_batch, y_batch,
                        hint=HOST_HINT if device is not None else "")
            moved = [a for a in backend.moved if a.shape == X_host.shape or
                     (a.shape == y_host.shape and numpy.array_equal(a, y_host))]
            expect(not moved, f"{what}: the batch went to the host and back to the device (an array of shape "
                              f"{moved[0].shape if moved else ''} was sent to the device during the step). "
                              + HOST_HINT)
            expect(numpy.array_equal(to_numpy(X_batch), X_host) and numpy.array_equal(to_numpy(y_batch), y_host),
                   f"{what} changed the batch; leave X_batch and y_batch as they are.")
            expect(got is not None, f"{what} returned None; return the loss as a Python float (loss.item()).")
            expect(_is_number(got),
                   f"{what} returned a {type(got).__module__}.{type(got).__name__}, not a number. Return "
                   "loss.item(): one Python float, the only thing a step sends back to the host.")
            expect_close(float(got), expected, rtol=1e-5, atol=1e-7,
                         what=f"{what}: the returned loss (the batch's loss before the update)")
            for i, (p, q) in enumerate(zip(model.parameters(), twin.parameters())):
                expect_close(to_numpy(p.data), to_numpy(q.data), rtol=1e-5, atol=1e-6,
                             what=f"{what}: parameter {i} (shape {tuple(p.shape)}) after the step",
                             hint="Every parameter starts with a stale gradient from an earlier step: call "
                                  "optimizer.zero_grad() first, then forward, loss.backward(), optimizer.step().")


# ----------------------------------------------------------------------------- question 2: time_fn
def _durations(rng: numpy.random.Generator, warmup: int, repeats: int) -> list[float]:
    """Slow warm-up calls, then timed calls around 1-5 ms with the first the fastest and one outlier."""
    slow = list(rng.uniform(0.02, 0.05, size=warmup))
    timed = sorted(rng.uniform(1e-3, 5e-3, size=repeats))
    rest = list(rng.permutation(timed[1:])) if repeats > 1 else []
    if repeats >= 3:
        rest[int(rng.integers(len(rest)))] = 0.08  # an outlier: another process took the machine
    return slow + [timed[0]] + rest


@register(
    id="14.time_fn", lesson="14", points=3, names=("time_fn",),
    reference=(reference_time_fn,),
    mutants={
        "no warm-up": (_timer_variant(warm=False),),
        "no synchronize (measures the launch only)": (_timer_variant(sync_each=False),),
        "mean instead of median": (_timer_variant(summary="mean"),),
        "synchronizes only once, after the last repeat": (_timer_variant(sync_each=False, sync_once=True),),
        "reads time.perf_counter instead of the clock it is given": (_timer_variant(own_clock=True),),
    },
    hint="Call fn() warmup times; then for each repeat: synchronize(), start = clock(), fn(), synchronize(), "
         "append clock() - start; return the median (skip synchronize when it is None).",
)
def check_time_fn(time_fn: Callable, rng: numpy.random.Generator) -> None:
    """A fair timer: warm-up, synchronize, median."""
    cases = [(True, 5, 2), (True, 7, 3), (False, 5, 1), (True, 3, 1), (False, 1, 0), (True, 1, 0)]
    for asynchronous, repeats, warmup in cases:
        durations = _durations(rng, warmup, repeats)
        device = _PretendDevice(durations, asynchronous)
        synchronize = device.synchronize if asynchronous else None
        launch = device.LAUNCH if asynchronous else 0.0
        timed = durations[warmup:warmup + repeats]
        expected = statistics.median(timed) + launch
        kind = ("a pretend GPU (fn() only queues its work; synchronize() waits for it)" if asynchronous
                else "a CPU (fn() does its work before returning; synchronize=None)")
        what = (f"time_fn(fn, repeats={repeats}, warmup={warmup}, synchronize="
                f"{'device.synchronize' if asynchronous else 'None'}, clock=device.clock) on {kind}, where the "
                f"calls take {[round(float(d) * 1e3, 2) for d in durations]} ms")
        got = _call(time_fn, what, device.fn, repeats=repeats, warmup=warmup, synchronize=synchronize,
                    clock=device.clock,
                    hint="" if asynchronous else "With synchronize=None there is nothing to wait for: skip it.")
        expect(got is not None, f"{what} returned None; did you forget `return`?")
        expect(_is_number(got), f"{what} returned a {type(got).__name__}; return one number of seconds.")
        expect(device.reads > 0, f"{what}: the clock argument was never called; read the time with clock() "
                                 "(the check passes a clock it controls; in real use it is time.perf_counter).")
        expect(device.calls == warmup + repeats,
               f"{what}: fn was called {device.calls} times, expected warmup + repeats = {warmup + repeats} "
               f"({warmup} untimed warm-up calls first, then {repeats} timed ones).")
        if numpy.isclose(float(got), expected, rtol=1e-6, atol=1e-12):
            continue
        message = f"{what}: returned {float(got):.6g} s, expected {expected:.6g} s, the median of the timed calls."
        diagnoses = [
            (launch * 1.5 > float(got) > 0, " That is about the launch time alone: the clock stopped before the "
                                           "queued work was done. Call synchronize() before reading the clock."),
            (numpy.isclose(float(got), statistics.fmean(timed) + launch, rtol=1e-6),
             " That is the mean: one slow outlier drags it; return the median."),
            (repeats > 1 and numpy.isclose(float(got), statistics.median(
                [timed[0] + sum(durations[:warmup])] + timed[1:]) + launch, rtol=1e-6),
             " The first timed call included the warm-up's queued work: synchronize before starting the clock."),
        ]
        raise CheckFailure(message + next((text for matched, text in diagnoses if matched), ""))
