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

__all__ = [
    "plot_confusion_matrix", "plot_decision_boundary", "plot_gradient_norms", "plot_history",
    "plot_loss_surface",
]
