"""MNIST-1D, made locally: a small 1-D dataset on which CNNs clearly beat MLPs.

After Sam Greydanus, *Scaling down deep learning* (2020), https://github.com/greydanus/mnist1d.
Ten hand-designed templates of 12 points, one per digit, are turned into signals of length 40
by a pipeline of random transformations, each applied independently to every example:

1. **pad**: append between 36 and 60 zeros to the 12-point template, then stretch (linearly
   interpolate) the result to 72 points, so the digit fills a random fraction of the signal;
2. **scale**: multiply by a random factor in [0.8, 1.2];
3. **translate**: roll the signal circularly by 0..47 positions;
4. **correlated noise**: where the signal is exactly zero (the padding), put Gaussian noise
   smoothed by a Gaussian filter (sigma 2), so the background wiggles like a signal;
5. **white noise**: add small independent Gaussian noise everywhere;
6. **shear**: subtract a random linear ramp;
7. **subsample**: interpolate the 72 points down to 40.

Finally the whole dataset is standardized (one mean and one standard deviation) and split
into train and test. The paper reports about 32% test accuracy for logistic regression, 68%
for an MLP and 94% for a CNN: the digit's identity lives in the *shape*, wherever it is.

Everything is vectorized over examples (5000 signals in a few milliseconds) and uses its own
``numpy.random.Generator(seed)``: the global random state is never touched, nothing is
downloaded. The random stream differs from the original code's, so the numbers are not
bit-identical to the published files, but the distribution is the same.
"""

from __future__ import annotations

import dataclasses

import numpy

# One template per digit 0..9: 12 points drawn by hand to look like the digit's outline.
_RAW_TEMPLATES = numpy.array([
    [5, 6, 6.5, 6.75, 7, 7, 7, 7, 6.75, 6.5, 6, 5],
    [5, 3, 3, 3.4, 3.8, 4.2, 4.6, 5, 5.4, 5.8, 5, 5],
    [5, 6, 6.5, 6.5, 6, 5.25, 4.75, 4, 3.5, 3.5, 4, 5],
    [5, 6, 6.5, 6.5, 6, 5, 5, 6, 6.5, 6.5, 6, 5],
    [5, 4.4, 3.8, 3.2, 2.6, 2.6, 5, 5, 5, 5, 5, 5],
    [5, 3, 3, 3, 3, 5, 6, 6.5, 6.5, 6, 4.5, 5],
    [5, 4, 3.5, 3.25, 3, 3, 3, 3, 3.25, 3.5, 4, 5],
    [5, 7, 7, 6.6, 6.2, 5.8, 5.4, 5, 4.6, 4.2, 5, 5],
    [5, 4, 3.5, 3.5, 4, 5, 5, 4, 3.5, 3.5, 4, 5],
    [5, 4, 3.5, 3.5, 4, 5, 5, 5, 5, 4.7, 4.3, 5],
])


@dataclasses.dataclass(frozen=True)
class MNIST1DConfig:
    """The knobs of the generator (defaults are the paper's).

    - padding: (low, high), the number of zeros appended to a template, drawn in [low, high].
    - scale_coeff: the scale factor is drawn in [1 - scale_coeff/2, 1 + scale_coeff/2].
    - max_translation: circular shifts are drawn in [0, max_translation).
    - corr_noise_scale: standard deviation of the correlated background noise (before smoothing).
    - iid_noise_scale: standard deviation of the white noise.
    - shear_scale: the ramp's slope is drawn in [-shear_scale/2, shear_scale/2].
    - final_seq_length: length L of the output signals.
    """

    padding: tuple[int, int] = (36, 60)
    scale_coeff: float = 0.4
    max_translation: int = 48
    corr_noise_scale: float = 0.25
    iid_noise_scale: float = 2e-2
    shear_scale: float = 0.75
    final_seq_length: int = 40


def mnist1d_templates() -> numpy.ndarray:
    """The 10 digit templates, float64 array of shape (10, 12).

    Each template is standardized, shifted to start at 0 and divided by 6, as in the paper.
    """
    x = _RAW_TEMPLATES - _RAW_TEMPLATES.mean(axis=1, keepdims=True)
    x = x / x.std(axis=1, keepdims=True)
    x = x - x[:, :1]
    return x / 6.0


def gaussian_smooth(x: numpy.ndarray, sigma: float = 2.0) -> numpy.ndarray:
    """Smooth each row of x (N, M) with a Gaussian kernel, like ``scipy.ndimage.gaussian_filter1d``.

    The kernel is cut at 4 sigma; at the ends the row is mirrored (d c b a | a b c d | d c b a).
    Returns an array of shape (N, M).
    """
    radius = int(4 * sigma + 0.5)
    offsets = numpy.arange(-radius, radius + 1)
    kernel = numpy.exp(-0.5 * (offsets / sigma) ** 2)
    kernel /= kernel.sum()
    padded = numpy.pad(x, ((0, 0), (radius, radius)), mode="symmetric")
    return numpy.lib.stride_tricks.sliding_window_view(padded, 2 * radius + 1, axis=1) @ kernel


def _interpolate(x: numpy.ndarray, positions: numpy.ndarray) -> numpy.ndarray:
    """Linear interpolation of each row of x (N, M) at fractional indices ``positions`` (N, K) or (K,)."""
    positions = numpy.broadcast_to(positions, (x.shape[0], positions.shape[-1]))
    left = numpy.floor(positions).astype(numpy.int64)
    right = numpy.minimum(left + 1, x.shape[1] - 1)
    weight = positions - left
    return (1 - weight) * numpy.take_along_axis(x, left, 1) + weight * numpy.take_along_axis(x, right, 1)


def make_mnist1d(n_samples: int = 5000, *, train_fraction: float = 0.8, seed: int = 42,
                 config: MNIST1DConfig | None = None,
                 ) -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """Generate MNIST-1D (see the module docstring for the pipeline).

    Inputs:
    - n_samples: total number of examples N (classes are balanced to within one example).
    - train_fraction: the first round(train_fraction * N) examples form the training set.
    - seed: seed of a private numpy.random.Generator.
    - config: an :class:`MNIST1DConfig`, for experiments with the generator's difficulty.
    Returns:
    - X_train: float32 array of shape (N_train, L), L = config.final_seq_length (40).
    - y_train: int64 array of shape (N_train,), digits 0..9.
    - X_test: float32 array of shape (N - N_train, L).
    - y_test: int64 array of shape (N - N_train,).
    """
    config = MNIST1DConfig() if config is None else config
    if n_samples < 2 or not 0.0 < train_fraction < 1.0:
        raise ValueError(f"make_mnist1d: need n_samples >= 2 and 0 < train_fraction < 1, "
                         f"got n_samples={n_samples}, train_fraction={train_fraction}.")
    rng = numpy.random.default_rng(seed)
    templates = mnist1d_templates()
    low, high = config.padding
    width = templates.shape[1] + high  # 72 points after padding and stretching

    y = rng.permutation(numpy.arange(n_samples) % 10)
    padded = numpy.zeros((n_samples, width))
    padded[:, :templates.shape[1]] = templates[y] + 1e-8  # +1e-8: the digit itself is never exactly 0

    # 1. pad with p zeros, then stretch the 12 + p points to `width` points
    p = rng.integers(low, high + 1, n_samples)
    positions = numpy.linspace(0.0, 1.0, width)[None, :] * (templates.shape[1] + p - 1)[:, None]
    x = _interpolate(padded, positions)
    # 2. scale
    x *= 1 + config.scale_coeff * (rng.random((n_samples, 1)) - 0.5)
    # 3. translate: out[j] = x[(j - shift) mod width]
    shift = rng.integers(0, config.max_translation, n_samples)
    x = numpy.take_along_axis(x, (numpy.arange(width)[None, :] - shift[:, None]) % width, 1)
    # 4. correlated noise in the background, 5. white noise everywhere
    background = gaussian_smooth(config.corr_noise_scale * rng.standard_normal(x.shape), sigma=2.0)
    x = numpy.where(x != 0, x, background)
    x += config.iid_noise_scale * rng.standard_normal(x.shape)
    # 6. shear
    x -= config.shear_scale * (rng.random((n_samples, 1)) - 0.5) * numpy.linspace(-0.5, 0.5, width)
    # 7. subsample to the final length
    x = _interpolate(x, numpy.linspace(0.0, width - 1, config.final_seq_length))

    x = (x - x.mean()) / x.std()
    n_train = int(round(train_fraction * n_samples))
    X, y = x.astype(numpy.float32), y.astype(numpy.int64)
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]
