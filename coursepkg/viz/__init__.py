"""Plotting and widget helpers for the notebooks (matplotlib, ipywidgets).

Kept out of the core: nothing else in ``coursepkg`` imports this package.
"""

from coursepkg.viz.plots import (
    plot_confusion_matrix,
    plot_decision_boundary,
    plot_gradient_norms,
    plot_history,
    plot_loss_surface,
)
from coursepkg.viz.search import plot_best_so_far, plot_gp_slice
from coursepkg.viz.training import LivePlot, plot_training_panels

__all__ = [
    "LivePlot", "plot_best_so_far", "plot_gp_slice", "plot_training_panels",
    "plot_confusion_matrix", "plot_decision_boundary", "plot_gradient_norms", "plot_history",
    "plot_loss_surface",
]
