"""The NumPy/CuPy switch.

Ops never ask "which backend is on?"; they ask the data: ``xp = get_array_module(x)``.
The *current* backend only decides where new arrays are born (parameters, batches).
"""
import numpy as np

_CUPY_HINT = 'install CuPy for your CUDA version: pip install -e ".[cuda12]" (or ".[cuda13]")'
_BACKENDS = ("numpy", "cupy")
_ALIASES = {"cpu": "numpy", "cuda": "cupy", "gpu": "cupy"}
_current = "numpy"

try:  # CuPy imports without a GPU; it fails at the first allocation.
    import cupy as _cupy
except Exception:  # pragma: no cover - depends on the machine
    _cupy = None


def cupy_available():
    """True when CuPy is installed and a CUDA device is usable."""
    if _cupy is None:
        return False
    try:
        return bool(_cupy.is_available())
    except Exception:
        return False


def _require_cupy():
    if _cupy is None:
        raise RuntimeError(f"backend 'cupy' asked for, but CuPy is not installed; {_CUPY_HINT}")
    if not cupy_available():
        raise RuntimeError("backend 'cupy' asked for, but CuPy finds no usable CUDA GPU "
                           "(check nvidia-smi and that the cupy wheel matches your CUDA); "
                           "use set_backend('numpy') on this machine")
    return _cupy


def _canonical(name):
    if not isinstance(name, str):
        raise TypeError(f"backend must be a string, one of {_BACKENDS}; got {type(name).__name__}")
    name = _ALIASES.get(name.lower(), name.lower())
    if name not in _BACKENDS:
        raise ValueError(f"unknown backend {name!r}; expected one of {_BACKENDS}")
    return name


def set_backend(name):
    """Make ``name`` ("numpy" or "cupy") the backend new arrays are created on."""
    global _current
    name = _canonical(name)
    if name == "cupy":
        _require_cupy()
    _current = name


def get_backend():
    return _current


def backend_module(name=None):
    """The array module (numpy or cupy) of backend ``name`` (default: the current one)."""
    name = _current if name is None else _canonical(name)
    return np if name == "numpy" else _require_cupy()


def is_cupy_array(a):
    return _cupy is not None and isinstance(a, _cupy.ndarray)


def get_array_module(*arrays):
    """numpy or cupy, from the arrays (or Tensors) given; mixing the two is a TypeError."""
    found_numpy = found_cupy = None
    for a in arrays:
        a = getattr(a, "data", a) if not isinstance(a, np.ndarray) else a
        if is_cupy_array(a):
            found_cupy = a
        elif isinstance(a, (np.ndarray, np.generic)):
            found_numpy = a
    if found_cupy is not None and found_numpy is not None:
        raise TypeError(
            f"cannot mix a NumPy array (shape {found_numpy.shape}) and a CuPy array "
            f"(shape {found_cupy.shape}) in one op; move one with minicnn.to_device(x, 'cupy') "
            f"or minicnn.to_device(x, 'numpy') (modules: model.to('cupy'))")
    return _cupy if found_cupy is not None else np


def to_device(array, backend=None):
    """Copy a raw array to ``backend``'s memory (host for numpy, GPU for cupy); no copy if already there."""
    name = _current if backend is None else _canonical(backend)
    if name == "numpy":
        return _cupy.asnumpy(array) if is_cupy_array(array) else np.asarray(array)
    return _require_cupy().asarray(array)


def to_numpy(array):
    return to_device(array, "numpy")


def scatter_add(target, index, values):
    """target[index] += values, with repeated indices summed (np.add.at / cupyx.scatter_add)."""
    if is_cupy_array(target):
        import cupyx
        cupyx.scatter_add(target, index, values)
    else:
        np.add.at(target, index, values)
