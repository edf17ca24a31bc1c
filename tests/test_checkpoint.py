"""Checkpoints: round trips (also across backends), exact resumption, atomic writes, no pickles,
and clear errors on mismatched models."""

from __future__ import annotations

import os

import numpy as np
import pytest

import coursepkg as cp
from coursepkg import ops
from coursepkg.nn.container import Sequential
from coursepkg.nn.linear import Linear
from coursepkg.nn.module import Module
from coursepkg.optim.adam import Adam
from coursepkg.optim.sgd import SGD
from coursepkg.train.checkpoint import load_checkpoint, save_checkpoint


class WithBuffer(Module):
    def __init__(self) -> None:
        super().__init__()
        self.layer = Linear(3, 2)
        self.register_buffer("running_mean", cp.get_backend().asarray(np.array([0.5, -1.5])))

    def forward(self, x):
        return self.layer(x)


def host_state(model) -> dict[str, np.ndarray]:
    return {k: cp.to_numpy(v).copy() for k, v in model.state_dict().items()}


def train_steps(model, optimizer, batches) -> None:
    for x, y in batches:
        optimizer.zero_grad()
        ops.mse_loss(model(cp.Tensor(cp.get_backend().asarray(x))), cp.get_backend().asarray(y)).backward()
        optimizer.step()


def make_batches(count: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((8, 3)), rng.standard_normal((8, 2))) for _ in range(count)]


def test_round_trip_restores_model_optimizer_and_metadata(backend, tmp_path):
    model = Sequential(Linear(3, 4), Linear(4, 2))
    optimizer = Adam(model.parameters(), lr=0.01, betas=(0.8, 0.9))
    train_steps(model, optimizer, make_batches(3))
    path = save_checkpoint(tmp_path / "run" / "ckpt.npz", model, optimizer, epoch=7,
                           extra={"val_loss": np.float32(0.25), "note": "hello", "sizes": [1, 2]})
    assert path.exists()

    cp.seed(123)
    fresh = Sequential(Linear(3, 4), Linear(4, 2))
    fresh_optimizer = Adam(fresh.parameters(), lr=0.5)
    metadata = load_checkpoint(path, fresh, fresh_optimizer)
    assert metadata["epoch"] == 7
    assert metadata["extra"] == {"val_loss": pytest.approx(0.25), "note": "hello", "sizes": [1, 2]}
    assert metadata["model_class"] == "Sequential" and metadata["optimizer_class"] == "Adam"
    for (name, a), (_, b) in zip(model.state_dict().items(), fresh.state_dict().items()):
        np.testing.assert_array_equal(cp.to_numpy(a), cp.to_numpy(b), err_msg=name)
        assert type(b) is type(a) and b.dtype == a.dtype
    assert fresh_optimizer.lr == 0.01 and fresh_optimizer.betas == (0.8, 0.9)
    for i in range(len(model.parameters())):
        assert fresh_optimizer.state[i]["step"] == 3
        np.testing.assert_array_equal(cp.to_numpy(fresh_optimizer.state[i]["exp_avg_sq"]),
                                      cp.to_numpy(optimizer.state[i]["exp_avg_sq"]))


def test_buffers_are_saved(tmp_path):
    model = WithBuffer()
    save_checkpoint(tmp_path / "b.npz", model)
    other = WithBuffer()
    other.register_buffer("running_mean", cp.get_backend().zeros((2,)))
    load_checkpoint(tmp_path / "b.npz", other)
    np.testing.assert_array_equal(cp.to_numpy(other._buffers["running_mean"]), [0.5, -1.5])


def test_save_on_numpy_load_on_strict_and_back(tmp_path):
    cp.seed(0)
    model = Linear(3, 2)
    optimizer = SGD(model, lr=0.1, momentum=0.9)
    train_steps(model, optimizer, make_batches(2))
    expected = host_state(model)
    save_checkpoint(tmp_path / "numpy.npz", model, optimizer, epoch=1)

    with cp.use_backend("array_api_strict", device="device1") as strict:
        on_device = Linear(3, 2)
        strict_optimizer = SGD(on_device, lr=0.1, momentum=0.9)
        load_checkpoint(tmp_path / "numpy.npz", on_device, strict_optimizer)
        for p in on_device.parameters():
            assert p.data.device == strict.device
        assert strict_optimizer.state[0]["momentum_buffer"].device == strict.device
        for name, array in on_device.state_dict().items():
            np.testing.assert_array_equal(cp.to_numpy(array), expected[name])
        train_steps(on_device, strict_optimizer, make_batches(2, seed=1))  # keeps training on the device
        trained_on_strict = host_state(on_device)
        save_checkpoint(tmp_path / "strict.npz", on_device, strict_optimizer, epoch=2)

    back = Linear(3, 2)
    back_optimizer = SGD(back, lr=0.1, momentum=0.9)
    assert load_checkpoint(tmp_path / "strict.npz", back, back_optimizer)["backend"] == "array_api_strict"
    for name, array in back.state_dict().items():
        assert isinstance(array, np.ndarray)
        np.testing.assert_array_equal(array, trained_on_strict[name])


def test_resuming_from_a_checkpoint_is_exact(backend, tmp_path):
    batches = make_batches(10)
    cp.seed(0)
    straight = Linear(3, 2)
    optimizer = Adam(straight, lr=0.01)
    train_steps(straight, optimizer, batches)

    cp.seed(0)
    first = Linear(3, 2)
    optimizer = Adam(first, lr=0.01)
    train_steps(first, optimizer, batches[:5])
    save_checkpoint(tmp_path / "half.npz", first, optimizer, epoch=5)
    cp.seed(7)
    resumed = Linear(3, 2)
    resumed_optimizer = Adam(resumed, lr=0.01)
    load_checkpoint(tmp_path / "half.npz", resumed, resumed_optimizer)
    train_steps(resumed, resumed_optimizer, batches[5:])
    for name, array in straight.state_dict().items():
        np.testing.assert_array_equal(cp.to_numpy(resumed.state_dict()[name]), cp.to_numpy(array))


@pytest.mark.parametrize("failing", ["numpy.savez", "os.replace"])
def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch, failing):
    path = tmp_path / "ckpt.npz"
    model = Linear(3, 2)
    save_checkpoint(path, model, epoch=1)
    old_bytes = path.read_bytes()

    def broken_savez(file, **arrays):
        file.write(b"half a checkpoint")
        raise OSError("disk full")

    def broken_replace(source, target):
        raise OSError("disk full")

    if failing == "numpy.savez":
        monkeypatch.setattr(np, "savez", broken_savez)
    else:
        monkeypatch.setattr(os, "replace", broken_replace)
    model.weight.data = model.weight.data * 2
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, model, epoch=2)
    monkeypatch.undo()

    assert path.read_bytes() == old_bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.npz"]
    assert load_checkpoint(path, Linear(3, 2))["epoch"] == 1


def test_unserializable_extra_writes_nothing(tmp_path):
    with pytest.raises(TypeError, match="extra may hold only"):
        save_checkpoint(tmp_path / "x.npz", Linear(2, 2), extra={"model": Linear(2, 2)})
    assert list(tmp_path.iterdir()) == []


def test_object_arrays_are_refused(tmp_path):
    model = Linear(2, 2)
    good = tmp_path / "good.npz"
    save_checkpoint(good, model)
    with np.load(good) as archive:
        arrays = {key: archive[key] for key in archive.files}
    arrays["model/weight"] = np.array([{"exploit": 1}, None], dtype=object)
    evil = tmp_path / "evil.npz"
    np.savez(evil, **arrays)
    with pytest.raises(ValueError, match=r"object array \('model/weight'\).*allow_pickle=False"):
        load_checkpoint(evil, Linear(2, 2))


def test_shape_mismatch_names_parameter_and_shapes(tmp_path):
    save_checkpoint(tmp_path / "small.npz", Sequential(Linear(3, 4), Linear(4, 2)))
    with pytest.raises(ValueError, match=r"layers\.0\.weight.*\(3, 5\).*\(3, 4\)"):
        load_checkpoint(tmp_path / "small.npz", Sequential(Linear(3, 5), Linear(5, 2)))
    with pytest.raises(KeyError, match=r"layers\.2\.weight"):
        load_checkpoint(tmp_path / "small.npz", Sequential(Linear(3, 4), Linear(4, 2), Linear(2, 2)))


def test_wrong_optimizer_and_foreign_files_are_explained(tmp_path):
    model = Linear(3, 2)
    save_checkpoint(tmp_path / "sgd.npz", model, SGD(model, lr=0.1))
    with pytest.raises(ValueError, match="state of a SGD, but a Adam"):
        load_checkpoint(tmp_path / "sgd.npz", model, Adam(model))
    save_checkpoint(tmp_path / "plain.npz", model)
    with pytest.raises(ValueError, match="no optimizer state"):
        load_checkpoint(tmp_path / "plain.npz", model, SGD(model, lr=0.1))
    np.savez(tmp_path / "foreign.npz", weight=np.zeros(3))
    with pytest.raises(ValueError, match="not a coursepkg checkpoint"):
        load_checkpoint(tmp_path / "foreign.npz", model)
