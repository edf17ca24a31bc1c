"""Keep freed memory for reuse instead of handing it back to the operating system.

A training step allocates the same arrays every step (activations, gradients, temporaries of
the optimizer), many of them larger than 128 KiB. By default glibc's ``malloc`` serves such sizes
with fresh pages from the operating system and returns them when they are freed, so the next step
pays a page fault for every 4 KiB it touches again: about 900 faults per step for the
784-256-256-10 MLP at batch 512, a quarter of its time. Raising two ``malloc`` thresholds makes
freed blocks stay in the process and be reused, the way PyTorch's caching allocator keeps GPU
memory.

``import coursepkg`` calls :func:`keep_freed_memory` once. The price is that memory freed inside
the process is not given back to the system (the resident size stays at its peak, up to
``TRIM_THRESHOLD`` above it). Set ``COURSEPKG_KEEP_FREED_MEMORY=0`` to leave ``malloc`` alone. It only
applies to Linux with glibc; elsewhere it does nothing.
"""

from __future__ import annotations

import ctypes
import os
import sys

MMAP_THRESHOLD = 32 * 2**20  # blocks up to this size come from the heap (glibc's maximum)
TRIM_THRESHOLD = 256 * 2**20  # free heap kept before any is given back
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameter numbers, from glibc's malloc.h


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds (see the module docstring).

    Returns: True if both settings were applied; False on other platforms or C libraries, or
    when the environment variable ``COURSEPKG_KEEP_FREED_MEMORY`` is ``0``.
    """
    if not sys.platform.startswith("linux") or os.environ.get("COURSEPKG_KEEP_FREED_MEMORY", "1") == "0":
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc (musl, say)
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
