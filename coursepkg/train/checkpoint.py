"""Checkpoints: save a model (and its optimizer) to one ``.npz`` file, and load it back.

A checkpoint is a NumPy ``.npz`` archive holding only plain arrays:

- ``model/<name>`` for every entry of ``model.state_dict()`` (parameters and buffers),
- ``optimizer/<name>`` for every array in ``optimizer.state_dict()``,
- ``__metadata__``: a JSON text (as uint8 bytes) with the epoch, your ``extra`` values, the
  optimizer's hyperparameters and step counts, and the class names.

No Python objects are pickled, and loading uses ``numpy.load(..., allow_pickle=False)``: opening
a checkpoint can never run code hidden in the file (a pickle can).

Saving is *atomic*: the archive is written to a temporary file in the same folder, flushed to
disk (fsync), then renamed over the target with ``os.replace``. If anything fails half-way
(a full disk, Ctrl-C, a crash), the previous checkpoint stays intact and no temporary file
is left behind.

Arrays are copied to the host on save (``to_numpy``) and to the *active* backend on load, so a
checkpoint saved on a GPU loads on a laptop and the other way round.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy

from coursepkg.backend import get_backend, to_numpy

FORMAT = "coursepkg-checkpoint"
VERSION = 1
METADATA_KEY = "__metadata__"


def save_checkpoint(path: str | os.PathLike, model: Any, optimizer: Any = None, epoch: int | None = None,
                    extra: dict[str, Any] | None = None) -> Path:
    """Write the model's parameters and buffers (and the optimizer's state) to ``path``, atomically.

    Inputs:
    - path: the file to write (``.npz`` is the usual suffix; the name is used as given). Missing
      parent folders are created. An existing file is replaced only once the new one is complete.
    - model: a Module; every entry of ``model.state_dict()`` is saved.
    - optimizer: an Optimizer whose ``state_dict()`` to save, or None.
    - epoch: the epoch number to record, or None.
    - extra: a dict of JSON-friendly values (numbers, strings, lists, dicts) to record, for
      example ``{"val_loss": 0.31, "seed": 0}``.
    Returns: the path written, as a ``pathlib.Path``.
    """
    path = Path(path)
    arrays = {f"model/{name}": to_numpy(array) for name, array in model.state_dict().items()}
    metadata: dict[str, Any] = {
        "format": FORMAT, "version": VERSION, "epoch": epoch, "extra": extra,
        "model_class": type(model).__name__, "backend": get_backend().name,
        "optimizer_class": None, "optimizer": None,
    }
    if optimizer is not None:
        metadata["optimizer_class"] = type(optimizer).__name__
        metadata["optimizer"] = {}
        for key, value in optimizer.state_dict().items():
            if hasattr(value, "shape"):
                arrays[f"optimizer/{key}"] = to_numpy(value)
            else:
                metadata["optimizer"][key] = value
    text = json.dumps(metadata, default=_plain_value)  # fails here, before touching any file
    arrays[METADATA_KEY] = numpy.frombuffer(text.encode("utf-8"), dtype=numpy.uint8)

    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            numpy.savez(file, **arrays)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    _sync_folder(path.parent)
    return path


def load_checkpoint(path: str | os.PathLike, model: Any, optimizer: Any = None) -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint` into ``model`` (and ``optimizer``).

    The arrays go to the *active* backend, with the dtypes of the model's own parameters.

    Inputs:
    - path: the checkpoint file.
    - model: a Module with the same structure as the saved one. A missing or unexpected entry
      raises KeyError naming it; a shape mismatch raises ValueError naming the parameter and
      both shapes.
    - optimizer: an Optimizer of the same class as the saved one, built on ``model``'s
      parameters, or None to load the model only.
    Returns: the metadata dict, with keys "epoch", "extra", "model_class", "optimizer_class",
    "backend" (the backend it was saved from), "format" and "version".
    Raises ValueError if the file holds an object array (it is never unpickled) or is not a
    coursepkg checkpoint.
    """
    path = Path(path)
    arrays: dict[str, numpy.ndarray] = {}
    with numpy.load(path, allow_pickle=False) as archive:
        for key in archive.files:
            try:
                arrays[key] = archive[key]
            except ValueError as error:
                raise ValueError(f"load_checkpoint: {path} holds an object array ({key!r}), which could only be "
                                 "read by unpickling it; refusing to load (allow_pickle=False).") from error
    if METADATA_KEY not in arrays:
        raise ValueError(f"load_checkpoint: {path} is not a coursepkg checkpoint (no {METADATA_KEY!r} entry); "
                         "write checkpoints with save_checkpoint.")
    metadata = json.loads(arrays.pop(METADATA_KEY).tobytes().decode("utf-8"))
    if metadata.get("format") != FORMAT:
        raise ValueError(f"load_checkpoint: {path} has format {metadata.get('format')!r}, expected {FORMAT!r}.")

    model.load_state_dict({key[len("model/"):]: value for key, value in arrays.items() if key.startswith("model/")})
    if optimizer is not None:
        saved_class = metadata.get("optimizer_class")
        if saved_class is None:
            raise ValueError(f"load_checkpoint: {path} holds no optimizer state (saved without an optimizer).")
        if saved_class != type(optimizer).__name__:
            raise ValueError(f"load_checkpoint: {path} holds the state of a {saved_class}, but a "
                             f"{type(optimizer).__name__} was given.")
        state = dict(metadata["optimizer"])
        state.update({key[len("optimizer/"):]: value for key, value in arrays.items()
                      if key.startswith("optimizer/")})
        optimizer.load_state_dict(state)
    return metadata


def _plain_value(value: Any) -> Any:
    """Turn NumPy/backend scalars into Python numbers for JSON; refuse anything else."""
    if hasattr(value, "shape") and tuple(value.shape) == ():
        return to_numpy(value).item()
    raise TypeError(f"save_checkpoint: cannot store a {type(value).__name__} in the metadata; extra may hold "
                    "only numbers, strings, booleans, None, lists and dicts.")


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened (Windows)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
