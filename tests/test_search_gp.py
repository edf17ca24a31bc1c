"""Gaussian process: kernels, posterior and log marginal likelihood against closed forms and scikit-learn."""

from __future__ import annotations

import numpy
import pytest
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process import kernels as sk

from coursepkg.search.gp import GaussianProcess, gp_posterior
from coursepkg.search.kernels import RBF, Matern52


def data(n=12, d=2, seed=0):
    rng = numpy.random.default_rng(seed)
    X = rng.random((n, d))
    y = numpy.sin(6 * X[:, 0]) + X[:, -1] ** 2 + 3.0  # a non-zero mean, to exercise normalization
    X_star = rng.random((7, d))
    return X, y, X_star


def sklearn_kernel(kind, length_scale, variance):
    base = (sk.RBF(length_scale, "fixed") if kind == "rbf"
            else sk.Matern(length_scale, "fixed", nu=2.5))
    return sk.ConstantKernel(variance, "fixed") * base


KINDS = [("rbf", RBF), ("matern", Matern52)]
SCALES = [0.3, (0.25, 0.6)]  # one shared length-scale, and one per dimension


@pytest.mark.parametrize("kind, Kernel", KINDS)
@pytest.mark.parametrize("length_scale", SCALES)
def test_kernel_matrices_match_sklearn(kind, Kernel, length_scale):
    X, _, X_star = data()
    ours = Kernel(length_scale=length_scale, variance=1.7)
    numpy.testing.assert_allclose(ours(X, X_star), sklearn_kernel(kind, length_scale, 1.7)(X, X_star), rtol=1e-12)
    numpy.testing.assert_allclose(ours.diag(X), numpy.full(len(X), 1.7))


def test_posterior_matches_the_closed_form_computed_with_a_matrix_inverse():
    X, y, X_star = data()
    kernel, noise = Matern52(length_scale=0.4, variance=2.0), 1e-3
    K = kernel(X, X) + noise * numpy.eye(len(X))
    k_star = kernel(X, X_star)
    K_inv = numpy.linalg.inv(K)
    mean = k_star.T @ K_inv @ y
    var = numpy.diag(kernel(X_star, X_star) - k_star.T @ K_inv @ k_star)

    got_mean, got_std = gp_posterior(kernel, X, y, X_star, noise)
    numpy.testing.assert_allclose(got_mean, mean, rtol=1e-8)
    numpy.testing.assert_allclose(got_std, numpy.sqrt(var), rtol=1e-6)

    gp = GaussianProcess(kernel, noise, optimize=False, normalize_y=False).fit(X, y)
    gp_mean, gp_std = gp.predict(X_star, return_std=True)
    numpy.testing.assert_allclose(gp_mean, mean, rtol=1e-8)
    numpy.testing.assert_allclose(gp_std, numpy.sqrt(var), rtol=1e-6)
    # the log marginal likelihood, from its definition log N(y; 0, K)
    _, logdet = numpy.linalg.slogdet(K)
    lml = -0.5 * y @ K_inv @ y - 0.5 * logdet - 0.5 * len(y) * numpy.log(2 * numpy.pi)
    assert gp.log_marginal_likelihood() == pytest.approx(lml, rel=1e-9)


@pytest.mark.parametrize("kind, Kernel", KINDS)
@pytest.mark.parametrize("length_scale", SCALES)
@pytest.mark.parametrize("normalize_y", [True, False])
def test_posterior_and_likelihood_match_sklearn_with_the_same_fixed_kernel(kind, Kernel, length_scale, normalize_y):
    X, y, X_star = data()
    noise, variance = 1e-4, 1.5
    reference = GaussianProcessRegressor(sklearn_kernel(kind, length_scale, variance), alpha=noise,
                                         optimizer=None, normalize_y=normalize_y).fit(X, y)
    gp = GaussianProcess(Kernel(length_scale, variance), noise, optimize=False, normalize_y=normalize_y).fit(X, y)
    want_mean, want_std = reference.predict(X_star, return_std=True)
    got_mean, got_std = gp.predict(X_star, return_std=True)
    numpy.testing.assert_allclose(got_mean, want_mean, rtol=1e-7)
    numpy.testing.assert_allclose(got_std, want_std, rtol=1e-6)
    assert gp.log_marginal_likelihood() == pytest.approx(reference.log_marginal_likelihood(), rel=1e-8)


def test_posterior_interpolates_observations_when_noise_is_small():
    X, y, _ = data()
    gp = GaussianProcess(RBF(0.3), noise=1e-8, optimize=False).fit(X, y)
    mean, std = gp.predict(X, return_std=True)
    numpy.testing.assert_allclose(mean, y, atol=1e-4)
    assert numpy.all(std < 1e-2)
    far_mean, far_std = gp.predict(numpy.full((1, 2), 10.0), return_std=True)  # far away: back to the prior
    assert far_mean[0] == pytest.approx(numpy.mean(y), rel=1e-6)
    assert far_std[0] == pytest.approx(numpy.std(y), rel=1e-6)


@pytest.mark.parametrize("ard", [True, False])
@pytest.mark.parametrize("Kernel", [RBF, Matern52])
def test_likelihood_gradient_matches_finite_differences(ard, Kernel):
    X, y, _ = data(n=10, d=3)
    gp = GaussianProcess(Kernel((0.3, 0.5, 0.7) if ard else 0.4, 1.3), noise=0.01, ard=ard, optimize=False)
    gp.fit(X, y)
    theta = gp._get_log_params()
    _, gradient = gp._negative_log_likelihood(theta)
    h = 1e-6
    numeric = [(gp._negative_log_likelihood(theta + e)[0] - gp._negative_log_likelihood(theta - e)[0]) / (2 * h)
               for e in h * numpy.eye(len(theta))]
    numpy.testing.assert_allclose(gradient, numeric, rtol=1e-5, atol=1e-7)


def test_fitted_hyperparameters_reach_sklearns_maximum_likelihood():
    X, y, _ = data(n=20, d=2, seed=1)
    y = y + 0.05 * numpy.random.default_rng(2).standard_normal(len(y))
    gp = GaussianProcess(Matern52(0.5), noise=1e-2, n_restarts=3, seed=0).fit(X, y)
    kernel = (sk.ConstantKernel(1.0, (1e-2, 1e2)) * sk.Matern([0.5, 0.5], (1e-2, 1e1), nu=2.5)
              + sk.WhiteKernel(1e-2, (1e-6, 1.0)))
    reference = GaussianProcessRegressor(kernel, alpha=1e-12, normalize_y=True, n_restarts_optimizer=3,
                                         random_state=0).fit(X, y)
    assert gp.log_marginal_likelihood() >= reference.log_marginal_likelihood_value_ - 1e-3
    # and the fit did improve on the starting values
    start = GaussianProcess(Matern52(0.5), noise=1e-2, optimize=False).fit(X, y)
    assert gp.log_marginal_likelihood() > start.log_marginal_likelihood()


def test_fit_is_reproducible_from_the_seed():
    X, y, X_star = data()
    a = GaussianProcess(seed=5).fit(X, y)
    b = GaussianProcess(seed=5).fit(X, y)
    assert a.kernel == b.kernel and a.noise == b.noise
    numpy.testing.assert_array_equal(a.predict(X_star), b.predict(X_star))


def test_bad_inputs_raise():
    X, y, _ = data()
    with pytest.raises(RuntimeError, match="fit"):
        GaussianProcess().predict(X)
    with pytest.raises(ValueError, match=r"\(n, d\)"):
        GaussianProcess().fit(X, y[:-1])
    with pytest.raises(ValueError, match="NaN"):
        GaussianProcess().fit(X, numpy.where(numpy.arange(len(y)) == 3, numpy.nan, y))
    gp = GaussianProcess(optimize=False).fit(X, y)
    with pytest.raises(ValueError, match="columns"):
        gp.predict(numpy.zeros((3, 5)))
