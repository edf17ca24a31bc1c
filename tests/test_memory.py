"""coursepkg.memory: freed blocks stay in the process, so reallocating them costs no page faults."""

from __future__ import annotations

import resource
import subprocess
import sys

import numpy as np
import pytest

from coursepkg import memory

linux_glibc = pytest.mark.skipif(not sys.platform.startswith("linux") or not memory.keep_freed_memory(),
                                 reason="needs Linux with glibc")


def _faults_of_reallocating(megabytes: int = 4, times: int = 30) -> int:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(times):
        block = np.ones(megabytes * 2**20 // 8)  # written all over, then freed
        del block
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


@linux_glibc
def test_a_freed_block_is_reused_without_page_faults():
    memory.keep_freed_memory()
    _faults_of_reallocating()  # the first allocation may fault; later ones reuse it
    pages_per_block = 4 * 2**20 // 4096
    assert _faults_of_reallocating() < pages_per_block  # without the setting: about 30 x 1024


@linux_glibc
def test_import_applies_it_and_the_variable_turns_it_off():
    code = ("import resource, numpy as np, coursepkg\n"
            "np.ones(2**19); before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
            "for _ in range(30): np.ones(2**19)\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)")
    on = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    off = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             env={"COURSEPKG_KEEP_FREED_MEMORY": "0", "PATH": ""}).stdout)
    assert on < 64 and on * 4 < off  # reused, or (part of it) given back and faulted in again


def test_the_variable_makes_it_a_no_op(monkeypatch):
    monkeypatch.setenv("COURSEPKG_KEEP_FREED_MEMORY", "0")
    assert memory.keep_freed_memory() is False
