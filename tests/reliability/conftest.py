"""Fixtures of the reliability tests: data places redirected into tmp_path, a fake CuPy."""
import types

import numpy as np
import pytest

from minicnn import backend
from minicnn.data import download


@pytest.fixture
def isolated_dirs(tmp_path, monkeypatch):
    """~/.cache/minicnn and /usr/share/datasets point into tmp_path; no $MINICNN_DATA, no network."""
    monkeypatch.setattr(download, "CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(download, "SYSTEM_DIR", str(tmp_path / "system"))
    monkeypatch.delenv("MINICNN_DATA", raising=False)

    def no_network(*args, **kwargs):
        raise AssertionError("a test tried to use the network")
    monkeypatch.setattr(download, "urlopen", no_network)
    return tmp_path


class FakeCupyArray(np.ndarray):
    """Stands in for a cupy.ndarray on machines without a GPU: the backend checks only its type."""


@pytest.fixture
def fake_cupy(monkeypatch):
    """Install a fake ``cupy`` module in minicnn.backend; ``gpu`` says whether it sees a device."""
    module = types.SimpleNamespace(ndarray=FakeCupyArray, gpu=False, __name__="cupy")
    module.is_available = lambda: module.gpu
    monkeypatch.setattr(backend, "_cupy", module)
    return module
