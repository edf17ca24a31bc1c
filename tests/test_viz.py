"""The shared plots draw what they are given (checked on the Axes, not by eye)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from coursepkg import viz  # noqa: E402


def test_plot_history_draws_one_line_per_key():
    ax = viz.plot_history({"train_loss": [3, 2, 1], "val_loss": [3.5, 2.5, 2.0]})
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["train_loss", "val_loss"]
    np.testing.assert_array_equal(lines[1].get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(lines[1].get_ydata(), [3.5, 2.5, 2.0])


def test_confusion_matrix_annotates_every_cell():
    ax = viz.plot_confusion_matrix(np.array([[5, 1], [2, 7]]), class_names=["cat", "dog"])
    assert sorted(t.get_text() for t in ax.texts) == ["1", "2", "5", "7"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog"]


def test_normalized_confusion_matrix_rows_sum_to_one():
    ax = viz.plot_confusion_matrix(np.array([[3, 1], [0, 4]]), normalize=True)
    values = sorted(float(t.get_text()) for t in ax.texts)
    assert values == [0.0, 0.25, 0.75, 1.0]


def test_decision_boundary_scatters_every_point_and_shades_both_classes():
    X = np.random.default_rng(0).uniform(-1, 1, (40, 2))
    y = (X[:, 0] > 0).astype(int)
    ax = viz.plot_decision_boundary(lambda grid: (grid[:, 0] > 0).astype(int), X, y)
    assert ax.collections[-1].get_offsets().shape == (40, 2)
    assert len(ax.collections) >= 2  # contour set + scatter


def test_loss_surface_plots_each_trajectory():
    path = np.array([[1.0, 1.0], [0.5, 0.2], [0.1, 0.0]])
    ax = viz.plot_loss_surface(lambda a, b: a**2 + 10 * b**2, (-2, 2), (-1, 1), {"sgd": path, "adam": path * 0.5})
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["sgd", "adam"]
    np.testing.assert_allclose(ax.get_lines()[1].get_xydata(), path * 0.5)
