"""Regression metrics against scikit-learn, including constant targets and multi-output."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn import metrics as sk

from coursepkg.metrics import UndefinedMetricWarning, regression

SETTINGS = settings(max_examples=50, deadline=None)
VALUES = st.integers(-40, 40).map(lambda v: v / 4.0)  # a grid: exact ties and constant columns happen


@st.composite
def targets(draw):
    n = draw(st.integers(1, 25))
    shape = draw(st.sampled_from([(n,), (n, 1), (n, 3)]))
    y_true = draw(arrays(np.float64, shape, elements=VALUES))
    if draw(st.booleans()):
        y_true[:] = y_true.flat[0]  # constant target: the R^2 special case
    y_pred = y_true.copy() if draw(st.booleans()) else draw(arrays(np.float64, shape, elements=VALUES))
    return y_true, y_pred


@SETTINGS
@given(case=targets())
def test_regression_metrics_match_sklearn(case):
    y_true, y_pred = case
    for ours, theirs in ((regression.mean_squared_error, sk.mean_squared_error),
                         (regression.root_mean_squared_error, sk.root_mean_squared_error),
                         (regression.mean_absolute_error, sk.mean_absolute_error)):
        assert ours(y_true, y_pred) == pytest.approx(theirs(y_true, y_pred), rel=1e-12, abs=1e-12)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours_r2 = regression.r2_score(y_true, y_pred)
        theirs_r2 = sk.r2_score(y_true, y_pred)
    warned = [w.category.__name__ for w in caught]
    assert warned.count("UndefinedMetricWarning") == (2 if len(y_true) < 2 else 0)  # ours and sklearn's
    if len(y_true) < 2:
        assert np.isnan(ours_r2) and np.isnan(theirs_r2)
    else:
        assert ours_r2 == pytest.approx(theirs_r2, rel=1e-12, abs=1e-12)


def test_r2_reference_points():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    assert regression.r2_score(y, y) == 1.0
    assert regression.r2_score(y, np.full(4, y.mean())) == 0.0  # predicting the mean
    assert regression.r2_score(np.ones(4), np.ones(4)) == 1.0
    assert regression.r2_score(np.ones(4), y) == 0.0
    with pytest.warns(UndefinedMetricWarning):
        regression.r2_score([1.0], [2.0])


def test_backend_inputs_and_errors(backend):
    y_true, y_pred = np.array([1.0, 2.0, 4.0]), np.array([1.5, 2.0, 3.0])
    assert regression.mean_squared_error(backend.asarray(y_true), backend.asarray(y_pred)) == pytest.approx(
        sk.mean_squared_error(y_true, y_pred))
    with pytest.raises(ValueError, match=r"\(3,\) and \(2,\)"):
        regression.mean_absolute_error(y_true, y_pred[:2])
