"""The GPU kernels (minicnn/kernels/cupy_gpu.py) on a machine without a GPU.

Their tests live in tests/kernels/cuda/ and need either a GPU or Numba's CUDA simulator,
which must be switched on before numba.cuda is first imported: so they run here in a
fresh interpreter with NUMBA_ENABLE_CUDASIM=1.
"""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from minicnn.kernels import cupy_gpu
from tests.helpers import try_import_torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _run(args, **env_extra):
    env = dict(os.environ, **env_extra)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)


def outcome_counts(summary):
    """{"passed": 61, "skipped": 2, ...} from pytest's last line ("61 passed, 2 skipped in 9.1s")."""
    return {word: int(n) for n, word in re.findall(r"(\d+) (passed|skipped|failed|errors?|xfailed|xpassed)", summary)}


def allowed_skip(reason):
    """A test may skip only for a dependency that is really missing here: torch."""
    return "torch not installed" in reason and try_import_torch() is None


def test_cuda_kernels_pass_their_tests_in_the_numba_cuda_simulator(record_property):
    result = _run(["-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "tests/kernels/cuda"],
                  NUMBA_ENABLE_CUDASIM="1")
    output = result.stdout[-6000:] + result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    counts = outcome_counts(lines[-1] if lines else "")
    record_property("cuda simulator", ", ".join(f"{n} {word}" for word, n in counts.items()))
    assert result.returncode == 0, output
    assert counts.get("passed", 0) > 0 and set(counts) <= {"passed", "skipped"}, output
    skips = re.findall(r"^SKIPPED \[(\d+)\] (.*)$", result.stdout, flags=re.M)
    assert sum(int(n) for n, _ in skips) == counts.get("skipped", 0), output
    unexpected = [reason for _, reason in skips if not allowed_skip(reason)]
    assert not unexpected, f"tests skipped in the simulator run: {unexpected}"


@pytest.mark.parametrize("summary, counts", [
    ("61 passed in 9.10s", {"passed": 61}),
    ("58 passed, 3 skipped in 9.10s", {"passed": 58, "skipped": 3}),
    ("1 failed, 57 passed, 3 skipped, 1 error in 9.10s", {"failed": 1, "passed": 57, "skipped": 3, "error": 1}),
])
def test_the_simulator_summary_is_read_into_counts(summary, counts):
    assert outcome_counts(summary) == counts


def test_only_a_missing_torch_excuses_a_skip():
    assert not allowed_skip("tests/kernels/cuda/test_lrn_cuda.py:82: minicnn.kernels.lrn not there yet")
    assert allowed_skip("tests/kernels/cuda/test_lrn_cuda.py:33: torch not installed") == (try_import_torch() is None)


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
