"""Hyperparameter search: grid, random and Bayesian optimization, serially, in processes or on a cluster.

Read it in this order (lesson 10):

- :mod:`~coursepkg.search.space`: the search space and its map to the unit cube.
- :mod:`~coursepkg.search.samplers`: the ask/tell protocol; grid and random search.
- :mod:`~coursepkg.search.kernels` and :mod:`~coursepkg.search.gp`: the Gaussian process.
- :mod:`~coursepkg.search.acquisition`: expected improvement and confidence bounds.
- :mod:`~coursepkg.search.bayes`: Bayesian optimization, with batches for parallel trials.
- :mod:`~coursepkg.search.executor`, :mod:`~coursepkg.search.run`, :mod:`~coursepkg.search.results`:
  running trials on any executor, recording them, resuming.
- :mod:`~coursepkg.search.testfunctions`: Branin and Forrester, with known minima.

The search runs on the host in NumPy float64 (tens to hundreds of points); the objective it calls
may train on any backend.
"""

from coursepkg.search.acquisition import (
    expected_improvement,
    lower_confidence_bound,
    probability_of_improvement,
    upper_confidence_bound,
)
from coursepkg.search.bayes import BayesianOptimizer
from coursepkg.search.executor import InProcessExecutor, default_batch_size, run_trial
from coursepkg.search.gp import GaussianProcess, cholesky, gp_posterior, log_marginal_likelihood, posterior
from coursepkg.search.kernels import RBF, Kernel, Matern52, scaled_squared_distances
from coursepkg.search.results import SearchResult, append_trial, load_trials
from coursepkg.search.run import make_sampler, search
from coursepkg.search.samplers import GridSampler, RandomSampler, Sampler
from coursepkg.search.space import Choice, Dimension, IntUniform, LogUniform, SearchSpace, Uniform
from coursepkg.search.testfunctions import (
    BRANIN_MINIMUM,
    FORRESTER_MINIMUM,
    branin,
    branin_objective,
    branin_space,
    forrester,
    forrester_objective,
    forrester_space,
)

__all__ = [
    "BRANIN_MINIMUM", "FORRESTER_MINIMUM", "RBF", "BayesianOptimizer", "Choice", "Dimension", "GaussianProcess",
    "GridSampler", "InProcessExecutor", "IntUniform", "Kernel", "LogUniform", "Matern52", "RandomSampler",
    "Sampler", "SearchResult", "SearchSpace", "Uniform", "append_trial", "branin", "branin_objective",
    "branin_space", "cholesky", "default_batch_size", "expected_improvement", "forrester", "forrester_objective",
    "forrester_space", "gp_posterior", "load_trials", "log_marginal_likelihood", "lower_confidence_bound",
    "make_sampler", "posterior", "probability_of_improvement", "run_trial", "scaled_squared_distances", "search",
    "upper_confidence_bound",
]
