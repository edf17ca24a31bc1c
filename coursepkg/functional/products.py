"""Matrix products that use BLAS threads only when they are big enough to gain from them.

NumPy hands ``a @ b`` to a BLAS library (OpenBLAS in NumPy's wheels), which splits any product
above a small size across all cores. After each product its worker threads keep spinning for a
while, waiting for the next one. In a course-sized network the products are small (a few million
floating-point operations) and come between many elementwise NumPy passes, which run on one
core: the spinning workers then take CPU time from those passes. Measured on a 2-core machine,
a training step of the lesson 12 CNN or the lesson 13 transformer ran 10-35% slower with two BLAS
threads than with one, while a (512, 784) @ (784, 256) product ran 1.9x faster with two.

:func:`matmul` is ``a @ b`` with that trade-off made per product: one BLAS thread below
``SMALL_PRODUCT_FLOPS``, the library's own thread count (what it had when this module first
looked, set by ``OPENBLAS_NUM_THREADS`` and the like) at or above it. The count is only changed
when it differs from the last one set, so a network of small products sets it once. Only NumPy
arrays are concerned; other backends get ``a @ b`` unchanged.

Two more helpers serve attention, which multiplies stacks of many tiny matrices (one per example
and head):

- :func:`matmul_transposed` is ``a @ b.mT``. On NumPy a stack of small products runs 2-2.5x slower
  when its second operand is a transposed view; copying that transpose into plain rows first and
  multiplying those is faster, copy included.
- :func:`matmul_into` writes a product into an existing array, for example one head's slot of the
  packed output, instead of making the product and then copying it there.
"""

from __future__ import annotations

from typing import Any

import numpy

# Products of fewer floating-point operations run on one BLAS thread. Measured on 2 cores: the
# lesson 12 CNN (products of 1-9 MFLOP) and the lesson 13 transformer (1-3 MFLOP) trained 6-12%
# faster per step with them on one thread; a (32, 784) @ (784, 256) product (13 MFLOP) runs 1.4x
# faster on two threads, a (512, 784) @ (784, 256) one (205 MFLOP) 1.9x.
SMALL_PRODUCT_FLOPS = 10_000_000


class _BlasThreads:
    """The BLAS libraries' thread setting, changed only when a product needs another one."""

    def __init__(self) -> None:
        self.libraries: list[Any] | None = None  # threadpoolctl controllers, found on first use
        self.default = 1  # the libraries' own thread count, when first looked at
        self.current = 1  # the count last set

    def use(self, threads_wanted_for_big: bool) -> None:
        if self.libraries is None:
            self._find_libraries()
        wanted = self.default if threads_wanted_for_big else 1
        if wanted != self.current:
            for library in self.libraries:
                library.set_num_threads(wanted)
            self.current = wanted

    def _find_libraries(self) -> None:
        try:
            from threadpoolctl import ThreadpoolController

            self.libraries = list(ThreadpoolController().select(user_api="blas").lib_controllers)
        except Exception:  # noqa: BLE001  (no threadpoolctl, or a BLAS it cannot drive: leave threads alone)
            self.libraries = []
        self.default = max((library.num_threads for library in self.libraries), default=1)
        self.current = self.default


_blas_threads = _BlasThreads()


def matmul(a: Any, b: Any) -> Any:
    """``a @ b`` (any shapes ``@`` accepts), on one BLAS thread when the product is small.

    Inputs:
    - a: array of shape (..., M, K) or (K,).
    - b: array of shape (..., K, N) or (K,).
    Returns:
    - a @ b.
    """
    if type(a) is numpy.ndarray:
        _blas_threads.use(2 * a.size * (b.shape[-1] if b.ndim > 1 else 1) >= SMALL_PRODUCT_FLOPS)
    return a @ b


def matmul_transposed(a: Any, b: Any, out: Any = None) -> Any:
    """``a @ b.mT``: a product with the transpose of b's last two axes.

    On NumPy, for a stack of matrices, the transpose is first copied into contiguous rows. Measured
    on attention's queries and keys, (64, 2, 8, 16) each: 22 us as ``q @ k.mT``, 17 us with the copy.

    Inputs:
    - a: array of shape (..., M, K).
    - b: array of shape (..., N, K).
    - out: optional array of shape (..., M, N), any strides, to write the product into.
    Returns:
    - array of shape (..., M, N) (``out`` when given).
    """
    b_transposed = numpy.ascontiguousarray(b.mT) if type(b) is numpy.ndarray and b.ndim > 2 else b.mT
    return a @ b_transposed if out is None else matmul_into(a, b_transposed, out)


def matmul_into(a: Any, b: Any, out: Any) -> Any:
    """``out[...] = a @ b``: the product written into an existing array, for example a view into a
    bigger one. On NumPy the product goes straight into ``out``, with no temporary in between.

    Inputs:
    - a: array of shape (..., M, K).
    - b: array of shape (..., K, N).
    - out: array of shape (..., M, N), any strides.
    Returns:
    - out.
    """
    if type(out) is numpy.ndarray:
        return numpy.matmul(a, b, out=out)
    out[...] = a @ b
    return out
