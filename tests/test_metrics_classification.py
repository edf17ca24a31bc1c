"""Classification metrics against scikit-learn as an oracle, including the zero-division edge cases."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn import metrics as sk

import coursepkg as cp
from coursepkg.metrics import UndefinedMetricWarning, classification

SETTINGS = settings(max_examples=50, deadline=None)
pytestmark = pytest.mark.filterwarnings("ignore:A single label was found:UserWarning")  # sklearn's, not ours


@st.composite
def label_pairs(draw, max_classes: int = 6, max_n: int = 30):
    """(y_true, y_pred, C): small label arrays, so classes are often missing from one side or both."""
    c = draw(st.integers(1, max_classes))
    n = draw(st.integers(1, max_n))
    labels = st.integers(0, c - 1)
    return draw(arrays(np.int64, n, elements=labels)), draw(arrays(np.int64, n, elements=labels)), c


def _run(f, *args, **kwargs):
    """(result or the exception type, whether an UndefinedMetricWarning was raised)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = f(*args, **kwargs)
        except ValueError:
            result = ValueError
    undefined = any(w.category.__name__ == "UndefinedMetricWarning" for w in caught)
    return result, undefined


def _same(ours, theirs) -> None:
    if theirs is ValueError or ours is ValueError:
        assert ours is theirs
        return
    np.testing.assert_allclose(np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float), rtol=1e-12,
                               atol=1e-12, equal_nan=True)


@SETTINGS
@given(pair=label_pairs())
def test_accuracy_and_confusion_matrix_match_sklearn(pair):
    y_true, y_pred, c = pair
    assert classification.accuracy(y_true, y_pred) == pytest.approx(sk.accuracy_score(y_true, y_pred))
    ours = classification.confusion_matrix(y_true, y_pred, num_classes=c)
    np.testing.assert_array_equal(ours, sk.confusion_matrix(y_true, y_pred, labels=np.arange(c)))
    assert ours.shape == (c, c) and ours.sum() == len(y_true)
    default = classification.confusion_matrix(y_true, y_pred)
    assert default.shape[0] == max(y_true.max(), y_pred.max()) + 1


def test_accuracy_takes_argmax_of_scores():
    scores = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert classification.accuracy([1, 0, 0], scores) == pytest.approx(sk.accuracy_score([1, 0, 0], [1, 0, 1]))


@SETTINGS
@given(pair=label_pairs(), average=st.sampled_from(["macro", "micro", "weighted", None]),
       zero_division=st.sampled_from(["warn", 0, 1, np.nan]), fixed_classes=st.booleans())
def test_precision_recall_f1_multiclass_match_sklearn(pair, average, zero_division, fixed_classes):
    y_true, y_pred, c = pair
    num_classes = c if fixed_classes else None
    labels = np.arange(c) if fixed_classes else None
    for which, ours_f, sk_f in ((slice(0, 3), classification.precision_recall_f1, sk.precision_recall_fscore_support),
                                (0, classification.precision_score, sk.precision_score),
                                (1, classification.recall_score, sk.recall_score),
                                (2, classification.f1_score, sk.f1_score)):
        ours, ours_warned = _run(ours_f, y_true, y_pred, average=average, num_classes=num_classes,
                                 zero_division=zero_division)
        theirs, sk_warned = _run(sk_f, y_true, y_pred, average=average, labels=labels, zero_division=zero_division)
        if isinstance(which, slice):
            theirs = theirs[which]
            for o, t in zip(ours, theirs):
                _same(o, t)
        else:
            _same(ours, theirs)
        assert ours_warned == sk_warned, (ours_f.__name__, y_true, y_pred)


@SETTINGS
@given(pair=label_pairs(max_classes=2), pos_label=st.sampled_from([0, 1]),
       zero_division=st.sampled_from(["warn", 0, 1, np.nan]))
def test_binary_average_matches_sklearn(pair, pos_label, zero_division):
    y_true, y_pred, _ = pair
    ours, ours_warned = _run(classification.precision_recall_f1, y_true, y_pred, pos_label=pos_label,
                             zero_division=zero_division)
    theirs, sk_warned = _run(sk.precision_recall_fscore_support, y_true, y_pred, average="binary",
                             pos_label=pos_label, zero_division=zero_division)
    for o, t in zip(ours, theirs[:3]):
        _same(o, t)
    assert ours_warned == sk_warned


@pytest.mark.parametrize("y_true, y_pred, average", [
    ([0, 0, 0, 0], [0, 0, 0, 0], "binary"),            # one class only: nothing positive at all
    ([1, 1, 1], [1, 1, 1], "macro"),                   # one class only, all right
    ([0, 1, 2, 2], [0, 1, 1, 1], "macro"),             # class 2 never predicted
    ([0, 0, 1, 1], [0, 2, 1, 2], "weighted"),          # class 2 absent from y_true
    ([0, 1, 0, 1], [1, 0, 1, 0], "binary"),            # all wrong
    ([0, 1, 2], [0, 1, 2], "micro"),
])
def test_edge_cases_warn_exactly_where_sklearn_warns(y_true, y_pred, average):
    ours, ours_warned = _run(classification.precision_recall_f1, y_true, y_pred, average=average)
    theirs, sk_warned = _run(sk.precision_recall_fscore_support, y_true, y_pred, average=average)
    for o, t in zip(ours, theirs[:3]):
        _same(o, t)
    assert ours_warned == sk_warned


def test_warning_is_an_undefined_metric_warning():
    with pytest.warns(UndefinedMetricWarning, match="no predicted samples"):
        classification.precision_score([0, 1, 1], [0, 0, 0])


def test_binary_average_rejects_multiclass_and_bad_pos_label():
    with pytest.raises(ValueError, match="average='binary'"):
        classification.precision_recall_f1([0, 1, 2], [0, 1, 2])
    with pytest.raises(ValueError, match="pos_label=5"):
        classification.f1_score([0, 1, 1], [0, 1, 0], pos_label=5)
    with pytest.raises(ValueError, match="average must be one of"):
        classification.f1_score([0, 1], [0, 1], average="mean")
    with pytest.raises(ValueError, match="zero_division"):
        classification.f1_score([0, 1], [0, 1], zero_division=0.5)


@SETTINGS
@given(data=st.data())
def test_top_k_accuracy_matches_sklearn_with_ties(data):
    c = data.draw(st.integers(3, 6))
    n = data.draw(st.integers(1, 30))
    y_true = data.draw(arrays(np.int64, n, elements=st.integers(0, c - 1)))
    scores = data.draw(arrays(np.float64, (n, c), elements=st.integers(0, 3).map(float)))  # many ties
    k = data.draw(st.integers(1, c))
    ours, ours_warned = _run(classification.top_k_accuracy, y_true, scores, k=k)
    theirs, sk_warned = _run(sk.top_k_accuracy_score, y_true, scores, k=k, labels=np.arange(c))
    assert ours == pytest.approx(theirs)
    assert ours_warned == sk_warned == (k >= c)


@SETTINGS
@given(data=st.data(), dtype=st.sampled_from([np.float64, np.float32]))
def test_log_loss_matches_sklearn(data, dtype):
    c = data.draw(st.integers(2, 5))
    n = data.draw(st.integers(1, 30))
    y_true = data.draw(arrays(np.int64, n, elements=st.integers(0, c - 1)))
    raw = data.draw(arrays(np.float64, (n, c), elements=st.sampled_from([0.0, 0.5, 1.0, 2.0, 7.0])))
    raw[raw.sum(axis=1) == 0, 0] = 1.0  # rows with some mass; exact 0 and 1 probabilities test the clipping
    probabilities = (raw / raw.sum(axis=1, keepdims=True)).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # float32 rows may miss 1 by rounding: both warn
        ours = classification.log_loss(y_true, probabilities)
        theirs = sk.log_loss(y_true, probabilities, labels=np.arange(c))
    assert ours == pytest.approx(theirs, rel=1e-5 if dtype == np.float32 else 1e-12)
    if c == 2:
        assert classification.log_loss(y_true, probabilities[:, 1].astype(np.float64)) == pytest.approx(
            sk.log_loss(y_true, probabilities[:, 1].astype(np.float64), labels=[0, 1]), rel=1e-6)


def test_log_loss_errors_and_warnings():
    with pytest.raises(ValueError, match="softmax"):
        classification.log_loss([0, 1], np.array([[2.0, -1.0], [0.5, 0.5]]))
    with pytest.warns(UserWarning, match="sum to one"):
        classification.log_loss([0, 1], np.array([[0.3, 0.3], [0.5, 0.5]]))
    with pytest.raises(ValueError, match="columns"):
        classification.log_loss([0, 3], np.array([[0.5, 0.5], [0.5, 0.5]]))


@SETTINGS
@given(pair=label_pairs(max_classes=4))
def test_classification_report_matches_sklearn(pair):
    y_true, y_pred, c = pair
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = classification.classification_report(y_true, y_pred, num_classes=c, zero_division=0)
        theirs = sk.classification_report(y_true, y_pred, labels=np.arange(c), output_dict=True, zero_division=0)
    # scikit-learn reports "micro avg" instead of "accuracy" when some label is missing from both inputs
    theirs.pop("micro avg", None)
    ours_accuracy = ours.pop("accuracy")
    assert ours_accuracy == pytest.approx(sk.accuracy_score(y_true, y_pred))
    theirs.pop("accuracy", None)
    assert ours.keys() == theirs.keys()
    for name, row in theirs.items():
        for key, value in row.items():
            assert ours[name][key] == pytest.approx(value), (name, key)


def test_inputs_may_be_backend_arrays(backend):
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 3, 50), rng.integers(0, 3, 50)
    on_device = backend.asarray(y_true), backend.asarray(y_pred)
    assert classification.accuracy(*on_device) == pytest.approx(sk.accuracy_score(y_true, y_pred))
    np.testing.assert_array_equal(classification.confusion_matrix(*on_device), sk.confusion_matrix(y_true, y_pred))
    expected_f1 = sk.f1_score(y_true, y_pred, average="macro")
    assert classification.f1_score(*on_device, average="macro") == pytest.approx(expected_f1)
    from_tensor = classification.accuracy(cp.tensor(y_true.astype(float)), y_pred)
    assert from_tensor == pytest.approx(sk.accuracy_score(y_true, y_pred))


def test_clear_errors():
    with pytest.raises(ValueError, match=r"len\(y_true\)=3 and len\(y_pred\)=2"):
        classification.accuracy([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="whole-number"):
        classification.accuracy([0.5, 1.0], [0, 1])
    with pytest.raises(ValueError, match="num_classes=2"):
        classification.confusion_matrix([0, 2], [0, 1], num_classes=2)
    with pytest.raises(ValueError, match="empty"):
        classification.accuracy([], [])
