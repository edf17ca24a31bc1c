"""The course's datasets, all made or read offline, behind one function: :func:`load_dataset`.

::

    from coursepkg import data
    ds = data.load_dataset("moons", n_samples=500, noise=0.2, seed=0)
    ds.X.shape, ds.y.shape          # (500, 2), (500,)
    print(ds.description)

Every dataset is a :class:`Dataset` of **host NumPy arrays**: ``X`` in float32, ``y`` in int64
(class labels 0..C-1). Nothing is moved to a GPU behind your back: call :func:`to_backend`
(or use :func:`~coursepkg.data.batches.iterate_minibatches` on arrays you moved yourself).

Names: ``"digits"``, ``"iris"``, ``"breast_cancer"``, ``"wine"`` (bundled with scikit-learn),
``"moons"``, ``"circles"``, ``"blobs"`` (scikit-learn's generators), ``"spirals"`` (our own
generator) and ``"mnist1d"`` (our procedural MNIST-1D, with a fixed train/test split).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any

import numpy

from coursepkg.backend import Backend, get_backend, to_numpy
from coursepkg.data.mnist1d import make_mnist1d


@dataclasses.dataclass
class Dataset:
    """A dataset: inputs ``X``, labels ``y``, and what they mean.

    Attributes:
    - name: the name given to :func:`load_dataset`.
    - X: inputs of shape (N, *features), float32 (NumPy unless moved with :func:`to_backend`).
    - y: class labels of shape (N,), int64, values 0..C-1.
    - description: a short text: what it is, the shapes, the classes, the source.
    - feature_names: one name per feature column, or None.
    - target_names: one name per class, or None.
    - X_test, y_test: a fixed held-out test set, for datasets that come with one (MNIST-1D); else None.
    """

    name: str
    X: Any
    y: Any
    description: str
    feature_names: list[str] | None = None
    target_names: list[str] | None = None
    X_test: Any = None
    y_test: Any = None

    @property
    def n_classes(self) -> int:
        """Number of classes C (labels are 0..C-1)."""
        if self.target_names is not None:
            return len(self.target_names)
        return int(to_numpy(self.y).max()) + 1

    def __repr__(self) -> str:
        test = "" if self.X_test is None else f", X_test={tuple(self.X_test.shape)}"
        return (f"Dataset({self.name!r}, X={tuple(self.X.shape)}, y={tuple(self.y.shape)}{test}, "
                f"n_classes={self.n_classes})")


def to_backend(dataset: Dataset, backend: Backend | None = None) -> Dataset:
    """A copy of ``dataset`` whose arrays live on ``backend`` (default: the active backend).

    This is an explicit host-to-device transfer. ``X`` becomes the backend's default float dtype;
    ``y`` stays int64. The original (NumPy) dataset is not changed.
    """
    backend = get_backend() if backend is None else backend
    moved = {field: backend.asarray(getattr(dataset, field))
             for field in ("X", "y", "X_test", "y_test") if getattr(dataset, field) is not None}
    return dataclasses.replace(dataset, **moved)


# ---------------------------------------------------------------------- loaders, one per name
def _sklearn_datasets() -> Any:
    """scikit-learn's datasets module, imported on first use (it is slow to import)."""
    from sklearn import datasets

    return datasets


def _from_bunch(name: str, bunch: Any, what: str, source: str) -> Dataset:
    X = numpy.asarray(bunch.data, dtype=numpy.float32)
    y = numpy.asarray(bunch.target, dtype=numpy.int64)
    targets = [str(t) for t in bunch.target_names]
    counts = ", ".join(f"{t}: {c}" for t, c in zip(targets, numpy.bincount(y, minlength=len(targets))))
    description = (f"{what} X: {X.shape} float32, y: {y.shape} int64 with {len(targets)} classes "
                   f"({counts}). Source: {source}.")
    features = [str(f) for f in bunch.feature_names] if X.ndim == 2 else None
    return Dataset(name, X, y, description, features, targets)


def _digits(images: bool = False) -> Dataset:
    """8x8 grey-scale images of hand-written digits, pixel values 0..16; ``images=True`` gives (N, 8, 8)."""
    bunch = _sklearn_datasets().load_digits()
    dataset = _from_bunch("digits", bunch, "Hand-written digits, 8x8 pixels with values 0..16 (1797 images).",
                          "UCI ML hand-written digits, bundled with scikit-learn")
    if images:
        dataset.X = dataset.X.reshape(-1, 8, 8)
        dataset.feature_names = None
        dataset.description = dataset.description.replace("(1797, 64)", "(1797, 8, 8)")
    return dataset


def _iris() -> Dataset:
    return _from_bunch("iris", _sklearn_datasets().load_iris(), "Iris flowers: 4 measurements in cm (150 flowers).",
                       "Fisher (1936), bundled with scikit-learn")


def _breast_cancer() -> Dataset:
    return _from_bunch("breast_cancer", _sklearn_datasets().load_breast_cancer(),
                       "Breast cancer biopsies: 30 features of cell nuclei (569 patients).",
                       "Wisconsin Diagnostic Breast Cancer (UCI), bundled with scikit-learn")


def _wine() -> Dataset:
    return _from_bunch("wine", _sklearn_datasets().load_wine(), "Wines from three cultivars: 13 chemical measurements.",
                       "UCI wine recognition data, bundled with scikit-learn")


def _points(name: str, X: Any, y: Any, what: str, source: str) -> Dataset:
    X = numpy.asarray(X, dtype=numpy.float32)
    y = numpy.asarray(y, dtype=numpy.int64)
    n_classes = int(y.max()) + 1
    description = (f"{what} X: {X.shape} float32, y: {y.shape} int64 with {n_classes} classes "
                   f"({numpy.bincount(y).tolist()} examples each). Source: {source}.")
    features = [f"x{i + 1}" for i in range(X.shape[1])]
    return Dataset(name, X, y, description, features, [str(c) for c in range(n_classes)])


def _moons(n_samples: int = 200, noise: float = 0.1, seed: int = 0) -> Dataset:
    X, y = _sklearn_datasets().make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    return _points("moons", X, y, f"Two interleaving half circles, Gaussian noise {noise}.",
                   "sklearn.datasets.make_moons")


def _circles(n_samples: int = 200, noise: float = 0.05, factor: float = 0.5, seed: int = 0) -> Dataset:
    X, y = _sklearn_datasets().make_circles(n_samples=n_samples, noise=noise, factor=factor, random_state=seed)
    return _points("circles", X, y, f"A small circle (class 1, radius {factor}) inside a large one, noise {noise}.",
                   "sklearn.datasets.make_circles")


def _blobs(n_samples: int = 300, centers: int = 3, n_features: int = 2, cluster_std: float = 1.0,
           seed: int = 0) -> Dataset:
    X, y = _sklearn_datasets().make_blobs(n_samples=n_samples, centers=centers, n_features=n_features,
                                  cluster_std=cluster_std, random_state=seed)
    return _points("blobs", X, y, f"{centers} Gaussian blobs with standard deviation {cluster_std}.",
                   "sklearn.datasets.make_blobs")


def make_spirals(n_samples: int = 300, n_classes: int = 3, noise: float = 0.2,
                 seed: int = 0) -> tuple[numpy.ndarray, numpy.ndarray]:
    """K interleaved spiral arms in 2-D, one class per arm (the cs231n toy problem).

    Arm k starts at the origin and winds outwards: radius r from 0 to 1 and angle
    t = 4 (k + r) + noise * standard normal, so each arm turns 4 radians and the noise blurs it.

    Inputs:
    - n_samples: total number of points N, split as evenly as possible over the arms.
    - n_classes: number of arms K (>= 2).
    - noise: standard deviation of the angle noise, in radians.
    - seed: seed of a private numpy.random.Generator (global random state is not touched).
    Returns:
    - X: float32 array of shape (N, 2), shuffled.
    - y: int64 array of shape (N,), the arm of each point, 0..K-1.
    """
    if n_classes < 2 or n_samples < n_classes:
        raise ValueError(f"make_spirals: need n_classes >= 2 and n_samples >= n_classes, "
                         f"got n_samples={n_samples}, n_classes={n_classes}.")
    rng = numpy.random.default_rng(seed)
    y = numpy.arange(n_samples) % n_classes
    y.sort()
    radius = numpy.concatenate([numpy.linspace(0.0, 1.0, numpy.count_nonzero(y == k)) for k in range(n_classes)])
    angle = 4.0 * (y + radius) + noise * rng.standard_normal(n_samples)
    X = numpy.stack([radius * numpy.sin(angle), radius * numpy.cos(angle)], axis=1)
    order = rng.permutation(n_samples)
    return X[order].astype(numpy.float32), y[order].astype(numpy.int64)


def _spirals(n_samples: int = 300, n_classes: int = 3, noise: float = 0.2, seed: int = 0) -> Dataset:
    X, y = make_spirals(n_samples, n_classes, noise, seed)
    return _points("spirals", X, y, f"{n_classes} interleaved spiral arms, angle noise {noise}.",
                   "coursepkg.data.make_spirals")


def _mnist1d(n_samples: int = 5000, train_fraction: float = 0.8, seed: int = 42) -> Dataset:
    X, y, X_test, y_test = make_mnist1d(n_samples, train_fraction=train_fraction, seed=seed)
    description = (f"MNIST-1D: 1-D signals of length 40 made from 10 digit templates, shifted, scaled, sheared "
                   f"and noisy. X: {X.shape} float32, y: {y.shape} int64 (train); X_test: {X_test.shape}, "
                   f"y_test: {y_test.shape} (test); 10 classes. Source: coursepkg.data.make_mnist1d, "
                   "after Greydanus (2020), 'Scaling down deep learning'.")
    return Dataset("mnist1d", X, y, description, None, [str(d) for d in range(10)], X_test, y_test)


LOADERS: dict[str, Callable[..., Dataset]] = {
    "digits": _digits, "iris": _iris, "breast_cancer": _breast_cancer, "wine": _wine,
    "moons": _moons, "circles": _circles, "blobs": _blobs, "spirals": _spirals, "mnist1d": _mnist1d,
}


def load_dataset(name: str, **options: Any) -> Dataset:
    """Load or generate a dataset by name, offline.

    Inputs:
    - name: one of "digits", "iris", "breast_cancer", "wine", "moons", "circles", "blobs",
      "spirals", "mnist1d".
    - options: per-dataset keyword options (all optional):
      digits: images=False (True gives X of shape (N, 8, 8));
      moons: n_samples=200, noise=0.1, seed=0;
      circles: n_samples=200, noise=0.05, factor=0.5, seed=0;
      blobs: n_samples=300, centers=3, n_features=2, cluster_std=1.0, seed=0;
      spirals: n_samples=300, n_classes=3, noise=0.2, seed=0;
      mnist1d: n_samples=5000, train_fraction=0.8, seed=42.
    Returns: a :class:`Dataset` of NumPy arrays, X float32 of shape (N, *features), y int64 of shape (N,).
    """
    if name not in LOADERS:
        raise ValueError(f"load_dataset: unknown dataset {name!r}; the known names are {sorted(LOADERS)}.")
    loader = LOADERS[name]
    allowed = list(inspect.signature(loader).parameters)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise TypeError(f"load_dataset({name!r}): unknown option(s) {unknown}; its options are {allowed}.")
    return loader(**options)
