"""Tensor factories and free functions with PyTorch's names and signatures.

``mc.zeros(2, 3)``, ``mc.zeros((2, 3))`` and ``mc.zeros(size=(2, 3))`` all work, as in PyTorch.
New arrays are born on the current backend (``mc.set_backend``); random ones are drawn from
the library RNG (``mc.manual_seed``). Floating results default to float32, PyTorch's default
(the layers refuse mixed dtypes, so a float64 default would break them); integers to int64.
"""
import builtins
import numbers

import numpy as np

from . import functional as F
from .backend import backend_module, get_array_module, to_device
from .dtypes import as_dtype, float32, int64
from .functional import select
from .rng import get_rng
from .tensor import Tensor, as_tensor


def _size(op, size, sizes):
    """The shape from ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(size=(2, 3))``."""
    if size is not None and sizes:
        raise TypeError(f"{op}: give the size positionally or as size=, not both")
    if size is None:
        size = sizes[0] if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
    if isinstance(size, numbers.Integral):
        size = (size,)
    if isinstance(size, str) or not all(isinstance(n, numbers.Integral) and not isinstance(n, bool)
                                        for n in _iterable(size)):
        raise TypeError(f"{op}: expected a size of integers such as (2, 3) or 2, 3; got {size!r}")
    if any(n < 0 for n in size):
        raise ValueError(f"{op}: expected non-negative integer sizes, got {tuple(size)}")
    return tuple(int(n) for n in size)


def _iterable(size):
    try:
        return list(size)
    except TypeError:
        return [size]


def _floating(op, dtype):
    dtype = as_dtype(dtype, op) or float32
    if dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating dtype, got {dtype}")
    return dtype


def _made(array, requires_grad):
    return Tensor(array, requires_grad=requires_grad)


def tensor(data, dtype=None, requires_grad=False):
    """A new leaf Tensor holding a copy of ``data`` (a number, a nested list, an array or a
    Tensor). Python floats become float32, ints int64, bools bool; an array keeps its dtype."""
    dtype = as_dtype(dtype, "tensor")
    xp = backend_module()
    if isinstance(data, Tensor):
        array = data.data.copy()
    elif isinstance(data, np.ndarray) or get_array_module(data) is not np:
        array = xp.array(to_device(data, xp.__name__), copy=True)
    else:
        array = np.array(_plain(data))
        if array.dtype.kind not in "biuf":
            raise TypeError(f"tensor: expected numbers (a number, a nested list, an array or a Tensor); "
                            f"got data of dtype {array.dtype}")
        array = xp.asarray(array.astype(float32 if array.dtype.kind == "f" else
                                        int64 if array.dtype.kind in "iu" else array.dtype))
    return _made(array if dtype is None else array.astype(dtype), requires_grad)


def _plain(data):
    """Nested lists/tuples with Tensors (e.g. of one element) turned into NumPy values."""
    if isinstance(data, Tensor):
        return data.numpy()
    if isinstance(data, (list, tuple)):
        return [_plain(d) for d in data]
    return data


def zeros(*size, dtype=None, requires_grad=False, **kwargs):
    shape = _size("zeros", kwargs.pop("size", None), size)
    return _made(backend_module().zeros(shape, dtype=as_dtype(dtype, "zeros") or float32), requires_grad)


def ones(*size, dtype=None, requires_grad=False, **kwargs):
    shape = _size("ones", kwargs.pop("size", None), size)
    return _made(backend_module().ones(shape, dtype=as_dtype(dtype, "ones") or float32), requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False):
    """A tensor of ``size`` filled with ``fill_value``; its dtype follows the value as in
    PyTorch (bool -> bool, int -> int64, float -> float32) unless ``dtype`` is given."""
    shape = _size("full", size, ())
    default = (np.dtype(bool) if isinstance(fill_value, (bool, np.bool_)) else
               int64 if isinstance(fill_value, numbers.Integral) else float32)
    return _made(backend_module().full(shape, fill_value, dtype=as_dtype(dtype, "full") or default),
                 requires_grad)


def _like(op, x, fill, dtype, requires_grad):
    x = as_tensor(x, op=op)
    xp = get_array_module(x.data)
    return _made(xp.full(x.shape, fill, dtype=as_dtype(dtype, op) or x.dtype), requires_grad)


def zeros_like(x, dtype=None, requires_grad=False):
    return _like("zeros_like", x, 0, dtype, requires_grad)


def ones_like(x, dtype=None, requires_grad=False):
    return _like("ones_like", x, 1, dtype, requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    """[start, end) in steps of ``step``; ``arange(n)`` is 0..n-1. int64 when all three are
    integers, else float32 (PyTorch's rule)."""
    if end is None:
        start, end = 0, start
    values = (start, end, step)
    if not all(isinstance(v, numbers.Real) for v in values):
        raise TypeError(f"arange: expected numbers for start, end and step; got {values}")
    if step == 0:
        raise ValueError("arange: step must be non-zero")
    integral = all(isinstance(v, numbers.Integral) for v in values)
    dtype = as_dtype(dtype, "arange") or (int64 if integral else float32)
    return _made(backend_module().arange(start, end, step).astype(dtype), requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False):
    return _made(backend_module().eye(n, n if m is None else m, dtype=as_dtype(dtype, "eye") or float32),
                 requires_grad)


# --- random --------------------------------------------------------------------------
def rand(*size, dtype=None, requires_grad=False, **kwargs):
    """Uniform on [0, 1), from the library RNG."""
    shape = _size("rand", kwargs.pop("size", None), size)
    dtype = _floating("rand", dtype)
    xp = backend_module()
    return _made(get_rng(xp).random(size=shape).astype(dtype), requires_grad)


def randn(*size, dtype=None, requires_grad=False, **kwargs):
    """Standard normal N(0, 1), from the library RNG."""
    shape = _size("randn", kwargs.pop("size", None), size)
    dtype = _floating("randn", dtype)
    xp = backend_module()
    return _made(get_rng(xp).standard_normal(size=shape).astype(dtype), requires_grad)


def normal(mean, std, size=None, dtype=None, requires_grad=False):
    """N(mean, std): numbers with ``size``, or elementwise for Tensor mean/std (their broadcast shape)."""
    xp = backend_module()
    means = mean.data if isinstance(mean, Tensor) else mean
    stds = std.data if isinstance(std, Tensor) else std
    if size is None:
        shape = np.broadcast_shapes(np.shape(means), np.shape(stds))
    else:
        shape = _size("normal", size, ())
    if builtins.min(np.min(to_device(stds, "numpy")), 0) < 0:
        raise ValueError(f"normal: std must be >= 0, got {std!r}")
    if dtype is None and isinstance(mean, Tensor) and mean.dtype.kind == "f":
        dtype = mean.dtype   # PyTorch: a Tensor mean gives its dtype
    dtype = _floating("normal", dtype)
    draw = get_rng(xp).standard_normal(size=shape) * stds + means
    return _made(xp.asarray(draw).astype(dtype), requires_grad)


def randint(low, high=None, size=None, dtype=None):
    """Integers uniform on [low, high) (``randint(high, size)`` starts at 0); int64 by default."""
    if size is None:  # randint(high, size): PyTorch's two-argument form
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint: missing size, e.g. randint(0, 10, (3,))")
    shape = _size("randint", size, ())
    if not (isinstance(low, numbers.Integral) and isinstance(high, numbers.Integral)) or low >= high:
        raise ValueError(f"randint: expected integers low < high, got low={low!r}, high={high!r}")
    xp = backend_module()
    return _made(get_rng(xp).integers(low, high, size=shape).astype(as_dtype(dtype, "randint") or int64), False)


# --- free functions (differentiable; the math lives in minicnn.functional) --------------
def _dim(op, dim, axis, default=0):
    if dim is not None and axis is not None and dim != axis:
        raise TypeError(f"{op}: give dim= or axis=, not both")
    return default if dim is None and axis is None else (dim if dim is not None else axis)


def _tensors(op, tensors):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: expected a list or tuple of tensors, got {type(tensors).__name__}")
    if len(tensors) == 0:
        raise ValueError(f"{op}: expected a non-empty list of tensors")
    return tensors


def cat(tensors, dim=None, axis=None):
    """Join tensors along an existing ``dim`` (PyTorch's torch.cat)."""
    return F.concatenate(_tensors("cat", tensors), axis=_dim("cat", dim, axis))


def stack(tensors, dim=None, axis=None):
    """Join tensors along a new ``dim``."""
    return F.stack(_tensors("stack", tensors), axis=_dim("stack", dim, axis))


def matmul(a, b): return F.matmul(a, b)
def sqrt(x): return F.sqrt(x)
def exp(x): return F.exp(x)
def log(x): return F.log(x)
def abs(x): return select.abs(x)  # noqa: A001 - mirrors torch.abs
def maximum(a, b): return select.maximum(a, b)


def where(condition, a, b):
    """``a`` where ``condition`` holds, else ``b`` (condition: a bool Tensor such as x > 0)."""
    return select.where(condition, a, b)
