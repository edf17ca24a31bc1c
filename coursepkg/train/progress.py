"""Progress bars for ``fit``: a widget in JupyterLab, text in a terminal, nothing when disabled.

``tqdm.auto`` picks the right kind of bar by itself. ``fit`` shows one bar over the epochs
(with the latest epoch's logs next to it) and, below it, one bar over the batches of the
current epoch, which disappears when the epoch ends.
"""

from __future__ import annotations

from typing import Any


def format_logs(logs: dict[str, Any], digits: int = 4) -> dict[str, str]:
    """The numbers of ``logs`` as short strings, for display (``epoch`` left out)."""
    return {key: f"{value:.{digits}g}" for key, value in logs.items()
            if key != "epoch" and isinstance(value, (int, float)) and not isinstance(value, bool)}


class TrainingProgress:
    """The two progress bars of a training run.

    Inputs:
    - epochs: how many epochs are planned.
    - batches_per_epoch: how many batches each epoch has.
    - enabled: False makes every method a no-op (and prints nothing at all).
    """

    def __init__(self, epochs: int, batches_per_epoch: int, enabled: bool = True) -> None:
        self.enabled, self.batches_per_epoch = enabled, batches_per_epoch
        self.epoch_bar: Any = None
        self.batch_bar: Any = None
        if enabled:
            from tqdm.auto import tqdm  # imported here: a disabled bar needs no tqdm at all
            self._tqdm = tqdm
            self.epoch_bar = tqdm(total=epochs, desc="training", unit="epoch")

    def start_epoch(self, epoch: int) -> None:
        if self.enabled:
            self._close_batch_bar()
            self.batch_bar = self._tqdm(total=self.batches_per_epoch, desc=f"epoch {epoch}", unit="batch",
                                        leave=False)

    def end_batch(self, loss: float) -> None:
        if self.batch_bar is not None:
            self.batch_bar.set_postfix(loss=f"{loss:.4g}", refresh=False)
            self.batch_bar.update(1)

    def end_epoch(self, logs: dict[str, Any]) -> None:
        if self.enabled:
            self._close_batch_bar()
            self.epoch_bar.set_postfix(format_logs(logs), refresh=False)
            self.epoch_bar.update(1)

    def close(self) -> None:
        """Close the bars (also called when training fails, so no bar is left half-drawn)."""
        if self.enabled:
            self._close_batch_bar()
            self.epoch_bar.close()

    def _close_batch_bar(self) -> None:
        if self.batch_bar is not None:
            self.batch_bar.close()
            self.batch_bar = None
