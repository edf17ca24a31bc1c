"""Gaussian-process regression: a probabilistic model of the objective, fit to the trials so far.

A Gaussian process (GP) with kernel k and noise variance s^2 says that the observed values y
(shape (n,)) at points X (shape (n, d)) and the unknown f at new points X* (shape (m, d)) are
jointly Gaussian. Conditioning on y gives the *posterior* at X*:

    mean = k*^T (K + s^2 I)^-1 y                      shape (m,)
    var  = k** - k*^T (K + s^2 I)^-1 k*   (diagonal)   shape (m,)

with K = k(X, X) of shape (n, n), k* = k(X, X*) of shape (n, m), k** = k(x*, x*) of shape (m,).

Never invert K + s^2 I: factor it once, K + s^2 I = L L^T (Cholesky, L lower triangular), then

    alpha = L^-T (L^-1 y)          so  mean = k*^T alpha
    v     = L^-1 k*                so  var  = k** - sum over rows of v^2

and the log marginal likelihood of the data, which measures how well the hyperparameters
(length-scales, signal variance, noise) explain y, is

    log p(y | X) = -1/2 y^T alpha - sum_i log L_ii - n/2 log(2 pi).

:class:`GaussianProcess` standardizes y (zero mean, unit variance) before all of this, and
chooses the hyperparameters by maximizing the log marginal likelihood with
``scipy.optimize.minimize`` over their logarithms (so that they stay positive), from a few seeded
starting points. Everything runs on the host in NumPy float64.
"""

from __future__ import annotations

import math

import numpy
import scipy.linalg
import scipy.optimize
from threadpoolctl import threadpool_limits

from coursepkg.search.kernels import Kernel, Matern52


def cholesky(A: numpy.ndarray) -> numpy.ndarray:
    """Lower-triangular L with L L^T = A, adding a tiny diagonal "jitter" if round-off makes A indefinite.

    Inputs:
    - A: a symmetric positive (semi-)definite matrix of shape (n, n).
    Returns:
    - L: shape (n, n), lower triangular.
    """
    jitter = 0.0
    scale = float(numpy.mean(numpy.diag(A))) if len(A) else 1.0
    for _ in range(7):
        try:
            return numpy.linalg.cholesky(A + jitter * numpy.eye(len(A)))
        except numpy.linalg.LinAlgError:
            jitter = 1e-10 * scale if jitter == 0.0 else 10.0 * jitter
    raise numpy.linalg.LinAlgError(f"cholesky: the {A.shape} kernel matrix is not positive definite, "
                                   f"even with jitter {jitter:.1e} on its diagonal.")


def posterior(L: numpy.ndarray, alpha: numpy.ndarray, K_star: numpy.ndarray,
              k_star_star: numpy.ndarray) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Posterior mean and variance at m new points, from the Cholesky factor of the training data.

    Inputs:
    - L: shape (n, n), Cholesky factor of K + s^2 I.
    - alpha: shape (n,), (K + s^2 I)^-1 y.
    - K_star: shape (n, m), k(X, X*).
    - k_star_star: shape (m,), k(x*, x*) for each new point.
    Returns:
    - mean: shape (m,), K_star^T alpha.
    - var: shape (m,), k** - sum_i v_i^2 with v = L^-1 K_star; clipped at 0 (round-off).
    """
    mean = K_star.T @ alpha
    v = scipy.linalg.solve_triangular(L, K_star, lower=True)  # (n, m)
    var = k_star_star - numpy.sum(v**2, axis=0)
    return mean, numpy.maximum(var, 0.0)


def log_marginal_likelihood(L: numpy.ndarray, alpha: numpy.ndarray, y: numpy.ndarray) -> float:
    """log p(y | X) = -1/2 y^T alpha - sum_i log L_ii - n/2 log(2 pi); L, alpha as in :func:`posterior`."""
    return float(-0.5 * y @ alpha - numpy.sum(numpy.log(numpy.diag(L))) - 0.5 * len(y) * math.log(2 * math.pi))


def gp_posterior(kernel: Kernel, X: numpy.ndarray, y: numpy.ndarray, X_star: numpy.ndarray,
                 noise: float = 0.0) -> tuple[numpy.ndarray, numpy.ndarray]:
    """The textbook GP posterior (zero prior mean, no target scaling, fixed hyperparameters).

    Inputs:
    - kernel: a covariance function, kernel(A, B) -> shape (len(A), len(B)).
    - X: shape (n, d), observed points.
    - y: shape (n,), observed values.
    - X_star: shape (m, d), where to predict.
    - noise: s^2, the variance of the observation noise.
    Returns:
    - mean: shape (m,), k*^T (K + s^2 I)^-1 y.
    - std: shape (m,), sqrt(k** - k*^T (K + s^2 I)^-1 k*).
    """
    X, X_star, y = _as_matrix(X, "X"), _as_matrix(X_star, "X_star"), numpy.asarray(y, dtype=float)
    L = cholesky(kernel(X, X) + noise * numpy.eye(len(X)))
    alpha = scipy.linalg.cho_solve((L, True), y)
    mean, var = posterior(L, alpha, kernel(X, X_star), kernel.diag(X_star))
    return mean, numpy.sqrt(var)


class GaussianProcess:
    """GP regression with standardized targets and hyperparameters fit by maximum likelihood.

    Inputs:
    - kernel: the starting (or, with ``optimize=False``, fixed) kernel; Matern52() by default.
    - noise: s^2, the noise variance, in units of the *standardized* targets.
    - optimize: fit length-scales, signal variance and noise by maximizing the log marginal
      likelihood at each :meth:`fit`; False keeps them as given.
    - ard: with ``optimize``, one length-scale per input dimension (else one shared).
    - n_restarts: random starting points of the optimization, besides the current values.
    - normalize_y: standardize y to zero mean and unit variance (predictions are scaled back).
    - seed: seed of the generator that draws the restarts.
    - length_scale_bounds, variance_bounds, noise_bounds: (low, high) for each hyperparameter.

    After :meth:`fit`, ``kernel`` and ``noise`` hold the fitted values.
    """

    def __init__(self, kernel: Kernel | None = None, noise: float = 1e-6, *, optimize: bool = True,
                 ard: bool = True, n_restarts: int = 2, normalize_y: bool = True, seed: int | None = 0,
                 length_scale_bounds: tuple[float, float] = (1e-2, 1e1),
                 variance_bounds: tuple[float, float] = (1e-2, 1e2),
                 noise_bounds: tuple[float, float] = (1e-6, 1.0)) -> None:
        self.kernel = Matern52() if kernel is None else kernel
        self.noise = float(noise)
        self.optimize, self.ard, self.n_restarts, self.normalize_y = optimize, ard, n_restarts, normalize_y
        self.rng = numpy.random.default_rng(seed)
        self.bounds = {"length_scale": length_scale_bounds, "variance": variance_bounds, "noise": noise_bounds}
        self.X = None

    def fit(self, X: numpy.ndarray, y: numpy.ndarray) -> GaussianProcess:
        """Condition on the observations (and first fit the hyperparameters, if ``optimize``).

        Inputs:
        - X: shape (n, d), observed points (in the unit cube, for Bayesian optimization).
        - y: shape (n,), observed values.
        Returns:
        - self.
        """
        X, y = _as_matrix(X, "X"), numpy.asarray(y, dtype=float)
        if y.shape != (len(X),) or len(X) == 0:
            raise ValueError(f"GaussianProcess.fit: need X of shape (n, d) and y of shape (n,) with n >= 1, "
                             f"got {X.shape} and {y.shape}.")
        if not numpy.all(numpy.isfinite(y)):
            raise ValueError("GaussianProcess.fit: y contains NaN or infinity; leave failed trials out.")
        self.X = X
        self.y_mean, self.y_std = (float(numpy.mean(y)), float(numpy.std(y))) if self.normalize_y else (0.0, 1.0)
        self.y_std = self.y_std if self.y_std > 0 else 1.0
        self.y = (y - self.y_mean) / self.y_std  # standardized targets, shape (n,)
        if self.optimize:
            with threadpool_limits(limits=1):  # BLAS threads only slow down such small matrices
                self._fit_hyperparameters()
        self._factorize()
        return self

    def _factorize(self) -> None:
        """Cholesky factor L of K + s^2 I and alpha = (K + s^2 I)^-1 y, for the current hyperparameters."""
        K = self.kernel(self.X, self.X) + self.noise * numpy.eye(len(self.X))
        self.L = cholesky(K)
        self.alpha = scipy.linalg.cho_solve((self.L, True), self.y)

    def predict(self, X_star: numpy.ndarray,
                return_std: bool = False) -> numpy.ndarray | tuple[numpy.ndarray, numpy.ndarray]:
        """Posterior mean (and standard deviation) of f at new points, in the units of y.

        Inputs:
        - X_star: shape (m, d).
        - return_std: also return the posterior standard deviation.
        Returns:
        - mean: shape (m,); and, with ``return_std``, std: shape (m,).
        """
        if self.X is None:
            raise RuntimeError("GaussianProcess.predict: call fit(X, y) first.")
        X_star = _as_matrix(X_star, "X_star")
        if X_star.shape[1] != self.X.shape[1]:
            raise ValueError(f"GaussianProcess.predict: X_star must have {self.X.shape[1]} columns "
                             f"like the training X, got shape {X_star.shape}.")
        mean, var = posterior(self.L, self.alpha, self.kernel(self.X, X_star), self.kernel.diag(X_star))
        mean = self.y_mean + self.y_std * mean
        return (mean, self.y_std * numpy.sqrt(var)) if return_std else mean

    def log_marginal_likelihood(self) -> float:
        """log p(y | X) of the (standardized) training targets under the current hyperparameters."""
        if self.X is None:
            raise RuntimeError("GaussianProcess.log_marginal_likelihood: call fit(X, y) first.")
        return log_marginal_likelihood(self.L, self.alpha, self.y)

    # ------------------------------------------------------------- hyperparameters
    def _n_length_scales(self) -> int:
        return self.X.shape[1] if self.ard else 1

    def _get_log_params(self) -> numpy.ndarray:
        """The hyperparameters as one vector: [log l_1..l_p, log variance, log noise]."""
        scales = numpy.broadcast_to(numpy.asarray(self.kernel.length_scale, dtype=float), (self._n_length_scales(),))
        return numpy.log(numpy.concatenate([scales, [self.kernel.variance, self.noise]]))

    def _set_log_params(self, theta: numpy.ndarray) -> None:
        params = numpy.exp(theta)
        self.kernel = self.kernel.with_params(params[:-2], params[-2])
        self.noise = float(params[-1])

    def _log_bounds(self) -> list[tuple[float, float]]:
        names = ["length_scale"] * self._n_length_scales() + ["variance", "noise"]
        return [(math.log(self.bounds[name][0]), math.log(self.bounds[name][1])) for name in names]

    def _negative_log_likelihood(self, theta: numpy.ndarray) -> tuple[float, numpy.ndarray]:
        """-log p(y | X) and its gradient at the log-hyperparameters theta (what the optimizer minimizes).

        With W = alpha alpha^T - (K + s^2 I)^-1, the gradient of log p(y | X) along each
        hyperparameter t is 1/2 sum_ij W_ij dK_ij/dt, and (t being a logarithm)
        dK/d(log variance) = k(X, X), dK/d(log s^2) = s^2 I, dK/d(log l_k) from the kernel.
        """
        self._set_log_params(theta)
        try:
            self._factorize()
        except numpy.linalg.LinAlgError:
            return 1e25, numpy.zeros_like(theta)
        W = numpy.outer(self.alpha, self.alpha) - scipy.linalg.cho_solve((self.L, True), numpy.eye(len(self.X)))
        dK_length = self.kernel.length_scale_gradients(self.X)  # (d, n, n)
        if not self.ard:
            dK_length = numpy.sum(dK_length, axis=0, keepdims=True)
        dK = [*dK_length, self.kernel(self.X, self.X), self.noise * numpy.eye(len(self.X))]
        gradient = numpy.array([0.5 * numpy.sum(W * dK_t) for dK_t in dK])
        return -self.log_marginal_likelihood(), -gradient

    def _fit_hyperparameters(self) -> None:
        """Maximize the log marginal likelihood from the current values and ``n_restarts`` random starts."""
        bounds = self._log_bounds()
        low, high = numpy.array(bounds).T
        starts = [numpy.clip(self._get_log_params(), low, high)]
        starts += [self.rng.uniform(low, high) for _ in range(self.n_restarts)]
        best_theta, best_value = starts[0], numpy.inf
        for theta0 in starts:
            result = scipy.optimize.minimize(self._negative_log_likelihood, theta0, jac=True, method="L-BFGS-B",
                                             bounds=bounds)
            if result.fun < best_value:
                best_theta, best_value = result.x, result.fun
        self._set_log_params(best_theta)


def _as_matrix(X: numpy.ndarray, name: str) -> numpy.ndarray:
    X = numpy.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"GaussianProcess: {name} must have shape (n, d), got {X.shape}.")
    return X
