"""Tensor: an array (NumPy or CuPy) plus the bookkeeping autograd needs.

How the graph is recorded and walked: docs/autograd.md.
"""
import numbers

import numpy as np

from .backend import backend_module, get_array_module, is_cupy_array, to_device, to_numpy


def _is_array(a):
    return isinstance(a, np.ndarray) or is_cupy_array(a)


class Tensor:
    """``data``: the array; ``grad``: a Tensor (or None) filled by ``backward``;
    ``creator``: the Function that made it (None for leaves)."""

    __array_ufunc__ = None  # ndarray <op> Tensor defers to Tensor's reflected operator

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
        if requires_grad and data.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require grad; got dtype {data.dtype}")
        self.data = data
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.creator = None
        self.output_index = 0
        self.generation = 0

    # --- array-like properties -------------------------------------------------
    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
    dtype = property(lambda self: self.data.dtype)
    is_leaf = property(lambda self: self.creator is None)
    T = property(lambda self: self.transpose())

    @property
    def device(self):
        return "cupy" if is_cupy_array(self.data) else "numpy"

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        body = np.array2string(to_numpy(self.data), precision=4, threshold=20, prefix="Tensor(")
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
        """The same data, cut from the graph."""
        return Tensor(self.data)

    def numpy(self):
        """The data as a NumPy array (copied from the GPU if needed)."""
        return to_numpy(self.data)

    def item(self):
        if self.size != 1:
            raise ValueError(f"item() needs a tensor of one element; got shape {self.shape}")
        return self.data.item()

    def tolist(self):
        return self.numpy().tolist()

    def to(self, backend):
        """A leaf copy of this tensor on ``backend`` ("numpy"/"cupy")."""
        return Tensor(to_device(self.data, backend), requires_grad=self.requires_grad)

    def argmax(self, axis=None):
        xp = get_array_module(self.data)
        return Tensor(xp.argmax(self.data, axis=axis))

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
    def __getitem__(self, index): return _array.getitem(self, index)

    def _compare(self, other, op):
        other = other.data if isinstance(other, Tensor) else other
        return Tensor(op(self.data, other))

    def __lt__(self, other): return self._compare(other, lambda a, b: a < b)
    def __le__(self, other): return self._compare(other, lambda a, b: a <= b)
    def __gt__(self, other): return self._compare(other, lambda a, b: a > b)
    def __ge__(self, other): return self._compare(other, lambda a, b: a >= b)

    def reshape(self, *shape):
        return _array.reshape(self, shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape)

    def transpose(self, *axes):
        return _array.transpose(self, axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else (axes or None))

    def flatten(self, start_dim=0):
        return self.reshape(self.shape[:start_dim] + (-1,))

    def sum(self, axis=None, keepdims=False): return _math.sum(self, axis, keepdims)
    def mean(self, axis=None, keepdims=False): return _math.mean(self, axis, keepdims)
    def max(self, axis=None, keepdims=False): return _math.max(self, axis, keepdims)
    def exp(self): return _math.exp(self)
    def log(self): return _math.log(self)
    def sqrt(self): return _math.sqrt(self)
    def clip(self, lo=None, hi=None): return _math.clip(self, lo, hi)
    def astype(self, dtype): return _math.cast(self, dtype)


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


from .functional import array as _array, math as _math  # noqa: E402  (operators need the ops)
