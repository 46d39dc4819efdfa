import os
import subprocess
import sys

import pytest

from minicnn import kernels


def test_set_kernels_switches_and_rejects_unknown_names():
    previous = kernels.get_kernels()
    try:
        kernels.set_kernels("numpy")
        assert kernels.get_kernels() == "numpy"
        with pytest.raises(ValueError, match="numba.*numpy.*'fortran'"):
            kernels.set_kernels("fortran")
    finally:
        kernels.set_kernels(previous)


def test_numba_cache_goes_to_a_writable_dir_when_unset(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path)
    out = subprocess.run([sys.executable, "-c", "import minicnn.kernels, os; print(os.environ['NUMBA_CACHE_DIR'])"],
                         env=env, capture_output=True, text=True, check=True, cwd=os.getcwd())
    assert out.stdout.strip() == str(tmp_path / "minicnn" / "numba")
