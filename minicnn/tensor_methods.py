"""PyTorch's Tensor conveniences, mixed into ``minicnn.Tensor``: ``item()``, ``float(x)``,
``f"{x:.3f}"``, ``t()``, ``numel()``, ``view()``, ``unsqueeze()``, ``squeeze()``,
``argmax(dim=)``, ``type(dtype)``, ``float()``, ``long()``, ``dim()``, ``to(...)``, ...

Each one is a short spelling of something the core already does (reshape, cast, ...), so
gradients flow through the differentiable ones.
"""
import numpy as np

from .backend import _canonical, get_array_module, to_device
from .dtypes import NAMES, as_dtype, float16, float32, float64, int32, int64


class TensorMethods:
    # --- Python numbers and printing ------------------------------------------------
    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor of one element; got shape {self.shape}")
        return self.data.item()

    def __float__(self): return float(self.item())
    def __int__(self): return int(self.item())

    def __index__(self):
        if self.dtype.kind not in "iub":
            raise TypeError(f"only integer tensors of one element can be used as an index; got {self.dtype}")
        return int(self.item())

    def __format__(self, spec):
        if self.data.size == 1 and spec:
            return format(self.item(), spec)
        if spec:
            raise TypeError(f"format spec {spec!r} needs a tensor of one element; got shape {self.shape}")
        return repr(self)

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"the truth value of a tensor of {self.data.size} elements is ambiguous; "
                               f"use x.any() or x.all()")
        return bool(self.item())

    # --- shapes -------------------------------------------------------------------
    def numel(self): return int(self.data.size)
    def dim(self): return self.ndim
    def view(self, *shape): return self.reshape(*shape)

    def t(self):
        """The transpose of a matrix (tensors of 0 or 1 dimensions come back as they are)."""
        if self.ndim > 2:
            raise ValueError(f"t() expects a tensor of at most 2 dimensions, got shape {self.shape}; "
                             f"use transpose(...) for more")
        return self.transpose() if self.ndim == 2 else self

    def unsqueeze(self, dim):
        """A new axis of size 1 at ``dim`` (in [-ndim-1, ndim])."""
        dim = _dim_index("unsqueeze", dim, self.ndim + 1)
        return self.reshape(self.shape[:dim] + (1,) + self.shape[dim:])

    def squeeze(self, dim=None):
        """Drop axes of size 1 (all of them, or only ``dim`` when it has size 1)."""
        if dim is None:
            return self.reshape(tuple(n for n in self.shape if n != 1))
        dim = _dim_index("squeeze", dim, self.ndim)
        if self.ndim == 0 or self.shape[dim] != 1:
            return self
        return self.reshape(self.shape[:dim] + self.shape[dim + 1:])

    # --- index reductions (not differentiable: they return integers) -------------------
    def argmax(self, dim=None, keepdim=False, axis=None, keepdims=None):
        return self._arg_reduce("argmax", dim, keepdim, axis, keepdims)

    def argmin(self, dim=None, keepdim=False, axis=None, keepdims=None):
        return self._arg_reduce("argmin", dim, keepdim, axis, keepdims)

    def _arg_reduce(self, op, dim, keepdim, axis, keepdims):
        axis, keepdim = _reduce_args(op, axis, keepdims if keepdims is not None else keepdim, dim, None)
        xp = get_array_module(self.data)
        if axis is None:
            index = getattr(xp, op)(self.data)
            return self._new(xp.asarray(index, dtype=int64).reshape((1,) * self.ndim if keepdim else ()))
        axis = _dim_index(op, axis, self.ndim)
        return self._new(getattr(xp, op)(self.data, axis=axis, keepdims=keepdim).astype(int64))

    def any(self): return self._new(self.data.any())
    def all(self): return self._new(self.data.all())

    # --- dtypes and devices -----------------------------------------------------------
    def type(self, dtype=None):
        """Without an argument, the dtype's name ("minicnn.float32"); with one, a cast to it."""
        if dtype is None:
            return f"minicnn.{self.dtype}"
        return self.astype(as_dtype(dtype, "type"))

    def float(self): return self.astype(float32)
    def double(self): return self.astype(float64)
    def half(self): return self.astype(float16)
    def long(self): return self.astype(int64)
    def int(self): return self.astype(int32)

    def to(self, *args, dtype=None, device=None):
        """``to("cpu" | "cuda" | "numpy" | "cupy")``, ``to(mc.float32)``, ``to(device, dtype)``
        or ``to(other_tensor)``. A dtype change is differentiable; a device move makes a leaf copy."""
        for arg in args:
            if isinstance(arg, TensorMethods):
                device, dtype = arg.device, arg.dtype
            elif isinstance(arg, str) and arg not in NAMES:
                device = arg
            else:
                dtype = arg
        out = self
        if device is not None and _canonical(device) != _canonical(self.device):
            out = type(self)._leaf(to_device(self.data, device), self.requires_grad)
        if dtype is not None and as_dtype(dtype, "to") != out.dtype:
            out = out.astype(as_dtype(dtype, "to"))
        return out

    # --- copies and in-place fills -----------------------------------------------------
    def clone(self):
        """A copy of the data; gradients flow back to this tensor."""
        return self * 1 if self.dtype.kind == "f" else self._new(self.data.copy())

    def zero_(self): return self.fill_(0)

    def fill_(self, value):
        self[...] = value
        return self

    def requires_grad_(self, requires_grad=True):
        if requires_grad and self.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require grad; got dtype {self.dtype}")
        self.requires_grad = bool(requires_grad)
        return self


class _Size(int):
    """``x.size``: the number of elements (NumPy's); called, ``x.size()`` or ``x.size(dim)``,
    the shape or one of its sizes (PyTorch's)."""
    def __new__(cls, count, shape):
        obj = super().__new__(cls, count)
        obj.shape = shape
        return obj

    def __call__(self, dim=None):
        return self.shape if dim is None else self.shape[_dim_index("size", dim, len(self.shape))]


def _shape_args(shape):
    """``f(2, 3)`` or ``f((2, 3))`` -> (2, 3)."""
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


def _dim_index(op, dim, ndim):
    """``dim`` as an index in [0, ndim), or a ValueError naming the valid range."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}: expected an integer dim, got {dim!r}")
    top = max(ndim, 1)
    if not -top <= dim < top:
        raise ValueError(f"{op}: dim {dim} is out of range for a tensor of {ndim} dimensions "
                         f"(expected a dim in [{-top}, {top - 1}])")
    return dim % top


def _reduce_args(op, axis, keepdims, dim, keepdim):
    """PyTorch's dim=/keepdim= beside NumPy's axis=/keepdims=."""
    if dim is not None and axis is not None:
        raise TypeError(f"{op}: give dim= or axis=, not both")
    return (axis if dim is None else dim), bool(keepdims if keepdim is None else keepdim)
