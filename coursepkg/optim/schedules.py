"""Learning-rate schedules: how the learning rate changes as training goes.

Every schedule is a small object with two methods:

- ``lr_at(step)``: the learning rate at a given step, a pure function (handy for plots);
- ``step()``: move to the next step and set ``optimizer.lr`` accordingly.

Step 0 is the first update: building a schedule sets ``optimizer.lr = lr_at(0)`` at once.
Call ``scheduler.step()`` after every ``optimizer.step()``; the step is whatever unit you
step in (``fit(..., scheduler=s)`` steps after every batch, the ``LearningRateScheduler``
callback after every epoch).

``base_lr`` is the learning rate the schedule scales; by default the optimizer's ``lr`` at the
moment the schedule is built. To plot a schedule without an optimizer, pass
``optimizer=None`` and a ``base_lr``::

    schedule = CosineAnnealing(None, total_steps=100, warmup_steps=10, base_lr=0.1)
    lrs = lr_curve(schedule, 100)        # a list of 100 floats
"""

from __future__ import annotations

import math
from typing import Any


class Schedule:
    """Base class. Subclasses define ``lr_at(step)``.

    Inputs:
    - optimizer: the optimizer whose ``lr`` to set, or None (only to compute values).
    - base_lr: the learning rate to scale; None means ``optimizer.lr``.

    Attributes: ``optimizer``, ``base_lr``, ``step_count`` (the current step, 0 at first).
    """

    def __init__(self, optimizer: Any = None, base_lr: float | None = None) -> None:
        if base_lr is None:
            if optimizer is None:
                raise ValueError(f"{type(self).__name__}: give an optimizer or a base_lr.")
            base_lr = optimizer.lr
        self.optimizer = optimizer
        self.base_lr = float(base_lr)
        self.step_count = 0
        self._apply()

    def lr_at(self, step: int) -> float:
        """The learning rate at ``step`` (0 is the first update)."""
        raise NotImplementedError

    def step(self) -> float:
        """Advance one step, set ``optimizer.lr`` and return the new learning rate."""
        self.step_count += 1
        return self._apply()

    def _apply(self) -> float:
        lr = self.lr_at(self.step_count)
        if self.optimizer is not None:
            self.optimizer.lr = lr
        return lr

    def state_dict(self) -> dict[str, Any]:
        """The position in the schedule, to save in a checkpoint."""
        return {"step_count": self.step_count, "base_lr": self.base_lr}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.step_count, self.base_lr = int(state["step_count"]), float(state["base_lr"])
        self._apply()


def _check_positive(owner: str, **values: float) -> None:
    for name, value in values.items():
        if not value > 0:
            raise ValueError(f"{owner}: {name} must be positive, got {value}.")


class StepLR(Schedule):
    """Multiply the learning rate by ``gamma`` every ``step_size`` steps.

    lr(step) = base_lr * gamma ^ floor(step / step_size)
    """

    def __init__(self, optimizer: Any, step_size: int, gamma: float = 0.1, base_lr: float | None = None) -> None:
        _check_positive("StepLR", step_size=step_size, gamma=gamma)
        self.step_size, self.gamma = int(step_size), float(gamma)
        super().__init__(optimizer, base_lr)

    def lr_at(self, step: int) -> float:
        return self.base_lr * self.gamma ** (step // self.step_size)


class ExponentialLR(Schedule):
    """Multiply the learning rate by ``gamma`` every step.

    lr(step) = base_lr * gamma ^ step
    """

    def __init__(self, optimizer: Any, gamma: float, base_lr: float | None = None) -> None:
        _check_positive("ExponentialLR", gamma=gamma)
        self.gamma = float(gamma)
        super().__init__(optimizer, base_lr)

    def lr_at(self, step: int) -> float:
        return self.base_lr * self.gamma**step


def _warmup_factor(step: int, warmup_steps: int, start_factor: float) -> float:
    """Linear ramp from ``start_factor`` at step 0 to 1 at step ``warmup_steps``."""
    if step >= warmup_steps:
        return 1.0
    return start_factor + (1.0 - start_factor) * step / warmup_steps


class LinearWarmup(Schedule):
    """Ramp the learning rate up linearly, then hold it (PyTorch's ``LinearLR``).

    lr(step) = base_lr * (start_factor + (1 - start_factor) * step / warmup_steps)  for step < warmup_steps
             = base_lr                                                              afterwards

    Warm-up keeps the first updates small while Adam's running averages (and the weights)
    are still far from reasonable values.
    """

    def __init__(self, optimizer: Any, warmup_steps: int, start_factor: float = 0.0,
                 base_lr: float | None = None) -> None:
        _check_positive("LinearWarmup", warmup_steps=warmup_steps)
        if not 0.0 <= start_factor <= 1.0:
            raise ValueError(f"LinearWarmup: start_factor must be in [0, 1], got {start_factor}.")
        self.warmup_steps, self.start_factor = int(warmup_steps), float(start_factor)
        super().__init__(optimizer, base_lr)

    def lr_at(self, step: int) -> float:
        return self.base_lr * _warmup_factor(step, self.warmup_steps, self.start_factor)


class CosineAnnealing(Schedule):
    """Cosine decay from base_lr to min_lr over ``total_steps``, after an optional linear warm-up
    (Loshchilov & Hutter, SGDR, 2017, without restarts).

    With W = warmup_steps and T = total_steps::

        lr(step) = base_lr * step / W                                    for step < W
        lr(step) = min_lr + (base_lr - min_lr) * (1 + cos(pi * p)) / 2   for W <= step <= T,
                   where p = (step - W) / (T - W) goes from 0 to 1
        lr(step) = min_lr                                                for step > T
    """

    def __init__(self, optimizer: Any, total_steps: int, min_lr: float = 0.0, warmup_steps: int = 0,
                 base_lr: float | None = None) -> None:
        _check_positive("CosineAnnealing", total_steps=total_steps)
        if not 0 <= warmup_steps < total_steps:
            raise ValueError(f"CosineAnnealing: warmup_steps must be in [0, total_steps={total_steps}), "
                             f"got {warmup_steps}.")
        self.total_steps, self.min_lr, self.warmup_steps = int(total_steps), float(min_lr), int(warmup_steps)
        super().__init__(optimizer, base_lr)

    def lr_at(self, step: int) -> float:
        if step < self.warmup_steps:
            return self.base_lr * _warmup_factor(step, self.warmup_steps, 0.0)
        progress = min(1.0, (step - self.warmup_steps) / (self.total_steps - self.warmup_steps))
        return self.min_lr + (self.base_lr - self.min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))


class OneCycle(Schedule):
    """The one-cycle policy (Smith & Topin, 2019), as ``torch.optim.lr_scheduler.OneCycleLR``
    (two phases, cosine annealing, no momentum cycling).

    The learning rate rises from initial_lr = max_lr / div_factor to max_lr over the first
    pct_start of the steps, then falls to min_lr = initial_lr / final_div_factor at the last
    step (total_steps - 1). Each phase is a half cosine::

        anneal(a, b, p) = b + (a - b) * (1 + cos(pi * p)) / 2       (a at p = 0, b at p = 1)
        P = pct_start * total_steps - 1                             (the peak step)
        lr(step) = anneal(initial_lr, max_lr, step / P)                            for step <= P
        lr(step) = anneal(max_lr, min_lr, (step - P) / (total_steps - 1 - P))      afterwards

    ``base_lr`` is max_lr here; steps beyond total_steps - 1 stay at min_lr.
    """

    def __init__(self, optimizer: Any, max_lr: float, total_steps: int, pct_start: float = 0.3,
                 div_factor: float = 25.0, final_div_factor: float = 1e4) -> None:
        _check_positive("OneCycle", max_lr=max_lr, total_steps=total_steps, div_factor=div_factor,
                        final_div_factor=final_div_factor)
        if not 0.0 < pct_start < 1.0:
            raise ValueError(f"OneCycle: pct_start must be in (0, 1), got {pct_start}.")
        self.total_steps, self.pct_start = int(total_steps), float(pct_start)
        self.initial_lr = max_lr / div_factor
        self.min_lr = self.initial_lr / final_div_factor
        self.peak_step = pct_start * total_steps - 1.0
        if self.peak_step <= 0 or self.peak_step >= total_steps - 1:
            raise ValueError(f"OneCycle: pct_start={pct_start} with total_steps={total_steps} leaves no room "
                             "for one of the two phases; use more steps.")
        super().__init__(optimizer, base_lr=max_lr)

    @staticmethod
    def _anneal(start: float, end: float, progress: float) -> float:
        return end + (start - end) * 0.5 * (1.0 + math.cos(math.pi * progress))

    def lr_at(self, step: int) -> float:
        if step <= self.peak_step:
            return self._anneal(self.initial_lr, self.base_lr, step / self.peak_step)
        progress = min(1.0, (step - self.peak_step) / (self.total_steps - 1 - self.peak_step))
        return self._anneal(self.base_lr, self.min_lr, progress)


def lr_curve(schedule: Schedule, num_steps: int) -> list[float]:
    """The learning rates at steps 0, 1, ..., num_steps - 1 (for plots); changes nothing.

    Inputs:
    - schedule: any schedule (built with an optimizer or with ``optimizer=None, base_lr=...``).
    - num_steps: how many steps.
    Returns: a list of num_steps floats.
    """
    return [schedule.lr_at(step) for step in range(num_steps)]
