"""Search spaces: sampling distributions, the grid, and the map to and from the unit cube."""

from __future__ import annotations

import itertools
import json
import math

import numpy
import pytest

from coursepkg.search.space import Choice, IntUniform, LogUniform, SearchSpace, Uniform


def make_space() -> SearchSpace:
    return SearchSpace({
        "lr": LogUniform(1e-4, 1e-1),
        "dropout": Uniform(0.0, 0.5),
        "hidden": IntUniform(16, 256, log=True),
        "layers": IntUniform(1, 4),
        "activation": Choice(["relu", "tanh", "gelu"]),
    })


def test_samples_lie_in_their_ranges_and_are_plain_json_values():
    points = make_space().sample(numpy.random.default_rng(0), 200)
    assert len(points) == 200
    for p in points:
        assert 1e-4 <= p["lr"] <= 1e-1 and 0.0 <= p["dropout"] <= 0.5
        assert 16 <= p["hidden"] <= 256 and p["layers"] in (1, 2, 3, 4)
        assert p["activation"] in ("relu", "tanh", "gelu")
        assert type(p["lr"]) is float and type(p["hidden"]) is int and type(p["layers"]) is int
    assert json.loads(json.dumps(points)) == points


def test_sampling_is_reproducible_from_the_generator_seed():
    space = make_space()
    assert space.sample(numpy.random.default_rng(3), 5) == space.sample(numpy.random.default_rng(3), 5)
    assert space.sample(numpy.random.default_rng(3), 5) != space.sample(numpy.random.default_rng(4), 5)


def test_log_uniform_is_uniform_in_log_scale():
    dim = LogUniform(1e-4, 1.0)
    logs = numpy.log10(dim.sample(numpy.random.default_rng(0), 20_000))
    # each decade [-4, -3], ..., [-1, 0] gets a quarter of the samples (binomial std ~ 0.003)
    counts = numpy.histogram(logs, bins=[-4, -3, -2, -1, 0])[0] / len(logs)
    numpy.testing.assert_allclose(counts, 0.25, atol=0.015)


@pytest.mark.parametrize("dim, values", [
    (IntUniform(1, 4), [1, 2, 3, 4]),
    (Choice(["a", "b", "c"]), ["a", "b", "c"]),
])
def test_every_integer_and_choice_is_equally_likely(dim, values):
    draws = dim.sample(numpy.random.default_rng(0), 12_000)
    frequencies = numpy.array([draws.count(v) for v in values]) / len(draws)
    numpy.testing.assert_allclose(frequencies, 1 / len(values), atol=0.02)


def test_log_int_favours_small_values_like_a_log_uniform():
    draws = numpy.array(IntUniform(1, 1000, log=True).sample(numpy.random.default_rng(0), 10_000))
    assert 0.4 < numpy.mean(draws <= 31) < 0.6  # sqrt(1000) ~ 31.6: half the mass in log scale
    assert set(numpy.unique(draws)) <= set(range(1, 1001))


def test_unit_cube_ends_and_log_midpoint():
    numpy.testing.assert_allclose(Uniform(-2.0, 6.0).to_unit([-2.0, 2.0, 6.0]), [0.0, 0.5, 1.0])
    numpy.testing.assert_allclose(LogUniform(1e-4, 1.0).to_unit([1e-4, 1e-2, 1.0]), [0.0, 0.5, 1.0])
    # integers sit at the centres of equal cells; choices too
    numpy.testing.assert_allclose(IntUniform(0, 3).to_unit([0, 1, 2, 3]), [0.125, 0.375, 0.625, 0.875])
    numpy.testing.assert_allclose(Choice(["x", "y"]).to_unit(["x", "y"]), [0.25, 0.75])


def test_round_trip_through_the_unit_cube():
    space = make_space()
    points = space.sample(numpy.random.default_rng(1), 50)
    U = space.to_unit(points)
    assert U.shape == (50, 5) and U.min() >= 0 and U.max() <= 1
    back = space.from_unit(U)
    for p, q in zip(points, back):
        assert q["hidden"] == p["hidden"] and q["layers"] == p["layers"] and q["activation"] == p["activation"]
        assert math.isclose(q["lr"], p["lr"], rel_tol=1e-12) and math.isclose(q["dropout"], p["dropout"],
                                                                              rel_tol=1e-12, abs_tol=1e-15)


def test_from_unit_clips_and_rounds():
    space = SearchSpace({"n": IntUniform(2, 5), "x": Uniform(0.0, 1.0)})
    (p,) = space.from_unit(numpy.array([[1.3, -0.2]]))
    assert p == {"n": 5, "x": 0.0}
    (q,) = space.from_unit(numpy.array([[0.49, 0.5]]))  # cells of width 1/4: 0.49 is in the cell of 3
    assert q["n"] == 3


def test_grid_is_the_cartesian_product():
    space = SearchSpace({"a": Uniform(0.0, 1.0), "b": LogUniform(1e-3, 1e-1), "c": Choice([True, False]),
                         "d": IntUniform(1, 3)})
    grid = space.grid(3)
    a = [0.0, 0.5, 1.0]
    b = [1e-3, 1e-2, 1e-1]
    c = [True, False]
    d = [1, 2, 3]
    assert len(grid) == 3 * 3 * 2 * 3
    expected = list(itertools.product(a, b, c, d))
    for point, values in zip(grid, expected):
        assert point["c"] is values[2] and point["d"] == values[3]
        numpy.testing.assert_allclose([point["a"], point["b"]], [values[0], values[1]], rtol=1e-12)


def test_grid_points_per_dimension_can_differ_and_integers_are_not_repeated():
    space = SearchSpace({"a": Uniform(0.0, 1.0), "n": IntUniform(1, 3)})
    grid = space.grid({"a": 2, "n": 10})
    assert [(p["a"], p["n"]) for p in grid] == [(0.0, 1), (0.0, 2), (0.0, 3), (1.0, 1), (1.0, 2), (1.0, 3)]
    assert IntUniform(1, 100).grid(5) == [1, 26, 50, 75, 100]
    assert IntUniform(1, 1000, log=True).grid(4) == [1, 10, 100, 1000]


@pytest.mark.parametrize("make, error", [
    (lambda: LogUniform(0.0, 1.0), ValueError),
    (lambda: Uniform(1.0, 1.0), ValueError),
    (lambda: IntUniform(0, 5, log=True), ValueError),
    (lambda: IntUniform(0.5, 5), ValueError),
    (lambda: Choice([]), ValueError),
    (lambda: Choice([[1, 2]]), TypeError),
    (lambda: SearchSpace({}), ValueError),
    (lambda: SearchSpace({"a": (0, 1)}), TypeError),
])
def test_bad_definitions_raise(make, error):
    with pytest.raises(error):
        make()


def test_bad_points_raise_with_the_shapes():
    space = make_space()
    with pytest.raises(ValueError, match=r"\(n, 5\)"):
        space.from_unit(numpy.zeros((3, 2)))
    with pytest.raises(KeyError, match="lacks"):
        space.to_unit([{"lr": 0.01}])
    with pytest.raises(ValueError, match="not one of"):
        Choice(["a"]).to_unit(["b"])
    with pytest.raises(TypeError, match="Generator"):
        space.sample(0, 3)
