"""Learning-rate schedules: values at chosen steps against their closed forms, stepping an optimizer."""

from __future__ import annotations

import math

import numpy as np
import pytest

import coursepkg as cp
from coursepkg.nn.module import Parameter
from coursepkg.optim.schedules import CosineAnnealing, ExponentialLR, LinearWarmup, OneCycle, StepLR, lr_curve
from coursepkg.optim.sgd import SGD


def make_optimizer(lr: float = 0.1) -> SGD:
    return SGD([Parameter(cp.get_backend().zeros((2,)))], lr=lr)


def test_step_lr_closed_form():
    schedule = StepLR(None, step_size=3, gamma=0.5, base_lr=0.1)
    for step, expected in [(0, 0.1), (2, 0.1), (3, 0.05), (5, 0.05), (6, 0.025), (9, 0.0125)]:
        assert schedule.lr_at(step) == pytest.approx(expected, rel=1e-12)


def test_exponential_closed_form():
    schedule = ExponentialLR(None, gamma=0.9, base_lr=0.2)
    for step in (0, 1, 7, 30):
        assert schedule.lr_at(step) == pytest.approx(0.2 * 0.9**step, rel=1e-12)


def test_linear_warmup_closed_form():
    schedule = LinearWarmup(None, warmup_steps=4, start_factor=0.25, base_lr=0.1)
    assert schedule.lr_at(0) == pytest.approx(0.025)
    assert schedule.lr_at(2) == pytest.approx(0.1 * (0.25 + 0.75 * 2 / 4))
    assert schedule.lr_at(4) == pytest.approx(0.1)
    assert schedule.lr_at(100) == pytest.approx(0.1)


def test_cosine_closed_form_without_warmup():
    schedule = CosineAnnealing(None, total_steps=10, min_lr=0.01, base_lr=0.1)
    assert schedule.lr_at(0) == pytest.approx(0.1)
    assert schedule.lr_at(5) == pytest.approx(0.055)  # halfway: the mean of the two ends
    assert schedule.lr_at(10) == pytest.approx(0.01)
    assert schedule.lr_at(25) == pytest.approx(0.01)  # stays at the floor
    step = 3
    assert schedule.lr_at(step) == pytest.approx(0.01 + 0.09 * 0.5 * (1 + math.cos(math.pi * step / 10)))


def test_cosine_closed_form_with_warmup():
    schedule = CosineAnnealing(None, total_steps=12, min_lr=0.01, warmup_steps=2, base_lr=0.1)
    assert schedule.lr_at(0) == 0.0
    assert schedule.lr_at(1) == pytest.approx(0.05)
    assert schedule.lr_at(2) == pytest.approx(0.1)       # the peak, end of warm-up
    assert schedule.lr_at(7) == pytest.approx(0.055)     # halfway through the cosine part
    assert schedule.lr_at(12) == pytest.approx(0.01)
    values = lr_curve(schedule, 13)
    assert all(a >= b for a, b in zip(values[2:], values[3:]))  # decreasing after the warm-up


def test_one_cycle_closed_form():
    schedule = OneCycle(None, max_lr=1.0, total_steps=100, pct_start=0.3, div_factor=25.0, final_div_factor=1e4)
    assert schedule.lr_at(0) == pytest.approx(1.0 / 25)
    assert schedule.lr_at(29) == pytest.approx(1.0)                   # peak at pct_start * total - 1
    assert schedule.lr_at(99) == pytest.approx(1.0 / 25 / 1e4)       # the last step
    values = lr_curve(schedule, 100)
    assert np.all(np.diff(values[:30]) > 0) and np.all(np.diff(values[29:]) < 0)
    # halfway through the second phase the cosine is at the mean of max_lr and min_lr
    middle = 29 + (99 - 29) / 2
    assert schedule.lr_at(middle) == pytest.approx((1.0 + 1.0 / 25 / 1e4) / 2)


def test_step_sets_the_optimizer_lr():
    optimizer = make_optimizer(lr=0.1)
    schedule = CosineAnnealing(optimizer, total_steps=10, warmup_steps=3)
    assert optimizer.lr == 0.0  # building the schedule applies step 0
    seen = [optimizer.lr]
    for _ in range(12):
        returned = schedule.step()
        assert returned == optimizer.lr
        seen.append(optimizer.lr)
    assert seen == lr_curve(schedule, 13)
    assert schedule.base_lr == 0.1 and schedule.step_count == 12


def test_schedule_state_dict_resumes():
    optimizer = make_optimizer(lr=0.1)
    schedule = StepLR(optimizer, step_size=2, gamma=0.1)
    for _ in range(5):
        schedule.step()
    other = StepLR(make_optimizer(lr=0.1), step_size=2, gamma=0.1)
    other.load_state_dict(schedule.state_dict())
    assert other.optimizer.lr == optimizer.lr == pytest.approx(0.001)


def test_lr_curve_changes_nothing():
    optimizer = make_optimizer(lr=0.3)
    schedule = ExponentialLR(optimizer, gamma=0.5)
    values = lr_curve(schedule, 4)
    assert values == pytest.approx([0.3, 0.15, 0.075, 0.0375])
    assert optimizer.lr == 0.3 and schedule.step_count == 0


def test_bad_arguments_are_explained():
    with pytest.raises(ValueError, match="optimizer or a base_lr"):
        StepLR(None, step_size=2)
    with pytest.raises(ValueError, match="warmup_steps"):
        CosineAnnealing(None, total_steps=5, warmup_steps=5, base_lr=0.1)
    with pytest.raises(ValueError, match="step_size"):
        StepLR(None, step_size=0, base_lr=0.1)
    with pytest.raises(ValueError, match="pct_start"):
        OneCycle(None, max_lr=1.0, total_steps=10, pct_start=1.5)


def test_matches_torch_schedulers():
    torch = pytest.importorskip("torch")
    parameter = torch.zeros(1, requires_grad=True)

    def torch_values(make, steps):
        optimizer = torch.optim.SGD([parameter], lr=0.1)
        scheduler = make(optimizer)
        values = []
        for _ in range(steps):
            values.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            scheduler.step()
        return values

    cases = [
        (lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
         StepLR(None, step_size=3, gamma=0.5, base_lr=0.1), 12),
        (lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9),
         ExponentialLR(None, gamma=0.9, base_lr=0.1), 12),
        (lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.01),
         CosineAnnealing(None, total_steps=10, min_lr=0.01, base_lr=0.1), 11),
        (lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=50, cycle_momentum=False),
         OneCycle(None, max_lr=1.0, total_steps=50), 50),
        (lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=0.25, total_iters=4),
         LinearWarmup(None, warmup_steps=4, start_factor=0.25, base_lr=0.1), 8),
    ]
    for make, ours, steps in cases:
        np.testing.assert_allclose(lr_curve(ours, steps), torch_values(make, steps), rtol=1e-9)
