"""Covariance functions (kernels) for the Gaussian process: how alike f(a) and f(b) are.

A kernel k(a, b) is large when a and b are close, so that a smooth function takes similar values
there. Both kernels here depend only on the scaled distance

    r(a, b) = sqrt( sum_k (a_k - b_k)^2 / l_k^2 )

with one length-scale l_k per dimension (or one for all), and a signal variance s^2 = k(a, a):

- RBF (squared exponential):  k = s^2 exp(-r^2 / 2)                     (infinitely smooth)
- Matern 5/2:                 k = s^2 (1 + sqrt5 r + 5 r^2 / 3) exp(-sqrt5 r)   (twice differentiable)

Matern 5/2 is the usual choice for Bayesian optimization: RBF's smoothness is often too strong
an assumption about a validation loss. Kernels work on the host in NumPy float64: the Gaussian
process sees tens to hundreds of points, never a GPU-sized problem.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy


def scaled_squared_distances(A: numpy.ndarray, B: numpy.ndarray, length_scale: float | numpy.ndarray) -> numpy.ndarray:
    """Squared distances between the rows of A and B, each axis divided by its length-scale.

    Inputs:
    - A: shape (n, d).
    - B: shape (m, d).
    - length_scale: a positive float, or shape (d,) for one length-scale per axis.
    Returns:
    - R2: shape (n, m), R2[i, j] = sum_k (A[i, k] - B[j, k])^2 / length_scale[k]^2.
    """
    A, B = numpy.asarray(A, dtype=float), numpy.asarray(B, dtype=float)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[1]:
        raise ValueError(f"kernel: A and B must have shapes (n, d) and (m, d), got {A.shape} and {B.shape}.")
    difference = (A[:, None, :] - B[None, :, :]) / length_scale  # (n, m, d)
    return numpy.sum(difference**2, axis=-1)


@dataclass(frozen=True)
class Kernel:
    """Base class: a signal variance and length-scale(s); subclasses define ``of_distance``."""

    length_scale: float | tuple[float, ...] = 1.0
    variance: float = 1.0

    def __call__(self, A: numpy.ndarray, B: numpy.ndarray) -> numpy.ndarray:
        """The covariance matrix K[i, j] = k(A[i], B[j]).

        Inputs:
        - A: shape (n, d).
        - B: shape (m, d).
        Returns:
        - K: shape (n, m).
        """
        R2 = scaled_squared_distances(A, B, numpy.asarray(self.length_scale, dtype=float))
        return self.variance * self.of_distance(R2)

    def diag(self, A: numpy.ndarray) -> numpy.ndarray:
        """k(a, a) for each row of A, shape (n,): the signal variance everywhere (r = 0)."""
        return numpy.full(len(A), float(self.variance))

    def of_distance(self, R2: numpy.ndarray) -> numpy.ndarray:
        """g(r^2): the correlation as a function of the squared scaled distance (same shape)."""
        raise NotImplementedError

    def derivative_of_distance(self, R2: numpy.ndarray) -> numpy.ndarray:
        """dg / d(r^2) (same shape), for the gradient of the log marginal likelihood."""
        raise NotImplementedError

    def length_scale_gradients(self, A: numpy.ndarray) -> numpy.ndarray:
        """dK / d(log l_k), K = k(A, A), for each axis k: shape (d, n, n).

        K = variance * g(r^2) with r^2 = sum_k (a_k - b_k)^2 / l_k^2, and d(r^2) / d(log l_k)
        = -2 (a_k - b_k)^2 / l_k^2, so dK / d(log l_k) = -2 variance g'(r^2) (a_k - b_k)^2 / l_k^2.
        """
        A = numpy.asarray(A, dtype=float)
        scaled = ((A[:, None, :] - A[None, :, :]) / numpy.asarray(self.length_scale, dtype=float)) ** 2  # (n, n, d)
        R2 = numpy.sum(scaled, axis=-1)
        return -2.0 * self.variance * self.derivative_of_distance(R2) * numpy.moveaxis(scaled, -1, 0)

    def with_params(self, length_scale: float | numpy.ndarray, variance: float) -> Kernel:
        """A copy of this kernel with new hyperparameters."""
        length_scale = numpy.atleast_1d(numpy.asarray(length_scale, dtype=float))
        scale = float(length_scale[0]) if length_scale.size == 1 else tuple(float(v) for v in length_scale)
        return replace(self, length_scale=scale, variance=float(variance))


@dataclass(frozen=True)
class RBF(Kernel):
    """Squared-exponential kernel k = variance * exp(-r^2 / 2)."""

    def of_distance(self, R2: numpy.ndarray) -> numpy.ndarray:
        return numpy.exp(-0.5 * R2)

    def derivative_of_distance(self, R2: numpy.ndarray) -> numpy.ndarray:
        return -0.5 * numpy.exp(-0.5 * R2)


@dataclass(frozen=True)
class Matern52(Kernel):
    """Matern 5/2 kernel k = variance * (1 + sqrt(5) r + 5 r^2 / 3) * exp(-sqrt(5) r)."""

    def of_distance(self, R2: numpy.ndarray) -> numpy.ndarray:
        sqrt5_r = math.sqrt(5.0) * numpy.sqrt(R2)
        return (1.0 + sqrt5_r + sqrt5_r**2 / 3.0) * numpy.exp(-sqrt5_r)

    def derivative_of_distance(self, R2: numpy.ndarray) -> numpy.ndarray:
        sqrt5_r = math.sqrt(5.0) * numpy.sqrt(R2)
        return -(5.0 / 6.0) * (1.0 + sqrt5_r) * numpy.exp(-sqrt5_r)
