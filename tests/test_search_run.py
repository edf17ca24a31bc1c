"""Running searches: grid/random/bayes through executors, failures, results files, resuming."""

from __future__ import annotations

import json
import math
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy
import pytest

from coursepkg.search.executor import InProcessExecutor, default_batch_size, run_trial
from coursepkg.search.results import SearchResult, load_trials
from coursepkg.search.run import search
from coursepkg.search.samplers import GridSampler, RandomSampler
from coursepkg.search.space import Choice, SearchSpace, Uniform
from coursepkg.search.testfunctions import branin, branin_objective, branin_space


class CountingObjective:
    """Branin, counting its calls; raises or returns NaN on chosen calls; can simulate Ctrl-C."""

    def __init__(self, raise_on=(), nan_on=(), interrupt_on=None):
        self.calls, self.raise_on, self.nan_on, self.interrupt_on = 0, raise_on, nan_on, interrupt_on

    def __call__(self, params):
        self.calls += 1
        if self.calls == self.interrupt_on:
            raise KeyboardInterrupt
        if self.calls in self.raise_on:
            raise ValueError(f"diverged on call {self.calls}")
        if self.calls in self.nan_on:
            return float("nan")
        return branin_objective(params)


def options_for(method):
    return {"n_initial": 3} if method == "bayes" else {}


def test_grid_search_runs_every_point_of_the_product_once():
    objective = CountingObjective()
    result = search(objective, branin_space(), "grid", points_per_dim=4)
    assert len(result) == objective.calls == 16
    pairs = {(t["params"]["x1"], t["params"]["x2"]) for t in result}
    expected = {(a, b) for a in numpy.linspace(-5, 10, 4) for b in numpy.linspace(0, 15, 4)}
    assert len(pairs) == 16 and all(min(abs(a - p[0]) + abs(b - p[1]) for p in pairs) < 1e-12 for a, b in expected)
    for t in result:
        assert t["value"] == pytest.approx(float(branin(t["params"]["x1"], t["params"]["x2"])))
    assert result.best_value == min(t["value"] for t in result)
    # a budget smaller than the grid runs a prefix; a larger one stops when the grid is done
    assert len(search(branin_objective, branin_space(), "grid", 5, points_per_dim=4)) == 5
    assert len(search(branin_objective, branin_space(), "grid", 50, points_per_dim=4)) == 16


def test_random_search_is_seeded_and_records_every_field():
    a = search(branin_objective, branin_space(), "random", 6, seed=1)
    b = search(branin_objective, branin_space(), "random", 6, seed=1)
    assert [t["params"] for t in a] == [t["params"] for t in b]
    assert [t["params"] for t in a] != [t["params"] for t in search(branin_objective, branin_space(), "random", 6,
                                                                     seed=2)]
    assert [t["trial_id"] for t in a] == list(range(6))
    for t in a:
        assert set(t) == {"trial_id", "params", "value", "status", "error", "duration"}
        assert t["status"] == "ok" and t["error"] is None and t["duration"] >= 0


@pytest.mark.parametrize("method", ["random", "bayes"])
def test_failing_trials_are_recorded_and_the_search_goes_on(method):
    objective = CountingObjective(raise_on=(2, 7), nan_on=(4,))
    result = search(objective, branin_space(), method, 9, seed=0, **options_for(method))
    assert len(result) == objective.calls == 9
    failed = [t for t in result if t["status"] == "failed"]
    assert [t["trial_id"] for t in failed] == [1, 3, 6]
    assert "ValueError: diverged on call 2" in failed[0]["error"] and "nan" in failed[1]["error"]
    assert all(t["value"] is None for t in failed)
    assert result.n_failed == 3 and result.best["status"] == "ok"
    assert numpy.isnan(result.values()[1])


def test_run_trial_fails_on_non_numbers_and_infinity():
    assert run_trial(lambda p: "a string", {})["status"] == "failed"
    assert "inf" in run_trial(lambda p: math.inf, {})["error"]
    assert run_trial(lambda p: numpy.float32(2.5), {})["value"] == 2.5


@pytest.mark.parametrize("method", ["random", "bayes", "grid"])
def test_resume_runs_only_the_missing_trials(tmp_path, method):
    path = tmp_path / "trials.jsonl"
    first = CountingObjective()
    search(first, branin_space(), method, 5, seed=0, results_path=path, **options_for(method))
    assert first.calls == 5 and len(load_trials(path)) == 5
    second = CountingObjective()
    result = search(second, branin_space(), method, 8, seed=0, results_path=path, **options_for(method))
    assert second.calls == 3
    assert len(result) == 8 and len(load_trials(path)) == 8
    assert [t["trial_id"] for t in result] == list(range(8))
    keys = [tuple(t["params"].values()) for t in result]
    assert len(set(keys)) == 8  # the resumed run did not repeat earlier points
    third = CountingObjective()
    search(third, branin_space(), method, 8, seed=0, results_path=path)
    assert third.calls == 0


def test_an_interrupted_search_resumes_from_its_file(tmp_path):
    path = tmp_path / "trials.jsonl"
    objective = CountingObjective(interrupt_on=4)
    with pytest.raises(KeyboardInterrupt):
        search(objective, branin_space(), "random", 10, seed=0, results_path=path)
    assert len(load_trials(path)) == 3  # the trials finished before Ctrl-C, flushed to the file
    objective = CountingObjective()
    result = search(objective, branin_space(), "random", 10, seed=0, results_path=path)
    assert objective.calls == 7 and len(result) == 10


def test_results_file_is_json_lines_and_a_torn_last_line_is_skipped(tmp_path):
    path = tmp_path / "trials.jsonl"
    search(CountingObjective(nan_on=(2,)), branin_space(), "random", 3, results_path=path)
    lines = path.read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[1])["value"] is None  # valid JSON: no NaN literal
    with open(path, "a") as file:
        file.write('{"trial_id": 3, "params": {"x1"')
    with pytest.warns(UserWarning, match="incomplete"):
        assert len(load_trials(path)) == 3


def test_a_results_file_of_another_space_is_refused(tmp_path):
    path = tmp_path / "trials.jsonl"
    search(branin_objective, branin_space(), "random", 2, results_path=path)
    with pytest.raises(ValueError, match="new results_path"):
        search(lambda p: p["x"], SearchSpace({"x": Uniform(0, 1)}), "random", 4, results_path=path)


def test_maximize():
    space = SearchSpace({"x": Uniform(-1.0, 1.0)})
    result = search(lambda p: -(p["x"] - 0.3) ** 2, space, "bayes", 12, seed=0, minimize=False)
    assert result.best_value == max(t["value"] for t in result)
    assert abs(result.best_params["x"] - 0.3) < 0.05
    numpy.testing.assert_array_equal(result.best_so_far(), numpy.maximum.accumulate(result.values()))


def test_best_so_far_and_dataframe():
    trials = [{"trial_id": i, "params": {"x": x, "value": 1}, "value": v, "status": "ok" if v is not None else
               "failed", "error": None, "duration": 0.1} for i, (x, v) in enumerate([(0.1, None), (0.2, 3.0),
                                                                                      (0.3, 5.0), (0.4, 1.0)])]
    result = SearchResult(trials)
    numpy.testing.assert_array_equal(result.best_so_far(), [numpy.nan, 3.0, 3.0, 1.0])
    assert result.best["trial_id"] == 3 and result.n_failed == 1
    frame = result.to_dataframe()
    assert list(frame.columns) == ["trial_id", "x", "param_value", "value", "status", "error", "duration"]
    assert frame["x"].tolist() == [0.1, 0.2, 0.3, 0.4]
    with pytest.raises(ValueError, match="none of the 1"):
        SearchResult(trials[:1]).best  # noqa: B018


def test_process_pool_runs_the_same_trials_as_serial():
    serial = search(branin_objective, branin_space(), "grid", points_per_dim=3)
    with ProcessPoolExecutor(max_workers=2) as pool:
        assert default_batch_size(pool) == 2
        parallel = search(branin_objective, branin_space(), "grid", executor=pool, points_per_dim=3)
    by_id = {t["trial_id"]: t for t in parallel}
    assert len(parallel) == 9
    for t in serial:
        assert by_id[t["trial_id"]]["params"] == t["params"] and by_id[t["trial_id"]]["value"] == t["value"]


def test_bayes_in_parallel_keeps_a_batch_running(tmp_path):
    with ThreadPoolExecutor(max_workers=3) as pool:
        result = search(branin_objective, branin_space(), "bayes", 12, executor=pool, seed=0, n_initial=4,
                        results_path=tmp_path / "t.jsonl")
    keys = [tuple(t["params"].values()) for t in result]
    assert len(result) == 12 and len(set(keys)) == 12 and result.n_failed == 0
    assert result.best_value < numpy.median(result.values())


def test_samplers_alone_speak_ask_and_tell():
    space = SearchSpace({"a": Choice(["x", "y"]), "b": Uniform(0, 1)})
    grid = GridSampler(space, points_per_dim=2)
    grid.tell({"a": "x", "b": 0.0}, 1.0)
    assert grid.ask(10) == [{"a": "x", "b": 1.0}, {"a": "y", "b": 0.0}, {"a": "y", "b": 1.0}]
    assert grid.ask(1) == []
    assert len(RandomSampler(space, seed=0).ask(4)) == 4
    assert InProcessExecutor().submit(pow, 2, 5).result() == 32


@pytest.mark.slow
def test_search_on_a_local_dask_cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        executor = client.get_executor(pure=False)
        assert default_batch_size(executor) == 2
        result = search(branin_objective, branin_space(), "bayes", 10, executor=executor, seed=0, n_initial=4)
        workers = client.run(lambda: __import__("os").getpid())
    assert len(result) == 10 and result.n_failed == 0
    for t in result:
        assert t["value"] == pytest.approx(float(branin(t["params"]["x1"], t["params"]["x2"])))
    assert len(set(workers.values())) == 2  # two real worker processes
