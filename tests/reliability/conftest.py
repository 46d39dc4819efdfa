"""Fixtures of the reliability tests: data places redirected into tmp_path, a fake CuPy."""
import types

import numpy as np
import pytest

from minicnn import backend


class FakeCupyArray(np.ndarray):
    """Stands in for a cupy.ndarray on machines without a GPU: the backend checks only its type."""


@pytest.fixture
def fake_cupy(monkeypatch):
    """Install a fake ``cupy`` module in minicnn.backend; ``gpu`` says whether it sees a device."""
    module = types.SimpleNamespace(ndarray=FakeCupyArray, gpu=False, __name__="cupy")
    module.is_available = lambda: module.gpu
    monkeypatch.setattr(backend, "_cupy", module)
    return module
