"""The optimizers' flat fast path (all parameters updated at once) equals the per-parameter path."""

from __future__ import annotations

import numpy as np
import pytest

import coursepkg as cp
from coursepkg import nn
from coursepkg.optim import SGD, Adam, AdamW, RMSprop
from coursepkg.optim import flat as flat_module
from coursepkg.optim.flat import FlatParameters

OPTIMIZERS = {
    "sgd_momentum": lambda ps: SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    "rmsprop": lambda ps: RMSprop(ps, lr=0.01, momentum=0.5, weight_decay=0.01),
    "adam": lambda ps: Adam(ps, lr=0.01, weight_decay=0.01),
    "adamw": lambda ps: AdamW(ps, lr=0.01, weight_decay=0.1),
}


def _model(seed: int) -> nn.Module:
    cp.set_backend("numpy", seed=seed)
    return nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 3))


def _train(make_optimizer, steps: int, flat: bool, monkeypatch, replace_at: int | None = None):
    if not flat:
        monkeypatch.setattr(FlatParameters, "usable", staticmethod(lambda params, states: False))
    model = _model(0)
    optimizer = make_optimizer(model.parameters())
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((16, 5)).astype(np.float32), rng.integers(0, 3, 16)
    for step in range(steps):
        if step == replace_at:  # p.data replaced behind the optimizer's back
            model.load_state_dict({k: cp.to_numpy(v).copy() for k, v in model.state_dict().items()})
        optimizer.zero_grad()
        cp.ops.cross_entropy(model(cp.Tensor(X)), y).backward()
        optimizer.step()
    monkeypatch.undo()
    return [cp.to_numpy(p.data).copy() for p in model.parameters()], optimizer


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("replace_at", [None, 3])
@pytest.mark.parametrize("piece_bytes", [flat_module.PIECE_BYTES, 52])
def test_flat_path_matches_per_parameter_path(name, replace_at, piece_bytes, monkeypatch):
    """Also in pieces of 13 numbers: 66 parameters make 5 whole pieces and a ragged one."""
    monkeypatch.setattr(flat_module, "PIECE_BYTES", piece_bytes)
    flat_params, flat_opt = _train(OPTIMIZERS[name], 8, True, monkeypatch, replace_at)
    plain_params, plain_opt = _train(OPTIMIZERS[name], 8, False, monkeypatch, replace_at)
    assert flat_opt._flat is not None and plain_opt._flat is None
    for a, b in zip(flat_params, plain_params):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    flat_state, plain_state = flat_opt.state_dict(), plain_opt.state_dict()
    assert flat_state.keys() == plain_state.keys()
    for key, value in plain_state.items():
        if hasattr(value, "shape"):
            assert flat_state[key].shape == value.shape
            np.testing.assert_allclose(flat_state[key], value, rtol=1e-6, atol=1e-7)
        else:
            assert flat_state[key] == value


def test_parameters_are_views_of_one_buffer_and_stay_in_place():
    model = _model(0)
    optimizer = Adam(model.parameters(), lr=0.01)
    flat = optimizer._flat.flat.data
    arrays = [p.data for p in model.parameters()]
    assert all(np.shares_memory(a, flat) for a in arrays)
    for p in model.parameters():
        p.grad = np.ones_like(p.data)
    optimizer.step()
    assert all(p.data is a for p, a in zip(model.parameters(), arrays))
    assert all(np.shares_memory(s["exp_avg"], optimizer._flat.state["exp_avg"]) for s in optimizer.state)


def test_a_parameter_without_gradient_falls_back_and_is_left_alone():
    model = _model(0)
    optimizer = SGD(model.parameters(), lr=0.1)
    frozen = model.parameters()[0]
    before = cp.to_numpy(frozen.data).copy()
    for p in model.parameters()[1:]:
        p.grad = np.ones_like(p.data)
    optimizer.step()
    np.testing.assert_array_equal(cp.to_numpy(frozen.data), before)
    assert optimizer._flat is None


def test_strict_backend_uses_the_per_parameter_path():
    with cp.use_backend("array_api_strict", device="device1"):
        model = nn.Linear(3, 2)
        optimizer = Adam(model.parameters())
        assert optimizer._flat is None


def test_updates_after_the_first_run_in_cache_sized_pieces(monkeypatch):
    monkeypatch.setattr(flat_module, "PIECE_BYTES", 40)  # 10 float32 numbers per piece
    model = _model(0)
    optimizer = Adam(model.parameters(), lr=0.01)
    calls = []
    update = optimizer.update
    monkeypatch.setattr(optimizer, "update", lambda p, g, s: calls.append(p.data.shape) or update(p, g, s))
    for p in model.parameters():
        p.grad = np.ones_like(p.data)
    optimizer.step()
    assert calls == [(66,)]  # the first update, which creates m and v, sees the whole arrays
    calls.clear()
    optimizer.step()
    assert calls == [(10,)] * 6 + [(6,)]
    assert optimizer.state[0]["step"] == 2
    monkeypatch.setattr(flat_module, "PIECE_BYTES", 66 * 4)  # all of it fits in one piece: no slicing
    calls.clear()
    optimizer.step()
    assert calls == [(66,)]


def test_subnormal_state_values_are_flushed_to_zero(monkeypatch):
    """Where the gradient stays zero, Adam's m sinks into float32's slow subnormal range and gets
    stuck there (0.9 x the smallest subnormal rounds back to itself); the flat path zeroes it."""
    monkeypatch.setattr(flat_module, "FLUSH_EVERY", 3)
    model = _model(0)
    optimizer = Adam(model.parameters(), lr=0.01)
    for p in model.parameters():
        p.grad = np.ones_like(p.data)
    optimizer.step()
    m = optimizer._flat.state["exp_avg"]
    smallest_subnormal = np.float32(1.4e-45)
    m[:10] = smallest_subnormal
    m[10] = -smallest_subnormal
    for p in model.parameters():
        p.grad = np.zeros_like(p.data)
    optimizer.step()
    assert np.all(m[:10] == smallest_subnormal)  # stuck: 0.9 x it rounds back to it
    optimizer.step()  # the third update flushes
    assert np.all(m[:11] == 0) and np.all(np.abs(m[11:]) >= np.finfo(np.float32).smallest_normal)
    assert np.all(optimizer.state[0]["exp_avg"].reshape(-1)[:11] == 0)  # the per-parameter views agree


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_flushing_every_step_keeps_the_per_parameter_results(name, monkeypatch):
    monkeypatch.setattr(flat_module, "FLUSH_EVERY", 1)
    monkeypatch.setattr(flat_module, "PIECE_BYTES", 52)
    flat_params, _ = _train(OPTIMIZERS[name], 12, True, monkeypatch)
    plain_params, _ = _train(OPTIMIZERS[name], 12, False, monkeypatch)
    for a, b in zip(flat_params, plain_params):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
