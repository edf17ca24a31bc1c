"""Data (lesson 01): datasets, splits, scaling, augmentation and mini-batches.

The usual pipeline, in this order::

    import numpy as np
    from coursepkg import data
    ds = data.load_dataset("mnist1d")                         # host NumPy arrays
    X_train, X_val, X_test, y_train, y_val, y_test = data.train_val_test_split(ds.X, ds.y, 0.15, 0.15)
    scaler = data.Standardizer().fit(X_train)                 # statistics from train only
    X_train, X_val = scaler.transform(X_train), scaler.transform(X_val)
    rng = np.random.default_rng(0)                            # one generator: reproducible, never repeating
    for X_batch, y_batch in data.iterate_minibatches(X_train, y_train, 64, rng=rng):
        X_batch = data.random_shift(X_batch, 3, rng)          # augment the training batches only
        ...

- :mod:`~coursepkg.data.datasets`: :func:`load_dataset`, :class:`Dataset`, :func:`to_backend`.
- :mod:`~coursepkg.data.mnist1d`: the procedural MNIST-1D generator.
- :mod:`~coursepkg.data.split`: train/validation/test splits and k-fold indices.
- :mod:`~coursepkg.data.scalers`: :class:`Standardizer`, :class:`MinMaxScaler`.
- :mod:`~coursepkg.data.augment`: noise, shifts, flips, crops.
- :mod:`~coursepkg.data.batches`: mini-batches and the epoch arithmetic.
"""

from coursepkg.data.augment import add_gaussian_noise, random_crop, random_flip, random_shift, shift_examples
from coursepkg.data.batches import BatchPlan, batches_per_epoch, iterate_minibatches, iterations
from coursepkg.data.datasets import LOADERS, Dataset, load_dataset, make_spirals, to_backend
from coursepkg.data.mnist1d import MNIST1DConfig, make_mnist1d, mnist1d_templates
from coursepkg.data.scalers import MinMaxScaler, Standardizer
from coursepkg.data.split import fold_sizes, kfold_indices, train_val_test_split

DATASET_NAMES = tuple(LOADERS)

__all__ = [
    "DATASET_NAMES", "BatchPlan", "Dataset", "MNIST1DConfig", "MinMaxScaler", "Standardizer",
    "add_gaussian_noise", "batches_per_epoch", "fold_sizes", "iterate_minibatches", "iterations",
    "kfold_indices", "load_dataset", "make_mnist1d", "make_spirals", "mnist1d_templates", "random_crop",
    "random_flip", "random_shift", "shift_examples", "to_backend", "train_val_test_split",
]
