"""Search plots draw what they claim: best-so-far curves, and the GP slice with its acquisition."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy  # noqa: E402
import pytest  # noqa: E402

from coursepkg.search.bayes import BayesianOptimizer  # noqa: E402
from coursepkg.search.run import search  # noqa: E402
from coursepkg.search.space import LogUniform, SearchSpace, Uniform  # noqa: E402
from coursepkg.search.testfunctions import (  # noqa: E402
    BRANIN_MINIMUM,
    branin_objective,
    branin_space,
    forrester_objective,
    forrester_space,
)
from coursepkg.viz.search import best_so_far_matrix, plot_best_so_far, plot_gp_slice  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_best_so_far_plot_draws_the_median_curve_of_each_method():
    runs = {method: [search(branin_objective, branin_space(), method, 8, seed=s) for s in range(3)]
            for method in ("random", "grid")}
    ax = plot_best_so_far(runs, known_minimum=BRANIN_MINIMUM)
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"random (median of 3)", "grid (median of 3)", "known minimum"}
    want = numpy.median([numpy.minimum.accumulate(r.values()) for r in runs["random"]], axis=0)
    numpy.testing.assert_allclose(lines["random (median of 3)"].get_ydata(), want)
    ax = plot_best_so_far({"random": runs["random"][0]}, known_minimum=BRANIN_MINIMUM, log_gap=True)
    assert ax.get_yscale() == "log"
    numpy.testing.assert_allclose(ax.get_lines()[0].get_ydata(), runs["random"][0].best_so_far() - BRANIN_MINIMUM)


def test_best_so_far_matrix_cuts_runs_to_the_shortest():
    assert best_so_far_matrix([numpy.arange(5.0), numpy.arange(3.0)]).shape == (2, 3)
    with pytest.raises(ValueError, match="known_minimum"):
        plot_best_so_far({"a": numpy.arange(3.0)}, log_gap=True)


def test_gp_slice_shows_the_posterior_and_the_acquisition():
    optimizer = BayesianOptimizer(forrester_space(), n_initial=4, seed=0)
    search(forrester_objective, forrester_space(), optimizer, 7)
    top, bottom = plot_gp_slice(optimizer, true_function=forrester_objective, n_points=50)
    mean_line = top.get_lines()[0]
    x = mean_line.get_xdata()
    # fit_model refits from the same data, starting from the fitted values: the same posterior up to tolerance
    numpy.testing.assert_allclose(mean_line.get_ydata(), optimizer.fit_model().predict(x[:, None]), atol=1e-5)
    assert len(top.collections[1].get_offsets()) == 7  # every observation is drawn
    score = bottom.get_lines()[0].get_ydata()
    assert score.min() >= 0 and bottom.get_ylabel() == "EI"


def test_gp_slice_of_a_log_dimension_in_several_dimensions():
    space = SearchSpace({"lr": LogUniform(1e-4, 1.0), "d": Uniform(0.0, 1.0)})
    optimizer = BayesianOptimizer(space, n_initial=3, seed=0)
    search(lambda p: (numpy.log10(p["lr"]) + 2) ** 2 + p["d"], space, optimizer, 5)
    top, bottom = plot_gp_slice(optimizer, "lr", fixed={"d": 0.5})
    assert bottom.get_xscale() == "log"
    x = top.get_lines()[0].get_xdata()
    assert x.min() == pytest.approx(1e-4) and x.max() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="numeric hyperparameter"):
        plot_gp_slice(optimizer, "nope")
