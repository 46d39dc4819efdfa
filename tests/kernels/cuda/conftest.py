"""The CUDA kernels of ``minicnn/kernels/cupy_gpu.py`` run here in one of two ways:

* ``NUMBA_ENABLE_CUDASIM=1``: Numba's CUDA simulator runs the same device code on NumPy
  arrays on the CPU (slow: tiny shapes only). ``tests/kernels/test_cupy_gpu_sim.py`` runs
  this folder that way in a subprocess, so the default ``python -m pytest`` covers it.
* a usable GPU with CuPy: the kernels run on CuPy arrays for real.

Otherwise the folder is not collected (importing numba.cuda without either is useless).
"""
import os

import numpy as np
import pytest

import minicnn as mc
from minicnn.kernels import cupy_gpu

SIMULATOR = os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")

if not SIMULATOR and not mc.cupy_available():
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture(scope="session")
def dev():
    """The array module the kernels run on: numpy in the simulator, cupy on a GPU."""
    if SIMULATOR:
        return np
    import cupy
    return cupy


@pytest.fixture(autouse=True)
def _small_launches():
    """Tiny grids, so every grid-stride loop runs more than one round (and the simulator,
    which runs each thread as a Python thread, stays fast)."""
    saved = cupy_gpu.threads_per_block, cupy_gpu.max_blocks
    cupy_gpu.threads_per_block, cupy_gpu.max_blocks = 32, 3
    yield
    cupy_gpu.threads_per_block, cupy_gpu.max_blocks = saved


def reference_module(name):
    """The module minicnn.kernels.<name> holding the NumPy reference. An import error fails the
    tests that use it: the project's own code is never a reason to skip."""
    import importlib
    return importlib.import_module(f"minicnn.kernels.{name}")


def host(a):
    """A NumPy copy of a NumPy or CuPy array."""
    return mc.to_numpy(a)
