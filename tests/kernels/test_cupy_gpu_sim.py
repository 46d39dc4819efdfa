"""The GPU kernels (minicnn/kernels/cupy_gpu.py) on a machine without a GPU.

Their tests live in tests/kernels/cuda/ and need either a GPU or Numba's CUDA simulator,
which must be switched on before numba.cuda is first imported: so they run here in a
fresh interpreter with NUMBA_ENABLE_CUDASIM=1.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

from minicnn.kernels import cupy_gpu

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _run(args, **env_extra):
    env = dict(os.environ, **env_extra)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)


def test_cuda_kernels_pass_their_tests_in_the_numba_cuda_simulator():
    result = _run(["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/kernels/cuda"], NUMBA_ENABLE_CUDASIM="1")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert " passed" in result.stdout and " failed" not in result.stdout


def test_importing_the_library_and_gpu_kernels_does_not_load_numba_cuda():
    code = ("import sys, minicnn, minicnn.kernels.cupy_gpu, minicnn.kernels; "
            "print(sorted(m for m in sys.modules if m.startswith('numba.cuda')))")
    result = _run(["-c", code])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.skipif(cupy_gpu.simulator_enabled(), reason="the simulator accepts NumPy arrays on purpose")
def test_gpu_kernels_reject_numpy_arrays_with_a_pointer_to_the_cpu_kernels():
    with pytest.raises(TypeError, match=r"cupy_gpu.im2col: expected a CuPy array, got numpy.ndarray; "
                                        r"NumPy arrays take the CPU kernels"):
        cupy_gpu.im2col(np.zeros((1, 1, 4, 4), dtype=np.float32), (3, 3))
    with pytest.raises(TypeError, match=r"cupy_gpu.lrn_backward: expected a CuPy array"):
        cupy_gpu.lrn_backward(np.zeros((1, 3, 2)), np.zeros((1, 3, 2)), np.zeros((1, 3, 2)), 3, 1e-4, 0.75)


def test_the_seams_cuda_entries_for_lrn_run_the_cuda_kernels_in_the_simulator():
    """LRN's "cuda" row of the dispatch table is the CUDA kernel, and it equals the reference."""
    code = """
import numpy as np, sys
from minicnn import kernels
from minicnn.kernels import lrn
x = np.random.default_rng(0).standard_normal((2, 6, 5))
gy = np.random.default_rng(1).standard_normal(x.shape)
y, s = kernels.TABLE["lrn_forward"]["cuda"](x, 5, 1e-2, 0.75, 2.0)
gx = kernels.TABLE["lrn_backward"]["cuda"](x, s, gy, 5, 1e-2, 0.75)
y_ref, s_ref = lrn.lrn_forward_reference(x, 5, 1e-2, 0.75, 2.0)
np.testing.assert_allclose(y, y_ref, rtol=1e-12)
np.testing.assert_allclose(gx, lrn.lrn_backward_reference(x, s_ref, gy, 5, 1e-2, 0.75), rtol=1e-10)
print(sorted(m for m in sys.modules if m == "numba.cuda"))
"""
    result = _run(["-c", code], NUMBA_ENABLE_CUDASIM="1")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "['numba.cuda']"          # the CUDA kernels ran, not the reference
