"""Evaluation metrics (lesson 09): classification, threshold curves, regression, bootstrap intervals.

Metrics are computed **on the host**, with NumPy: each function first copies its inputs with
:func:`coursepkg.to_numpy`. That is the one deliberate device-to-host transfer of evaluation
(labels and scores are small), and it lets every metric accept NumPy arrays, CuPy or
array_api_strict arrays, Tensors and lists alike. Results are Python floats or NumPy arrays.

Every metric matches scikit-learn's (the tests use it as an oracle), including the edge cases:
undefined values (0/0) follow scikit-learn's ``zero_division`` rules and raise an
:class:`UndefinedMetricWarning` where scikit-learn does.

- :mod:`~coursepkg.metrics.classification`: accuracy, top-k accuracy, confusion matrix,
  precision / recall / F1 (binary, macro, micro, weighted), a classification report, log loss.
- :mod:`~coursepkg.metrics.curves`: ROC and precision-recall curves, AUC, average precision.
- :mod:`~coursepkg.metrics.regression`: MSE, RMSE, MAE, R^2.
- :mod:`~coursepkg.metrics.bootstrap`: percentile bootstrap confidence intervals.
"""

from coursepkg.metrics._inputs import UndefinedMetricWarning
from coursepkg.metrics.bootstrap import BootstrapInterval, bootstrap_confidence_interval
from coursepkg.metrics.classification import (
    accuracy,
    classification_report,
    confusion_matrix,
    f1_score,
    log_loss,
    precision_recall_f1,
    precision_score,
    recall_score,
    top_k_accuracy,
)
from coursepkg.metrics.curves import (
    auc,
    average_precision_score,
    counts_at_thresholds,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)
from coursepkg.metrics.regression import mean_absolute_error, mean_squared_error, r2_score, root_mean_squared_error

__all__ = [
    "BootstrapInterval", "UndefinedMetricWarning", "accuracy", "auc", "average_precision_score",
    "bootstrap_confidence_interval", "classification_report", "confusion_matrix", "counts_at_thresholds",
    "f1_score", "log_loss", "mean_absolute_error", "mean_squared_error", "precision_recall_curve",
    "precision_recall_f1", "precision_score", "r2_score", "recall_score", "roc_auc_score", "roc_curve",
    "root_mean_squared_error", "top_k_accuracy",
]
