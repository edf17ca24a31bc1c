"""coursepkg.functional.products: matmul (a @ b, with BLAS threads only for big products), matmul_transposed
(a @ b.mT) and matmul_into (the product written into an existing array)."""

from __future__ import annotations

import numpy as np
import pytest

from coursepkg.backend import to_numpy
from coursepkg.functional import products


@pytest.mark.parametrize("a_shape, b_shape", [((3, 4), (4, 5)), ((2, 3, 4), (2, 4, 2)), ((4,), (4, 3)),
                                              ((3, 4), (4,)), ((0, 4), (4, 2))])
def test_matmul_is_the_matrix_product(backend64, a_shape, b_shape):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    np.testing.assert_allclose(to_numpy(products.matmul(backend64.asarray(a), backend64.asarray(b))), a @ b,
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("a_shape, b_shape", [((3, 4), (5, 4)), ((2, 3, 4), (2, 5, 4)), ((2, 2, 3, 4), (2, 2, 5, 4))])
@pytest.mark.parametrize("b_is_a_view", [False, True])
def test_matmul_transposed_is_the_product_with_the_transpose(backend64, a_shape, b_shape, b_is_a_view):
    rng = np.random.default_rng(1)
    a = rng.standard_normal(a_shape)
    # A view with gaps, like a key slice of packed queries, keys and values.
    b_full = rng.standard_normal(b_shape[:-1] + (3 * b_shape[-1],))
    b = b_full[..., 1::3] if b_is_a_view else b_full[..., : b_shape[-1]].copy()
    b_array = backend64.asarray(b_full)[..., 1::3] if b_is_a_view else backend64.asarray(b)
    result = products.matmul_transposed(backend64.asarray(a), b_array)
    assert tuple(result.shape) == a_shape[:-1] + (b_shape[-2],)
    np.testing.assert_allclose(to_numpy(result), a @ np.swapaxes(b, -1, -2), rtol=1e-12, atol=1e-12)


def test_matmul_into_writes_the_product_into_a_strided_view_and_nothing_else(backend64):
    from coursepkg.functional.layout import permute_dims

    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((2, 3, 5, 6))
    packed = backend64.asarray(np.full((2, 4, 3, 2, 6), 7.0))  # (B, T, 3 parts, H, d), like packed heads
    view = permute_dims(packed[:, :, 1, ...], (0, 2, 1, 3))  # (B, H, T, d): part 1, heads first
    returned = products.matmul_into(backend64.asarray(a[:, :2]), backend64.asarray(b[:, :2]), view)
    expected = np.full((2, 4, 3, 2, 6), 7.0)
    expected[:, :, 1] = np.swapaxes(a[:, :2] @ b[:, :2], 1, 2)
    np.testing.assert_allclose(to_numpy(packed), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(to_numpy(returned), a[:, :2] @ b[:, :2], rtol=1e-12, atol=1e-12)


class FakeBlas:
    """Stands in for a threadpoolctl library controller: records every thread count it is given."""

    def __init__(self, threads: int) -> None:
        self.num_threads, self.calls = threads, []

    def set_num_threads(self, threads: int) -> None:
        self.calls.append(threads)
        self.num_threads = threads


@pytest.fixture
def fake_blas(monkeypatch: pytest.MonkeyPatch) -> FakeBlas:
    blas = FakeBlas(4)
    state = products._BlasThreads()
    state.libraries, state.default, state.current = [blas], 4, 4
    monkeypatch.setattr(products, "_blas_threads", state)
    monkeypatch.setattr(products, "SMALL_PRODUCT_FLOPS", 1_000)
    return blas


def test_small_products_run_on_one_thread_big_ones_on_the_default(fake_blas: FakeBlas):
    small_a, small_b = np.ones((2, 10), np.float32), np.ones((10, 3), np.float32)  # 120 FLOPs
    big_a, big_b = np.ones((20, 10), np.float32), np.ones((10, 30), np.float32)  # 12,000 FLOPs
    products.matmul(small_a, small_b)
    products.matmul(small_a, small_b)
    assert fake_blas.calls == [1]  # set once, not again for the second small product
    products.matmul(big_a, big_b)
    products.matmul(big_a, big_b)
    assert fake_blas.calls == [1, 4]
    products.matmul(big_a[0], big_b)  # a vector: 2 * 10 * 30 FLOPs, small
    assert fake_blas.calls == [1, 4, 1]


def test_non_numpy_arrays_leave_the_threads_alone(fake_blas: FakeBlas):
    xp = pytest.importorskip("array_api_strict")
    products.matmul(xp.ones((2, 10)), xp.ones((10, 3)))
    assert fake_blas.calls == []


def test_the_real_blas_follows_the_policy():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    libraries = threadpoolctl.ThreadpoolController().select(user_api="blas").lib_controllers
    if not libraries:
        pytest.skip("no BLAS library that threadpoolctl can drive")
    original = [lib.num_threads for lib in libraries]

    def threads_now() -> list[int]:
        return [lib.num_threads for lib in threadpoolctl.ThreadpoolController().select(user_api="blas").lib_controllers]

    state = products._blas_threads
    try:
        for lib in libraries:
            lib.set_num_threads(2)  # the tests run with one BLAS thread: start from two
        state.libraries = None  # look the libraries up again, as on first use: the default is now 2
        small = np.ones((8, 8), np.float32)
        products.matmul(small, small)
        assert threads_now() == [1] * len(libraries)
        big = np.ones((400, 400), np.float32)  # 128 MFLOP
        products.matmul(big, big)
        assert threads_now() == [2] * len(libraries)
    finally:
        for lib, threads in zip(libraries, original):
            lib.set_num_threads(threads)
        state.libraries = None
