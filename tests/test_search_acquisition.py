"""Acquisition functions against their closed forms and Monte Carlo estimates."""

from __future__ import annotations

import numpy
import pytest
from scipy.stats import norm

from coursepkg.search.acquisition import (
    expected_improvement,
    lower_confidence_bound,
    probability_of_improvement,
    upper_confidence_bound,
)


def test_expected_improvement_matches_the_closed_form():
    rng = numpy.random.default_rng(0)
    mean, std = rng.normal(size=50), rng.uniform(0.1, 2.0, size=50)
    best, xi = 0.3, 0.05
    z = (best - mean - xi) / std
    want = (best - mean - xi) * norm.cdf(z) + std * norm.pdf(z)
    numpy.testing.assert_allclose(expected_improvement(mean, std, best, xi), want, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("mean, std, best, xi", [(0.0, 1.0, 0.0, 0.0), (1.0, 0.5, 0.2, 0.0),
                                                 (-0.5, 2.0, 0.0, 0.1), (3.0, 1.0, 0.0, 0.0)])
def test_expected_improvement_matches_monte_carlo(mean, std, best, xi):
    f = numpy.random.default_rng(1).normal(mean, std, size=2_000_000)
    improvement = numpy.maximum(best - f - xi, 0.0)
    standard_error = improvement.std() / numpy.sqrt(len(f))
    got = float(expected_improvement(mean, std, best, xi))
    assert abs(got - improvement.mean()) < 4 * standard_error + 1e-12


def test_expected_improvement_with_zero_std_is_the_plain_improvement():
    mean = numpy.array([0.0, 1.0, 2.0, 1.0])
    std = numpy.array([0.0, 0.0, 0.0, 0.5])
    ei = expected_improvement(mean, std, best=1.5, xi=0.1)
    numpy.testing.assert_allclose(ei[:3], [1.4, 0.4, 0.0])
    assert ei[3] > 0.4  # uncertainty adds value at the same mean
    assert numpy.all(numpy.isfinite(ei))


def test_expected_improvement_grows_with_uncertainty_and_with_a_lower_mean():
    std = numpy.linspace(0.01, 3, 50)
    assert numpy.all(numpy.diff(expected_improvement(numpy.zeros(50), std, best=0.0)) > 0)
    mean = numpy.linspace(-2, 2, 50)
    assert numpy.all(numpy.diff(expected_improvement(mean, numpy.ones(50), best=0.0)) < 0)
    assert numpy.all(expected_improvement(mean, numpy.ones(50), best=-10.0) >= 0)


def test_expected_improvement_rejects_negative_std():
    with pytest.raises(ValueError, match="std"):
        expected_improvement(numpy.zeros(2), numpy.array([1.0, -1.0]), 0.0)


def test_probability_of_improvement_matches_monte_carlo_and_zero_std():
    f = numpy.random.default_rng(2).normal(0.4, 0.7, size=1_000_000)
    want = numpy.mean(f < 0.5 - 0.05)
    assert float(probability_of_improvement(0.4, 0.7, best=0.5, xi=0.05)) == pytest.approx(want, abs=2e-3)
    numpy.testing.assert_array_equal(probability_of_improvement([0.0, 1.0], [0.0, 0.0], best=0.5), [1.0, 0.0])


def test_confidence_bounds():
    mean, std = numpy.array([1.0, 2.0]), numpy.array([0.5, 0.0])
    numpy.testing.assert_allclose(lower_confidence_bound(mean, std, kappa=2.0), [0.0, 2.0])
    numpy.testing.assert_allclose(upper_confidence_bound(mean, std, kappa=2.0), [2.0, 2.0])
