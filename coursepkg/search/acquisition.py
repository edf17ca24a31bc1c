"""Acquisition functions: how much a new trial at x is worth, given the GP posterior there.

The GP gives, at each candidate x, a Gaussian belief f(x) ~ N(mu, sigma^2). An acquisition
function turns (mu, sigma) into a score and Bayesian optimization runs the next trial where the
score is highest. We *minimize* the objective; ``best`` is the lowest value observed so far.

- Expected improvement, E[max(best - f(x) - xi, 0)], in closed form

      z  = (best - mu - xi) / sigma
      EI = (best - mu - xi) Phi(z) + sigma phi(z)

  (Phi, phi: standard normal CDF and density). EI is large where mu is low (exploitation) *or*
  sigma is high (exploration). Where sigma = 0 nothing is uncertain and EI = max(best - mu - xi, 0).
  xi >= 0 asks for an improvement of at least xi, which pushes toward exploration.
- Lower confidence bound, mu - kappa sigma: an optimistic guess of f(x); minimize it.
  (Its mirror image for maximization is the upper confidence bound, mu + kappa sigma.)
- Probability of improvement, Phi(z): how likely x beats ``best`` at all, regardless of by how much.
"""

from __future__ import annotations

import math

import numpy
from scipy.special import ndtr  # the standard normal CDF, Phi (faster than scipy.stats.norm.cdf)


def normal_pdf(z: numpy.ndarray) -> numpy.ndarray:
    """phi(z) = exp(-z^2 / 2) / sqrt(2 pi), the standard normal density (elementwise)."""
    return numpy.exp(-0.5 * z**2) / math.sqrt(2 * math.pi)


def expected_improvement(mean: numpy.ndarray, std: numpy.ndarray, best: float, xi: float = 0.0) -> numpy.ndarray:
    """Expected improvement over ``best`` for a minimization problem.

    Inputs:
    - mean: posterior mean mu, shape (m,) (or any shape S).
    - std: posterior standard deviation sigma >= 0, same shape S.
    - best: the lowest value observed so far.
    - xi: required margin of improvement, >= 0.
    Returns:
    - EI: shape S, >= 0; (best - mu - xi) Phi(z) + sigma phi(z) with z = (best - mu - xi) / sigma,
      and max(best - mu - xi, 0) where sigma = 0.
    """
    mean, std = numpy.broadcast_arrays(numpy.asarray(mean, dtype=float), numpy.asarray(std, dtype=float))
    if numpy.any(std < 0):
        raise ValueError("expected_improvement: std must be >= 0.")
    improvement = best - mean - xi
    certain = std == 0
    z = improvement / numpy.where(certain, 1.0, std)  # z is unused where std == 0
    ei = improvement * ndtr(z) + std * normal_pdf(z)
    ei = numpy.where(certain, numpy.maximum(improvement, 0.0), ei)
    return numpy.maximum(ei, 0.0)  # clip round-off below 0


def probability_of_improvement(mean: numpy.ndarray, std: numpy.ndarray, best: float,
                               xi: float = 0.0) -> numpy.ndarray:
    """P(f(x) < best - xi) = Phi((best - mu - xi) / sigma) for minimization; shapes as in EI.

    Where sigma = 0 it is 1 if mu < best - xi, else 0.
    """
    mean, std = numpy.broadcast_arrays(numpy.asarray(mean, dtype=float), numpy.asarray(std, dtype=float))
    improvement = best - mean - xi
    certain = std == 0
    probability = ndtr(improvement / numpy.where(certain, 1.0, std))
    return numpy.where(certain, (improvement > 0).astype(float), probability)


def lower_confidence_bound(mean: numpy.ndarray, std: numpy.ndarray, kappa: float = 2.0) -> numpy.ndarray:
    """mu - kappa * sigma: an optimistic estimate of f for minimization (lower is more promising).

    Inputs:
    - mean, std: shape S.
    - kappa: >= 0, how optimistic; 0 is pure exploitation.
    Returns:
    - shape S.
    """
    return numpy.asarray(mean, dtype=float) - kappa * numpy.asarray(std, dtype=float)


def upper_confidence_bound(mean: numpy.ndarray, std: numpy.ndarray, kappa: float = 2.0) -> numpy.ndarray:
    """mu + kappa * sigma: the optimistic estimate for maximization (higher is more promising); shape S."""
    return numpy.asarray(mean, dtype=float) + kappa * numpy.asarray(std, dtype=float)
