"""Tensor: an array (NumPy or CuPy) plus the bookkeeping autograd needs.

``x.data`` is the raw backend array (not a Tensor, as it is in PyTorch): ops on it are
plain NumPy/CuPy, outside autograd, and ``w.data -= lr * w.grad`` updates it in place.
The methods mirror PyTorch (``x.sum(dim=0, keepdim=True)``, ``x.view(2, -1)``, ``x == y``
elementwise) and NumPy (``axis=``, ``keepdims=``, ``x.size`` as the element count).
How the graph is recorded and walked: docs/autograd.md.
"""
import numbers

import numpy as np

from .backend import backend_module, get_array_module, is_cupy_array, to_device, to_numpy
from .function import is_grad_enabled
from .tensor_methods import TensorMethods, _dim_index, _reduce_args, _shape_args, _Size
from .versions import VersionCounter


def _is_array(a):
    return isinstance(a, np.ndarray) or is_cupy_array(a)


class Tensor(TensorMethods):
    """``data``: the array; ``grad``: a Tensor (or None) filled by ``backward``;
    ``creator``: the Function that made it (None for leaves)."""

    def __init__(self, data, requires_grad=False):
        if isinstance(data, Tensor):
            data = data.data
        elif isinstance(data, (numbers.Number, np.generic)):
            data = np.asarray(data)
        elif isinstance(data, (list, tuple)):
            data = backend_module().asarray(data)
        elif not _is_array(data):
            raise TypeError(f"Tensor expects a NumPy/CuPy array, a number or a list; "
                            f"got {type(data).__name__}")
        if data.dtype.kind not in "biuf":
            raise TypeError(f"Tensor expects numbers (a bool, integer or floating dtype); "
                            f"got dtype {data.dtype}")
        if requires_grad and data.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require grad; got dtype {data.dtype}")
        self.data = data
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.creator = None
        self.output_index = 0
        self.generation = 0
        self._versions = VersionCounter()

    # --- array-like properties -------------------------------------------------
    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: _Size(self.data.size, self.data.shape))
    dtype = property(lambda self: self.data.dtype)
    is_leaf = property(lambda self: self.creator is None)
    T = property(lambda self: self.transpose())

    @property
    def device(self):
        """"cpu" (NumPy) or "cuda" (CuPy), PyTorch's names; ``to()`` takes either spelling."""
        return "cuda" if is_cupy_array(self.data) else "cpu"

    @property
    def _version(self):
        return self._versions.value

    def _bump_version(self):
        """Record an in-place change of the data (see minicnn.versions)."""
        self._versions.value += 1

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        body = np.array2string(to_numpy(self.data), precision=4, threshold=1000, prefix="Tensor(")
        extra = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({body}, dtype={self.dtype}{extra})"

    # --- autograd ------------------------------------------------------------
    def backward(self, grad=None, retain_graph=False):
        """Accumulate d(self)/d(leaf) * grad into ``leaf.grad`` for every leaf that requires grad."""
        from .function import run_backward

        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad "
                               "(no input had requires_grad=True, or it was made under no_grad())")
        xp = get_array_module(self.data)
        if grad is None:
            if self.size != 1:
                raise RuntimeError(f"backward() without grad works only for a scalar output; "
                                   f"this tensor has shape {self.shape}: pass grad= of that shape")
            grad = xp.ones_like(self.data)
        else:
            grad = grad.data if isinstance(grad, Tensor) else grad
            get_array_module(self.data, grad)
            if tuple(grad.shape) != self.shape:
                raise ValueError(f"backward(grad=...): expected grad of shape {self.shape}, "
                                 f"got {tuple(grad.shape)}")
        run_backward(self, grad, retain_graph=retain_graph)

    def zero_grad(self):
        self.grad = None

    def detach(self):
        """The same data (and version counter), cut from the graph."""
        out = Tensor(self.data)
        out._versions = self._versions
        return out

    def numpy(self):
        """The data as a NumPy array (copied from the GPU if needed)."""
        return to_numpy(self.data)

    def tolist(self):
        return self.numpy().tolist()

    # --- operators (the math lives in minicnn.functional) ------------------------------
    def __add__(self, other): return _math.add(self, other)
    def __radd__(self, other): return _math.add(other, self)
    def __sub__(self, other): return _math.sub(self, other)
    def __rsub__(self, other): return _math.sub(other, self)
    def __mul__(self, other): return _math.mul(self, other)
    def __rmul__(self, other): return _math.mul(other, self)
    def __truediv__(self, other): return _math.div(self, other)
    def __rtruediv__(self, other): return _math.div(other, self)
    def __pow__(self, other): return _math.pow(self, other)
    def __rpow__(self, other): return _math.pow(other, self)
    def __neg__(self): return _math.neg(self)
    def __matmul__(self, other): return _math.matmul(self, other)
    def __rmatmul__(self, other): return _math.matmul(other, self)
    def __getitem__(self, index): return _array.getitem(self, _raw_index(index))

    def __setitem__(self, index, value):
        """x[index] = value, in place (outside autograd: the value's graph is not recorded)."""
        self._check_inplace("x[...] = value", value)
        self.data[_raw_index(index)] = value.data if isinstance(value, Tensor) else value
        self._bump_version()

    # In place: updates the data and bumps the version. In a graph (grad on, some operand
    # requires grad) it works out of place instead, so that `y += x` keeps autograd right.
    def __iadd__(self, other): return self._inplace(other, _math.add, "__iadd__")
    def __isub__(self, other): return self._inplace(other, _math.sub, "__isub__")
    def __imul__(self, other): return self._inplace(other, _math.mul, "__imul__")
    def __itruediv__(self, other): return self._inplace(other, _math.div, "__itruediv__")

    def _inplace(self, other, op, name):
        if is_grad_enabled() and (self.requires_grad or getattr(other, "requires_grad", False)):
            if self.is_leaf and self.requires_grad:
                self._check_inplace(name, other)
            return op(self, other)
        other = other.data if isinstance(other, Tensor) else other
        get_array_module(self.data, other)
        getattr(self.data, name)(other)
        self._bump_version()
        return self

    def _check_inplace(self, what, value=None):
        if not is_grad_enabled():
            return
        if self.requires_grad:
            kind = "a leaf tensor that requires grad" if self.is_leaf else "a tensor that is part of a graph"
            raise RuntimeError(f"{what}: in-place change of {kind} (shape {self.shape}); autograd does not "
                               f"record it. For parameter updates wrap it in `with minicnn.no_grad():` "
                               f"or update w.data; in a model, compute a new tensor (mc.where, mc.cat)")
        if getattr(value, "requires_grad", False):
            raise RuntimeError(f"{what}: the value requires grad, but an in-place write records no graph; "
                               f"build the result with mc.stack/mc.cat/mc.where, or write value.detach()")

    # --- comparisons: elementwise, bool tensors (as PyTorch); hashing stays by identity ---------
    __hash__ = object.__hash__

    def _compare(self, other, op):
        if isinstance(other, Tensor):
            other = other.data
        elif not (_is_array(other) or isinstance(other, (numbers.Number, np.generic, list, tuple))):
            return NotImplemented
        get_array_module(self.data, other)
        return Tensor(op(self.data, other))

    def __eq__(self, other): return self._compare(other, lambda a, b: a == b)
    def __ne__(self, other): return self._compare(other, lambda a, b: a != b)
    def __lt__(self, other): return self._compare(other, lambda a, b: a < b)
    def __le__(self, other): return self._compare(other, lambda a, b: a <= b)
    def __gt__(self, other): return self._compare(other, lambda a, b: a > b)
    def __ge__(self, other): return self._compare(other, lambda a, b: a >= b)

    # --- NumPy interplay: `ndarray <op> Tensor` is a Tensor op; `ndarray -= Tensor` an array update ---
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__":
            return NotImplemented
        if "out" in kwargs:  # w.data -= lr * w.grad, w.data[:] -= ...: raw arrays, outside autograd
            raw = [x.data if isinstance(x, Tensor) else x for x in inputs]
            out = tuple(o.data if isinstance(o, Tensor) else o for o in kwargs.pop("out"))
            result = ufunc(*raw, out=out, **kwargs)
            return result
        names = _UFUNC_METHODS.get(ufunc)
        if kwargs or names is None or len(inputs) != 2:
            return NotImplemented
        return getattr(self, names[0])(inputs[1]) if inputs[0] is self else getattr(self, names[1])(inputs[0])

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        return array if dtype is None else array.astype(dtype)

    @staticmethod
    def _new(array, requires_grad=False):
        return Tensor(array, requires_grad=requires_grad)

    _leaf = _new

    def reshape(self, *shape):
        return _array.reshape(self, _shape_args(shape))

    def transpose(self, *axes):
        return _array.transpose(self, axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else (axes or None))

    def flatten(self, start_dim=0, end_dim=-1):
        start, end = _dim_index("flatten", start_dim, self.ndim), _dim_index("flatten", end_dim, self.ndim)
        if start > end:
            raise ValueError(f"flatten: start_dim ({start_dim}) comes after end_dim ({end_dim}) "
                             f"for a tensor of shape {self.shape}")
        return self.reshape(self.shape[:start] + (-1,) + self.shape[end + 1:]) if self.ndim else self.reshape(1)

    def sum(self, axis=None, keepdims=False, dim=None, keepdim=None):
        return _math.sum(self, *_reduce_args("sum", axis, keepdims, dim, keepdim))

    def mean(self, axis=None, keepdims=False, dim=None, keepdim=None):
        return _math.mean(self, *_reduce_args("mean", axis, keepdims, dim, keepdim))

    def max(self, axis=None, keepdims=False, dim=None, keepdim=None):
        return _math.max(self, *_reduce_args("max", axis, keepdims, dim, keepdim))

    def min(self, axis=None, keepdims=False, dim=None, keepdim=None):
        return -_math.max(-self, *_reduce_args("min", axis, keepdims, dim, keepdim))

    def exp(self): return _math.exp(self)
    def log(self): return _math.log(self)
    def sqrt(self): return _math.sqrt(self)
    def abs(self): return _select.abs(self)
    def clip(self, lo=None, hi=None): return _math.clip(self, lo, hi)
    def astype(self, dtype): return _math.cast(self, dtype)


_UFUNC_METHODS = {  # ufunc -> (method when the Tensor is on the left, on the right)
    np.add: ("__add__", "__radd__"), np.subtract: ("__sub__", "__rsub__"),
    np.multiply: ("__mul__", "__rmul__"), np.true_divide: ("__truediv__", "__rtruediv__"),
    np.power: ("__pow__", "__rpow__"), np.matmul: ("__matmul__", "__rmatmul__"),
    np.equal: ("__eq__", "__eq__"), np.not_equal: ("__ne__", "__ne__"),
    np.less: ("__lt__", "__gt__"), np.less_equal: ("__le__", "__ge__"),
    np.greater: ("__gt__", "__lt__"), np.greater_equal: ("__ge__", "__le__"),
}


def _raw_index(index):
    """An index with Tensors (masks, integer arrays) replaced by their arrays."""
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index.data if isinstance(index, Tensor) else index


def as_tensor(x, like=None, op="op"):
    """Wrap an array or Python number as a (constant) Tensor. Numbers take the dtype of
    ``like`` when it is floating, so float32 stays float32 when mixed with scalars."""
    if isinstance(x, Tensor):
        return x
    if _is_array(x):
        return Tensor(x)
    if isinstance(x, (numbers.Number, np.generic)) and not isinstance(x, bool):
        if like is not None:
            xp = get_array_module(like.data)
            dtype = like.dtype if like.dtype.kind == "f" else None
            return Tensor(xp.asarray(x, dtype=dtype))
        return Tensor(np.asarray(x))
    raise TypeError(f"{op}: expected a Tensor, a NumPy/CuPy array or a number; got {type(x).__name__}")


from .functional import array as _array, math as _math, select as _select  # noqa: E402  (operators need the ops)
