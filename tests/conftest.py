"""Shared fixtures: ``xp`` runs a test on NumPy, and on CuPy when a GPU is usable.

``MINICNN_TEST_BACKENDS=cupy`` (a comma list of numpy, cupy) runs the ``xp`` tests on the
named backends only; a backend named there is required: without a usable GPU its tests
fail instead of skipping (benchmarks/gpu_check.sh runs the suite so on a GPU machine).
"""
import os

import numpy as np
import pytest

import minicnn as mc

_REQUESTED = os.environ.get("MINICNN_TEST_BACKENDS", "").strip()
_NAMES = [name.strip() for name in (_REQUESTED or "numpy,cupy").split(",") if name.strip()]
if not _NAMES or set(_NAMES) - {"numpy", "cupy"}:
    raise ValueError(f"MINICNN_TEST_BACKENDS: expected a comma list of numpy, cupy; got {_REQUESTED!r}")
BACKENDS = [pytest.param("cupy", marks=pytest.mark.gpu) if name == "cupy" else name for name in _NAMES]


@pytest.fixture(params=BACKENDS)
def xp(request):
    """The array module under test; sets it as the current backend for the test."""
    if request.param == "cupy" and not mc.cupy_available():
        if _REQUESTED:
            pytest.fail(f"MINICNN_TEST_BACKENDS={_REQUESTED} asks for cupy, but CuPy with a usable GPU is not available")
        pytest.skip("CuPy with a usable GPU is not available")
    mc.set_backend(request.param)
    yield mc.backend.backend_module(request.param)
    mc.set_backend("numpy")


@pytest.fixture(autouse=True)
def _fresh_library_state():
    mc.manual_seed(0)
    yield
    mc.set_backend("numpy")


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def isolated_dirs(tmp_path, monkeypatch):
    """Point ~/.cache/minicnn and /usr/share/datasets into tmp_path; unset $MINICNN_DATA; no network."""
    from minicnn.data import download
    monkeypatch.setattr(download, "CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(download, "SYSTEM_DIR", str(tmp_path / "system"))
    monkeypatch.delenv("MINICNN_DATA", raising=False)

    def no_network(*args, **kwargs):
        raise AssertionError("a test tried to use the network")
    monkeypatch.setattr(download, "urlopen", no_network)
    return tmp_path


@pytest.fixture(params=["numba", "numpy"])
def impl(request):
    """Run the test with the Numba kernels and with the NumPy references."""
    from minicnn import kernels
    if request.param == "numba" and not kernels.NUMBA_AVAILABLE:
        pytest.skip("numba not installed")
    previous = kernels.get_kernels()
    kernels.set_kernels(request.param)
    yield request.param
    kernels.set_kernels(previous)


def pytest_terminal_summary(terminalreporter):
    """Print what tests ran inside a subprocess (e.g. the CUDA simulator run) recorded about it."""
    for report in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", []):
        for name, value in getattr(report, "user_properties", []):
            if name == "cuda simulator":
                terminalreporter.write_line(f"{name}: {value}")
