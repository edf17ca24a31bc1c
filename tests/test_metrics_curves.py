"""ROC and precision-recall curves against scikit-learn, with tied and all-equal scores."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn import metrics as sk

from coursepkg.metrics import UndefinedMetricWarning, curves

SETTINGS = settings(max_examples=50, deadline=None)


@st.composite
def binary_scores(draw):
    """(y_true, scores): few distinct score values, so ties are common; sometimes a single class."""
    n = draw(st.integers(1, 30))
    y_true = draw(arrays(np.int64, n, elements=st.integers(0, 1)))
    levels = draw(st.sampled_from([1, 3, 10, 1000]))  # levels=1: all scores equal
    scores = draw(arrays(np.float64, n, elements=st.integers(0, levels - 1).map(lambda v: v / 7.0)))
    return y_true, scores


def _record(f, *args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = f(*args, **kwargs)
    return result, any(w.category.__name__ == "UndefinedMetricWarning" for w in caught)


def _assert_arrays_equal(ours, theirs):
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o, t, rtol=1e-12, atol=0, equal_nan=True)


@SETTINGS
@given(case=binary_scores(), drop=st.booleans())
def test_roc_curve_matches_sklearn(case, drop):
    y_true, scores = case
    ours, ours_warned = _record(curves.roc_curve, y_true, scores, drop_intermediate=drop)
    theirs, sk_warned = _record(sk.roc_curve, y_true, scores, drop_intermediate=drop)
    _assert_arrays_equal(ours, theirs)
    assert ours_warned == sk_warned


@SETTINGS
@given(case=binary_scores(), drop=st.booleans())
def test_precision_recall_curve_and_average_precision_match_sklearn(case, drop):
    y_true, scores = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no positive example: both warn (tested below)
        _assert_arrays_equal(curves.precision_recall_curve(y_true, scores, drop_intermediate=drop),
                             sk.precision_recall_curve(y_true, scores, drop_intermediate=drop))
        assert curves.average_precision_score(y_true, scores) == pytest.approx(
            sk.average_precision_score(y_true, scores), abs=1e-12)


def _pairwise_auc(y_true, scores):
    """P(score of a random positive > score of a random negative), ties counting 1/2: the AUC's definition."""
    positive, negative = scores[y_true == 1], scores[y_true == 0]
    diff = positive[:, None] - negative[None, :]
    return float(np.mean((diff > 0) + 0.5 * (diff == 0)))


@SETTINGS
@given(case=binary_scores())
def test_roc_auc_matches_sklearn_and_the_pairwise_definition(case):
    y_true, scores = case
    ours, ours_warned = _record(curves.roc_auc_score, y_true, scores)
    theirs, sk_warned = _record(sk.roc_auc_score, y_true, scores)
    assert ours_warned == sk_warned
    if len(np.unique(y_true)) < 2:
        assert np.isnan(ours) and np.isnan(theirs)
    else:
        assert ours == pytest.approx(theirs, abs=1e-12)
        assert ours == pytest.approx(_pairwise_auc(y_true, scores), abs=1e-12)


def test_all_equal_scores_give_the_chance_diagonal():
    y_true = np.array([0, 1, 1, 0, 1])
    fpr, tpr, thresholds = curves.roc_curve(y_true, np.full(5, 0.3))
    np.testing.assert_array_equal(fpr, [0, 1])
    np.testing.assert_array_equal(tpr, [0, 1])
    assert thresholds[0] == np.inf
    assert curves.roc_auc_score(y_true, np.full(5, 0.3)) == 0.5


def test_pos_label_flips_the_problem():
    rng = np.random.default_rng(0)
    y_true, scores = rng.integers(0, 2, 40), rng.random(40)
    assert curves.roc_auc_score(y_true, scores, pos_label=0) == pytest.approx(sk.roc_auc_score(1 - y_true, scores))
    assert curves.average_precision_score(y_true, scores, pos_label=0) == pytest.approx(
        sk.average_precision_score(y_true, scores, pos_label=0))
    with pytest.raises(ValueError, match="pos_label=3"):
        curves.roc_curve(y_true, scores, pos_label=3)


@SETTINGS
@given(data=st.data())
def test_one_vs_rest_auc_matches_sklearn(data):
    c = data.draw(st.integers(3, 5))
    n = data.draw(st.integers(c, 30))
    y_true = np.concatenate([np.arange(c), data.draw(arrays(np.int64, n - c, elements=st.integers(0, c - 1)))])
    logits = data.draw(arrays(np.float64, (n, c), elements=st.integers(-3, 3).map(float)))
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert curves.roc_auc_score(y_true, probabilities) == pytest.approx(
        sk.roc_auc_score(y_true, probabilities, multi_class="ovr", average="macro"), abs=1e-12)


@SETTINGS
@given(x=arrays(np.float64, st.integers(2, 20), elements=st.integers(-50, 50).map(float)),
       y=arrays(np.float64, 20, elements=st.floats(-10, 10)))
def test_auc_trapezoid_matches_sklearn(x, y):
    x, y = np.sort(x), y[: len(x)]
    assert curves.auc(x, y) == pytest.approx(sk.auc(x, y), abs=1e-9)
    assert curves.auc(x[::-1], y[::-1]) == pytest.approx(sk.auc(x, y), abs=1e-9)


def test_auc_and_curve_errors():
    with pytest.raises(ValueError, match="increasing or decreasing"):
        curves.auc([0, 2, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="at least 2 points"):
        curves.auc([0.0], [1.0])
    with pytest.raises(ValueError, match="binary"):
        curves.roc_curve([0, 1, 2], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"len\(y_true\)=2 and len\(scores\)=3"):
        curves.roc_curve([0, 1], [0.1, 0.2, 0.3])
    with pytest.warns(UndefinedMetricWarning, match="Only one class"):
        assert np.isnan(curves.roc_auc_score([1, 1, 1], [0.1, 0.2, 0.3]))


def test_inputs_may_be_backend_arrays(backend):
    rng = np.random.default_rng(1)
    y_true, scores = rng.integers(0, 2, 60), rng.random(60)
    ours = curves.roc_auc_score(backend.asarray(y_true), backend.asarray(scores))
    assert ours == pytest.approx(sk.roc_auc_score(y_true, scores.astype(np.float32)))
