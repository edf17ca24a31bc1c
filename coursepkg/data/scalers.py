"""Feature scaling: standardization and min-max scaling, with statistics fit on training data only.

The rule that matters: compute the statistics (mean, standard deviation, minimum, maximum) on
the **training** set, then use those same numbers to transform validation and test data.
Fitting on all the data leaks information from the test set into training.

Both scalers work on any backend's arrays (NumPy, CuPy, array_api_strict): the namespace
comes from ``namespace_of(X)`` and the statistics stay on X's device. Statistics are
per feature, over the example axis 0, so X may be a table (N, D), signals (N, L) or images
(N, C, H, W).
"""

from __future__ import annotations

from typing import Any

from coursepkg.backend import is_array, namespace_of


def _as_float(X: Any, caller: str) -> tuple[Any, Any]:
    if not is_array(X):
        raise TypeError(f"{caller}: X must be an array (NumPy or a backend array), got {type(X).__name__}.")
    xp = namespace_of(X)
    if X.ndim < 1 or X.shape[0] == 0:
        raise ValueError(f"{caller}: X must have at least one example along axis 0, got shape {tuple(X.shape)}.")
    if not xp.isdtype(X.dtype, "real floating"):
        X = xp.astype(X, xp.float64)
    return xp, X


class _Scaler:
    """What the two scalers share: fit on train, check, transform, inverse."""

    def _check_fitted(self, X: Any, method: str) -> tuple[Any, Any]:
        caller = f"{type(self).__name__}.{method}"
        if self.n_features_shape is None:
            raise RuntimeError(f"{caller}: call fit(X_train) first; the scaler has no statistics yet.")
        xp, X = _as_float(X, caller)
        if tuple(X.shape[1:]) != self.n_features_shape:
            raise ValueError(f"{caller}: X has feature shape {tuple(X.shape[1:])} (X.shape={tuple(X.shape)}) "
                             f"but the scaler was fit on feature shape {self.n_features_shape}.")
        return xp, X

    def fit_transform(self, X: Any) -> Any:
        """Fit on X, then transform X. Use it on the training set only."""
        return self.fit(X).transform(X)


class Standardizer(_Scaler):
    """Scale every feature to mean 0 and standard deviation 1: ``(X - mean) / std``.

    ``std`` is the population standard deviation (divides by N, like scikit-learn's
    ``StandardScaler``). A feature that is constant on the training set has std 0; it keeps a
    scale of 1 instead (so it becomes 0, not NaN). "Constant" allows for rounding: a variance
    below N * eps * var + (N * mean * eps)^2 counts as zero, the test scikit-learn uses.

    Attributes after fit: ``mean`` and ``std`` (arrays of shape X.shape[1:], on X's device),
    ``n_features_shape``.
    """

    def __init__(self) -> None:
        self.mean: Any = None
        self.std: Any = None
        self.n_features_shape: tuple[int, ...] | None = None

    def fit(self, X: Any) -> Standardizer:
        """Compute the per-feature mean and standard deviation of X (N, *features). Returns self."""
        xp, X = _as_float(X, "Standardizer.fit")
        n = X.shape[0]
        mean = xp.mean(X, axis=0)
        variance = xp.mean((X - mean) ** 2, axis=0)
        eps = xp.finfo(X.dtype).eps
        constant = variance <= n * eps * variance + (n * mean * eps) ** 2
        self.mean = mean
        self.std = xp.where(constant, xp.ones_like(variance), xp.sqrt(variance))
        self.n_features_shape = tuple(X.shape[1:])
        return self

    def transform(self, X: Any) -> Any:
        """``(X - mean) / std`` with the statistics from fit. X: (M, *features) -> same shape."""
        _, X = self._check_fitted(X, "transform")
        return (X - self.mean) / self.std

    def inverse_transform(self, Z: Any) -> Any:
        """Undo :meth:`transform`: ``Z * std + mean``. Z: (M, *features) -> same shape."""
        _, Z = self._check_fitted(Z, "inverse_transform")
        return Z * self.std + self.mean


class MinMaxScaler(_Scaler):
    """Scale every feature linearly so that the training minimum and maximum map to ``feature_range``.

    ``X_scaled = low + (X - data_min) * (high - low) / (data_max - data_min)``. Values outside
    the training range land outside ``feature_range`` (no clipping). A feature that is constant
    on the training set (range below 10 * eps) keeps a range of 1, so it maps to ``low``.

    Attributes after fit: ``data_min``, ``data_max`` (arrays of shape X.shape[1:]),
    ``n_features_shape``.
    """

    def __init__(self, feature_range: tuple[float, float] = (0.0, 1.0)) -> None:
        low, high = feature_range
        if not low < high:
            raise ValueError(f"MinMaxScaler: feature_range must be (low, high) with low < high, got {feature_range}.")
        self.feature_range = (float(low), float(high))
        self.data_min: Any = None
        self.data_max: Any = None
        self.n_features_shape: tuple[int, ...] | None = None

    def fit(self, X: Any) -> MinMaxScaler:
        """Compute the per-feature minimum and maximum of X (N, *features). Returns self."""
        xp, X = _as_float(X, "MinMaxScaler.fit")
        self.data_min = xp.min(X, axis=0)
        self.data_max = xp.max(X, axis=0)
        self.n_features_shape = tuple(X.shape[1:])
        return self

    def _scale(self, xp: Any) -> Any:
        data_range = self.data_max - self.data_min
        data_range = xp.where(data_range < 10 * xp.finfo(data_range.dtype).eps, xp.ones_like(data_range), data_range)
        low, high = self.feature_range
        return (high - low) / data_range

    def transform(self, X: Any) -> Any:
        """Map X (M, *features) into feature_range with the statistics from fit; same shape."""
        xp, X = self._check_fitted(X, "transform")
        return self.feature_range[0] + (X - self.data_min) * self._scale(xp)

    def inverse_transform(self, Z: Any) -> Any:
        """Undo :meth:`transform`. Z: (M, *features) -> same shape."""
        xp, Z = self._check_fitted(Z, "inverse_transform")
        return (Z - self.feature_range[0]) / self._scale(xp) + self.data_min
