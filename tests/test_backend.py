import numpy as np
import pytest

import minicnn as mc
from minicnn import backend


def test_numpy_is_the_default_backend():
    assert mc.get_backend() == "numpy"
    assert mc.get_array_module(np.zeros(2)) is np


def test_unknown_backend_names_the_choices():
    with pytest.raises(ValueError, match="numpy.*cupy"):
        mc.set_backend("tpu")


@pytest.mark.skipif(mc.cupy_available(), reason="a GPU is usable here")
def test_cupy_without_gpu_or_cupy_raises_runtime_error_with_the_install_hint():
    with pytest.raises(RuntimeError, match=r"cupy.*(pip install -e|nvidia-smi)"):
        mc.set_backend("cupy")
    assert mc.get_backend() == "numpy"


def test_to_device_numpy_is_a_no_copy_for_numpy_arrays():
    a = np.zeros(3)
    assert mc.to_device(a, "numpy") is a


class _FakeCupyArray:
    """Stands in for a CuPy array on machines without one: the mixing check only looks at types."""
    shape = (2,)


def test_mixing_numpy_and_cupy_arrays_raises_type_error_naming_both(monkeypatch):
    monkeypatch.setattr(backend, "is_cupy_array", lambda a: isinstance(a, _FakeCupyArray))
    monkeypatch.setattr(backend, "_cupy", object())
    with pytest.raises(TypeError, match=r"NumPy array \(shape \(3,\)\).*CuPy array.*to_device"):
        backend.get_array_module(np.zeros(3), _FakeCupyArray())


@pytest.mark.gpu
def test_mixing_real_numpy_and_cupy_tensors_raises(xp):
    if xp is np:
        pytest.skip("needs CuPy")
    a, b = mc.Tensor(np.ones(2)), mc.Tensor(xp.ones(2))
    with pytest.raises(TypeError, match="NumPy.*CuPy"):
        a + b
