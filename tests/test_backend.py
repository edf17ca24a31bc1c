"""The backend: selection, seeding, transfers, and clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import coursepkg as cp
from coursepkg import backend as B


def test_default_backend_is_numpy_float32():
    b = cp.get_backend()
    assert b.name == "numpy"
    assert b.xp is np
    assert cp.tensor([1.0, 2.0]).dtype == np.float32


def test_asarray_round_trip(backend):
    host = np.arange(6, dtype=np.float64).reshape(2, 3)
    on_device = backend.asarray(host)
    assert str(on_device.dtype).endswith("float32")
    back = cp.to_numpy(on_device)
    assert isinstance(back, np.ndarray)
    np.testing.assert_array_equal(back, host.astype(np.float32))
    labels = backend.asarray(np.array([1, 2, 3]))
    assert "int" in str(labels.dtype)


def test_seed_makes_draws_repeatable(backend):
    backend.seed(123)
    a = cp.to_numpy(backend.randn((4, 3)))
    backend.seed(123)
    b = cp.to_numpy(backend.randn((4, 3)))
    backend.seed(124)
    c = cp.to_numpy(backend.randn((4, 3)))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    u = cp.to_numpy(backend.uniform(-2.0, -1.0, (1000,)))
    assert u.min() >= -2.0 and u.max() < -1.0
    perm = cp.to_numpy(backend.permutation(10))
    assert sorted(perm.tolist()) == list(range(10)) and perm.dtype == np.int64
    backend.seed(5)
    first = cp.to_numpy(backend.permutation(50))
    backend.seed(5)
    np.testing.assert_array_equal(cp.to_numpy(backend.permutation(50)), first)
    assert not np.array_equal(cp.to_numpy(backend.permutation(50)), first)


def test_scatter_add_sums_repeated_indices(backend):
    target = backend.zeros((4, 2))
    indices = backend.asarray(np.array([0, 2, 2, 3, 0, 0]))
    values = backend.asarray(np.arange(12, dtype=np.float32).reshape(6, 2))
    out = cp.to_numpy(backend.scatter_add(target, indices, values))
    expected = np.zeros((4, 2), np.float32)
    np.add.at(expected, np.array([0, 2, 2, 3, 0, 0]), np.arange(12, dtype=np.float32).reshape(6, 2))
    np.testing.assert_array_equal(out, expected)


def test_use_backend_restores_previous():
    with cp.use_backend("array_api_strict", device="device1") as b:
        assert cp.get_backend() is b
        assert b.name == "array_api_strict"
    assert cp.get_backend().name == "numpy"


def test_unknown_backend_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown backend 'tensorflow'"):
        cp.set_backend("tensorflow")


@pytest.mark.skipif(cp.gpu_available(), reason="this machine has a GPU")
def test_cupy_without_gpu_explains_and_auto_falls_back():
    with pytest.raises(cp.BackendError, match="set_backend\\('numpy'\\)"):
        cp.set_backend("cupy")
    with pytest.warns(UserWarning, match="no usable GPU, so the NumPy backend is used"):
        b = cp.set_backend("auto")
    assert b.name == "numpy"


def test_environment_variable_selects_backend(monkeypatch):
    monkeypatch.setenv(B.ENV_VARIABLE, "array_api_strict")
    assert cp.reset_backend().name == "array_api_strict"
    monkeypatch.setenv(B.ENV_VARIABLE, "numpy")
    assert cp.reset_backend().name == "numpy"


def test_mixing_backends_in_one_op_is_an_error():
    a = cp.tensor(np.ones((2, 2)))
    with cp.use_backend("array_api_strict", device="device1"):
        b = cp.tensor(np.ones((2, 2)))
    with pytest.raises(TypeError, match="different backends or devices"):
        _ = a + b


def test_mixing_fake_devices_is_an_error():
    with cp.use_backend("array_api_strict", device="device1"):
        a = cp.tensor(np.ones((2, 2)))
    with cp.use_backend("array_api_strict", device="device2"):
        b = cp.tensor(np.ones((2, 2)))
    with pytest.raises(TypeError, match="different backends or devices"):
        _ = a * b


def test_float64_backend(backend64):
    assert "float64" in str(cp.tensor([1.0]).dtype)


def test_synchronize_is_harmless_on_cpu(backend):
    backend.synchronize()  # must not raise on CPU backends
    assert backend.name in ("numpy", "array_api_strict", "cupy")


def test_namespace_of_names_the_backends_own_namespace(backend):
    x = backend.asarray([1.0, 2.0])
    assert cp.namespace_of(x) is backend.xp
    assert cp.namespace_of(backend.xp.exp(x)) is backend.xp
    assert cp.tensor([1.0]).xp is backend.xp


def test_namespace_of_numpy_scalars_and_what_is_not_an_array():
    assert cp.namespace_of(np.float32(1.0)) is np
    assert cp.namespace_of(np.int64(3)) is np
    for not_an_array in ([1.0], 2.0, None, "x"):
        with pytest.raises(TypeError, match="Expected an array of NumPy, CuPy or array_api_strict"):
            cp.namespace_of(not_an_array)
    with pytest.raises(TypeError, match=r"tensor\.data"):
        cp.namespace_of(cp.tensor([1.0]))


def test_the_package_never_asks_an_array_for_its_namespace_directly():
    # CuPy's arrays have no __array_namespace__ method, so a call of it anywhere in the package
    # would break the GPU backend; every lookup goes through backend.namespace_of.
    package = Path(cp.__file__).parent
    offenders = [f"{path.relative_to(package)}:{number}"
                 for path in sorted(package.rglob("*.py")) if path.name != "backend.py"
                 for number, line in enumerate(path.read_text().splitlines(), 1)
                 if "__array_namespace__()" in line]
    assert offenders == []
