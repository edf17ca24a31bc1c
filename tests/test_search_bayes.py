"""Bayesian optimization: it beats random search on test functions, and its batches are distinct points."""

from __future__ import annotations

import numpy
import pytest

from coursepkg.search.bayes import BayesianOptimizer
from coursepkg.search.run import search
from coursepkg.search.space import Choice, IntUniform, LogUniform, SearchSpace, Uniform
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


def test_test_functions_have_their_known_minima():
    assert float(branin(numpy.pi, 2.275)) == pytest.approx(BRANIN_MINIMUM, abs=1e-6)
    assert float(branin(-numpy.pi, 12.275)) == pytest.approx(BRANIN_MINIMUM, abs=1e-6)
    x1, x2 = numpy.meshgrid(numpy.linspace(-5, 10, 601), numpy.linspace(0, 15, 601))
    assert branin(x1, x2).min() >= BRANIN_MINIMUM - 1e-6
    x = numpy.linspace(0, 1, 100_001)
    assert forrester(x).min() == pytest.approx(FORRESTER_MINIMUM, abs=1e-5)


def mean_best(objective, space, method, n_trials, seeds):
    return numpy.mean([search(objective, space, method, n_trials, seed=seed).best_value for seed in seeds])


@pytest.mark.parametrize("objective, space, n_trials, seeds", [
    (branin_objective, branin_space(), 20, range(4)),
    (forrester_objective, forrester_space(), 15, range(5)),
], ids=["branin", "forrester"])
def test_bayesian_optimization_beats_random_search_with_the_same_budget(objective, space, n_trials, seeds):
    bayes = mean_best(objective, space, "bayes", n_trials, seeds)
    random = mean_best(objective, space, "random", n_trials, seeds)
    assert bayes < random
    known = BRANIN_MINIMUM if objective is branin_objective else FORRESTER_MINIMUM
    # and it gets close to the known minimum: within 10% of random search's remaining gap
    assert bayes - known < 0.1 * (random - known)


def told_optimizer(strategy="constant_liar", n_told=6, seed=0):
    space = branin_space()
    optimizer = BayesianOptimizer(space, batch_strategy=strategy, seed=seed, n_initial=4)
    for params in space.sample(numpy.random.default_rng(seed), n_told):
        optimizer.tell(params, branin_objective(params))
    return optimizer


def distinct(points, others=()):
    keys = [tuple(p.values()) for p in points]
    return len(set(keys)) == len(keys) and not set(keys) & {tuple(p.values()) for p in others}


@pytest.mark.parametrize("strategy", ["constant_liar", "kriging_believer"])
def test_a_batch_is_distinct_points_away_from_the_observations_and_the_pending(strategy):
    optimizer = told_optimizer(strategy)
    observed = optimizer.space.from_unit(numpy.array(optimizer.X))
    pending = optimizer.space.sample(numpy.random.default_rng(9), 2)
    batch = optimizer.ask(4, pending=pending)
    assert len(batch) == 4
    assert distinct(batch, observed + pending)
    U = optimizer.space.to_unit(batch)
    gaps = numpy.min(numpy.abs(U[:, None, :] - U[None, :, :]).max(axis=-1) + numpy.eye(4) * 9, axis=1)
    assert numpy.all(gaps > 1e-3)  # not merely different floats: genuinely spread out


def test_without_a_lie_the_batch_would_repeat_itself():
    # the reason for the constant liar: the acquisition alone has one maximum
    optimizer = told_optimizer()
    gp = optimizer.fit_model()
    X, y = optimizer.observations()
    first = optimizer._maximize_acquisition(gp, float(y.min()), taken=X)
    again = optimizer._maximize_acquisition(gp, float(y.min()), taken=X)
    numpy.testing.assert_allclose(first, again, atol=0.05)
    batch = optimizer.space.to_unit(optimizer.ask(2))
    assert numpy.max(numpy.abs(batch[0] - batch[1])) > 0.05


def test_discrete_space_batches_are_distinct_until_the_space_runs_out():
    space = SearchSpace({"n": IntUniform(1, 4), "act": Choice(["relu", "tanh"])})  # 8 points
    optimizer = BayesianOptimizer(space, n_initial=2, seed=0)
    seen = []
    for _ in range(3):
        batch = optimizer.ask(2, pending=[])
        assert distinct(batch, seen)
        for params in batch:
            assert params["n"] in (1, 2, 3, 4) and params["act"] in ("relu", "tanh")
            optimizer.tell(params, (params["n"] - 3) ** 2 + (params["act"] == "tanh"))
        seen += batch


def test_failed_trials_count_as_the_worst_value_and_mixed_spaces_work():
    space = SearchSpace({"lr": LogUniform(1e-4, 1.0), "width": IntUniform(8, 64, log=True), "d": Uniform(0, 1)})
    optimizer = BayesianOptimizer(space, n_initial=3, seed=1)
    values = [0.5, None, 0.2, float("nan"), 0.9]
    for params, value in zip(space.sample(numpy.random.default_rng(0), 5), values):
        optimizer.tell(params, value)
    _, y = optimizer.observations()
    numpy.testing.assert_array_equal(y, [0.5, 0.9, 0.2, 0.9, 0.9])
    (proposal,) = optimizer.ask(1)
    assert 1e-4 <= proposal["lr"] <= 1.0 and 8 <= proposal["width"] <= 64


def test_initial_points_are_random_and_proposals_are_reproducible():
    space = forrester_space()
    a, b = BayesianOptimizer(space, n_initial=3, seed=4), BayesianOptimizer(space, n_initial=3, seed=4)
    first = a.ask(3)  # nothing told yet: the initial design, no GP involved
    assert first == b.ask(3) and len({p["x"] for p in first}) == 3
    for optimizer in (a, b):
        for x in (0.1, 0.5, 0.9):
            optimizer.tell({"x": x}, forrester_objective({"x": x}))
    assert a.ask(2) == b.ask(2)


def test_bad_options_raise():
    with pytest.raises(ValueError, match="acquisition"):
        BayesianOptimizer(forrester_space(), acquisition="magic")
    with pytest.raises(ValueError, match="batch_strategy"):
        BayesianOptimizer(forrester_space(), batch_strategy="guess")
    with pytest.raises(RuntimeError, match="2 successful"):
        BayesianOptimizer(forrester_space()).fit_model()


def test_without_local_refinement_proposals_still_work():
    from coursepkg.search import BayesianOptimizer, branin_space
    from coursepkg.search.testfunctions import branin_objective

    optimizer = BayesianOptimizer(branin_space(), n_refine=0, n_initial=3, seed=0)
    seen = []
    for _ in range(6):
        params = optimizer.ask(1)[0]
        optimizer.tell(params, branin_objective(params))
        seen.append((params["x1"], params["x2"]))
    assert len(set(seen)) == 6
