"""Bayesian optimization: a Gaussian process models the objective, an acquisition picks the next trial.

The loop, one trial at a time:

1. Run ``n_initial`` random trials (the GP needs data to say anything).
2. Fit a GP to all observations, in the unit cube of the search space (``space.to_unit``).
3. Score many random candidate points with the acquisition function (expected improvement by
   default), add candidates close to the best observation, refine the best few with a local
   optimizer (L-BFGS-B inside [0, 1]^d), and propose the highest-scoring point.
4. Run that trial, tell the result, go to 2.

Batches for parallel trials. When q trials run at once, the GP knows nothing about the points
still running, and would propose the same point q times. The *constant liar* strategy pretends
each running point already returned a value (the lie, here the best value observed so far): it
adds (x_pending, lie) to the data, refits the GP with the same hyperparameters, so the
uncertainty around x_pending collapses, and the next proposal goes elsewhere. The *kriging
believer* lies with the GP's own mean at x_pending instead.

Failed trials (an exception, a NaN loss from a too-large learning rate) are told to the GP as the
*worst* value observed so far: the search should move away from them, not forget them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy
import scipy.optimize
from threadpoolctl import threadpool_limits

from coursepkg.search.acquisition import expected_improvement, lower_confidence_bound, probability_of_improvement
from coursepkg.search.gp import GaussianProcess
from coursepkg.search.kernels import RBF, Kernel, Matern52
from coursepkg.search.samplers import Sampler
from coursepkg.search.space import SearchSpace

ACQUISITIONS = ("ei", "lcb", "pi")
BATCH_STRATEGIES = ("constant_liar", "kriging_believer")


class BayesianOptimizer(Sampler):
    """GP-based ask/tell sampler for minimization.

    Inputs:
    - space: the SearchSpace.
    - n_initial: random trials before the GP takes over (default max(4, 2 d)).
    - acquisition: "ei" (expected improvement), "lcb" (lower confidence bound) or "pi"
      (probability of improvement).
    - xi: EI/PI margin, in the units of the objective. kappa: LCB's optimism.
    - kernel: "matern52", "rbf" or a Kernel instance (its values are the first guess).
    - batch_strategy: "constant_liar" or "kriging_believer" (see the module docstring).
    - n_candidates: random candidates scored per proposal. n_refine: how many of the best are
      polished by L-BFGS-B.
    - gp_restarts: random restarts of the GP's hyperparameter fit.
    - seed: seed of every random choice (int, list of ints, or None).
    """

    def __init__(self, space: SearchSpace, *, n_initial: int | None = None, acquisition: str = "ei",
                 xi: float = 0.0, kappa: float = 2.0, kernel: str | Kernel = "matern52",
                 batch_strategy: str = "constant_liar", n_candidates: int = 1000, n_refine: int = 3,
                 gp_restarts: int = 2, seed: int | Sequence[int] | None = None) -> None:
        super().__init__(space)
        if acquisition not in ACQUISITIONS:
            raise ValueError(f"BayesianOptimizer: acquisition must be one of {ACQUISITIONS}, got {acquisition!r}.")
        if batch_strategy not in BATCH_STRATEGIES:
            raise ValueError(f"BayesianOptimizer: batch_strategy must be one of {BATCH_STRATEGIES}, "
                             f"got {batch_strategy!r}.")
        self.n_initial = max(4, 2 * len(space)) if n_initial is None else n_initial
        self.acquisition, self.xi, self.kappa, self.batch_strategy = acquisition, xi, kappa, batch_strategy
        self.n_candidates, self.n_refine = n_candidates, n_refine
        self.rng = numpy.random.default_rng(seed)
        kernels = {"matern52": Matern52(length_scale=0.2), "rbf": RBF(length_scale=0.2)}
        if isinstance(kernel, str) and kernel not in kernels:
            raise ValueError(f"BayesianOptimizer: kernel must be 'matern52', 'rbf' or a Kernel, got {kernel!r}.")
        self.gp = GaussianProcess(kernels[kernel] if isinstance(kernel, str) else kernel,
                                  n_restarts=gp_restarts, seed=int(self.rng.integers(2**31)))
        self.X: list[numpy.ndarray] = []  # observed points in the unit cube, each shape (d,)
        self.values: list[float | None] = []  # their values, None for failed trials

    # ------------------------------------------------------------------ ask / tell
    def tell(self, params: Mapping[str, Any], value: float | None) -> None:
        self.X.append(self.space.to_unit([params])[0])
        self.values.append(None if value is None or not numpy.isfinite(value) else float(value))

    def ask(self, n: int = 1, pending: Sequence[Mapping[str, Any]] = ()) -> list[dict]:
        """n new points: random during the initial phase, then a constant-liar (or believer) batch."""
        n_random = max(0, self.n_initial - len(self.values) - len(pending))
        if sum(v is not None for v in self.values) < 2:
            n_random = n  # the GP needs at least two successful trials
        proposals = self.space.sample(self.rng, min(n, n_random))
        if len(proposals) < n:
            with threadpool_limits(limits=1):  # BLAS threads only slow down such small matrices
                proposals += self._propose_batch(n - len(proposals), list(pending) + proposals)
        return proposals

    # ------------------------------------------------------------------ the model
    def observations(self) -> tuple[numpy.ndarray, numpy.ndarray]:
        """The data the GP is fit to: X of shape (n, d) in the unit cube, y of shape (n,).

        Failed trials get the worst successful value; before any success both are empty.
        """
        successes = [v for v in self.values if v is not None]
        if not successes:
            return numpy.zeros((0, len(self.space))), numpy.zeros(0)
        worst = max(successes)
        y = numpy.array([worst if v is None else v for v in self.values])
        return numpy.array(self.X), y

    def fit_model(self) -> GaussianProcess:
        """Fit the GP (hyperparameters included) to :meth:`observations` and return it."""
        n_successes = sum(v is not None for v in self.values)
        if n_successes < 2:
            raise RuntimeError(f"BayesianOptimizer.fit_model: need 2 successful trials, have {n_successes}.")
        return self.gp.fit(*self.observations())

    def acquisition_values(self, gp: GaussianProcess, U: numpy.ndarray, best: float) -> numpy.ndarray:
        """The acquisition score (higher is better) at m points U of shape (m, d); returns shape (m,)."""
        mean, std = gp.predict(U, return_std=True)
        if self.acquisition == "ei":
            return expected_improvement(mean, std, best, self.xi)
        if self.acquisition == "pi":
            return probability_of_improvement(mean, std, best, self.xi)
        return -lower_confidence_bound(mean, std, self.kappa)

    # ------------------------------------------------------------------ proposals
    def _propose_batch(self, q: int, pending: list[dict]) -> list[dict]:
        """q points chosen one after another, each earlier one (and each pending one) told a lie.

        The lies count as observations, for the incumbent ``best`` of the acquisition too.
        """
        gp = self.fit_model()
        X, y = self.observations()
        real_best = float(numpy.min(y))
        kernel, noise = gp.kernel, gp.noise
        for params in pending:
            X, y = self._add_lie(X, y, self.space.to_unit([params])[0], gp, real_best)
        batch = []
        for _ in range(q):
            if len(X) > len(self.values):  # there are lies: condition a copy of the GP on them
                gp = GaussianProcess(kernel, noise, optimize=False).fit(X, y)
            u = self._maximize_acquisition(gp, float(numpy.min(y)), taken=X)
            batch.append(u)
            X, y = self._add_lie(X, y, u, gp, real_best)
        return self.space.from_unit(numpy.array(batch))

    def _add_lie(self, X: numpy.ndarray, y: numpy.ndarray, u: numpy.ndarray, gp: GaussianProcess,
                 best: float) -> tuple[numpy.ndarray, numpy.ndarray]:
        """Append the pending point u (shape (d,)) with its lie: ``best`` (constant liar) or the GP mean."""
        lie = best if self.batch_strategy == "constant_liar" else float(gp.predict(u[None, :])[0])
        return numpy.vstack([X, u]), numpy.append(y, lie)

    def _snap(self, U: numpy.ndarray) -> numpy.ndarray:
        """Move points of the cube to the points the space can take (integers, choices): shape (m, d)."""
        return self.space.to_unit(self.space.from_unit(U))

    def _maximize_acquisition(self, gp: GaussianProcess, best: float, taken: numpy.ndarray) -> numpy.ndarray:
        """The best point of the cube (shape (d,)) that differs from every row of ``taken`` (shape (n, d))."""
        d = len(self.space)
        score = lambda U: self.acquisition_values(gp, U, best)  # noqa: E731
        random = self.rng.random((self.n_candidates, d))
        best_seen = taken[numpy.argmin(gp.predict(taken))]
        local = numpy.clip(best_seen + 0.05 * self.rng.standard_normal((self.n_candidates // 5, d)), 0.0, 1.0)
        candidates = self._snap(numpy.vstack([random, local]))
        scores = score(candidates)
        refined = [self._refine(score, start) for start in candidates[numpy.argsort(-scores)[: self.n_refine]]]
        if refined:  # n_refine=0 skips the local polishing
            candidates = numpy.vstack([self._snap(numpy.array(refined)), candidates])
        scores = score(candidates)
        for i in numpy.argsort(-scores, kind="stable"):
            if numpy.min(numpy.max(numpy.abs(taken - candidates[i]), axis=1)) > 1e-9:
                return candidates[i]
        return self._snap(self.rng.random((1, d)))[0]  # every candidate was taken: fall back to random

    def _refine(self, score, start: numpy.ndarray) -> numpy.ndarray:
        """Local maximization of the acquisition from ``start`` (shape (d,)), staying in [0, 1]^d."""
        result = scipy.optimize.minimize(lambda u: -score(u[None, :])[0], start, method="L-BFGS-B",
                                         bounds=[(0.0, 1.0)] * len(start), options={"maxiter": 50})
        return numpy.clip(result.x, 0.0, 1.0)
