"""Training: the ``fit`` loop, its ``History``, callbacks, progress bars and checkpoints (lesson 06).

- :mod:`~coursepkg.train.loop`: ``fit``, ``evaluate``, ``TrainingDiverged``.
- :mod:`~coursepkg.train.history`: ``History``.
- :mod:`~coursepkg.train.callbacks`: ``Callback``, ``EarlyStopping``, ``ModelCheckpoint``,
  ``LearningRateScheduler`` (``LivePlot`` lives in ``coursepkg.viz.training``).
- :mod:`~coursepkg.train.progress`: tqdm progress bars.
- :mod:`~coursepkg.train.checkpoint`: ``save_checkpoint``, ``load_checkpoint``.
"""

from coursepkg.train.callbacks import Callback, EarlyStopping, LearningRateScheduler, ModelCheckpoint
from coursepkg.train.checkpoint import load_checkpoint, save_checkpoint
from coursepkg.train.history import History
from coursepkg.train.loop import TrainingDiverged, evaluate, fit
from coursepkg.train.progress import TrainingProgress

__all__ = [
    "Callback", "EarlyStopping", "History", "LearningRateScheduler", "ModelCheckpoint", "TrainingDiverged",
    "TrainingProgress", "evaluate", "fit", "load_checkpoint", "save_checkpoint",
]
