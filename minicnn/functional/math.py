"""Elementwise arithmetic, matmul and reductions.

Binary ops broadcast like NumPy; their backward sums each gradient back to its input's
shape (``unbroadcast``), since broadcasting copies one value to many places.
"""
import builtins

from ..backend import get_array_module
from ..function import Function, broadcast_shapes, unbroadcast
from .inplace import check_inplace, mark_inplace


class _Binary(Function):
    def forward(self, a, b):
        broadcast_shapes(type(self).__name__, a.shape, b.shape)
        self.a_shape, self.b_shape = a.shape, b.shape
        return self.compute(a, b)


class Add(_Binary):
    """y = a + b.  Backward: da = gy, db = gy (summed over broadcast axes).
    Saves neither operand, so ``inplace=True`` may write y into a's array (see :func:`add`)."""
    def __init__(self, inplace=False):
        self.inplace = inplace

    def compute(self, a, b):
        if not self.inplace:
            return a + b
        xp = get_array_module(a)
        if broadcast_shapes("add", a.shape, b.shape) != a.shape or xp.result_type(a, b) != a.dtype:
            raise ValueError(f"add(inplace=True): the result must have a's shape {a.shape} and dtype "
                             f"{a.dtype}; b has shape {b.shape} and dtype {b.dtype}. Use inplace=False")
        return xp.add(a, b, out=a)

    def backward(self, gy):
        return unbroadcast(gy, self.a_shape), unbroadcast(gy, self.b_shape)


class Sub(_Binary):
    """y = a - b.  Backward: da = gy, db = -gy."""
    def compute(self, a, b):
        return a - b

    def backward(self, gy):
        return unbroadcast(gy, self.a_shape), unbroadcast(-gy, self.b_shape)


class Mul(_Binary):
    """y = a * b.  Backward: da = gy * b, db = gy * a."""
    def compute(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, gy):
        ga = unbroadcast(gy * self.b, self.a_shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(gy * self.a, self.b_shape) if self.needs_input_grad[1] else None
        return ga, gb


class Div(_Binary):
    """y = a / b.  Backward: da = gy / b, db = -gy * a / b^2."""
    def compute(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, gy):
        ga = unbroadcast(gy / self.b, self.a_shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(-gy * self.a / (self.b * self.b), self.b_shape) if self.needs_input_grad[1] else None
        return ga, gb


class Pow(_Binary):
    """y = a ** b.  Backward: da = gy * b * a^(b-1), db = gy * y * log(a)."""
    def compute(self, a, b):
        self.a, self.b = a, b
        self.y = a ** b
        return self.y

    def backward(self, gy):
        xp = get_array_module(gy)
        ga = unbroadcast(gy * self.b * self.a ** (self.b - 1), self.a_shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(gy * self.y * xp.log(self.a), self.b_shape) if self.needs_input_grad[1] else None
        return ga, gb


class Neg(Function):
    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


class MatMul(Function):
    """y = a @ b (batched over leading axes, NumPy rules; 1-D operands promoted).
    Backward: da = gy @ b^T, db = a^T @ gy, each summed over broadcast batch axes."""
    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: operands must be at least 1-D; got shapes {a.shape} and {b.shape}")
        self.a_shape, self.b_shape = a.shape, b.shape
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        if a2.shape[-1] != b2.shape[-2]:
            raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not align "
                             f"({a2.shape[-1]} != {b2.shape[-2]})")
        broadcast_shapes("matmul", a2.shape[:-2], b2.shape[:-2])
        self.a, self.b = a2, b2
        y = a2 @ b2
        self.y2_shape = y.shape
        if a.ndim == 1:
            y = y[..., 0, :]
        if b.ndim == 1:
            y = y[..., 0]
        return y

    def backward(self, gy):
        xp = get_array_module(gy)
        gy = gy.reshape(self.y2_shape)  # undo the squeeze of promoted 1-D operands
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = unbroadcast(gy @ xp.swapaxes(self.b, -1, -2), self.a.shape).reshape(self.a_shape)
        if self.needs_input_grad[1]:
            gb = unbroadcast(xp.swapaxes(self.a, -1, -2) @ gy, self.b.shape).reshape(self.b_shape)
        return ga, gb


def _normalize_axis(axis, ndim, op):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    for a in axes:
        if not -ndim <= a < builtins.max(ndim, 1):
            raise ValueError(f"{op}: axis {a} is out of range for an input of {ndim} dimensions")
    return tuple(sorted(a % builtins.max(ndim, 1) for a in axes))


def _keep_shape(shape, axes):
    """The shape of a reduction's result with keepdims=True (1 on reduced axes)."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(Function):
    """y = sum of x over ``axis``.  Backward: gy broadcast back over the summed axes."""
    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.axes = _normalize_axis(self.axis, x.ndim, "sum")
        self.x_shape = x.shape
        return x.sum(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        xp = get_array_module(gy)
        return xp.broadcast_to(gy.reshape(_keep_shape(self.x_shape, self.axes)), self.x_shape).copy()


class Mean(Sum):
    """y = mean of x over ``axis``.  Backward: gy / n on every element that was averaged."""
    def forward(self, x):
        y = super().forward(x)
        self.count = x.size // builtins.max(y.size, 1) if x.size else 1
        return y / x.dtype.type(self.count) if x.dtype.kind == "f" else y / self.count

    def backward(self, gy):
        return super().backward(gy / gy.dtype.type(self.count))


class Max(Function):
    """y = max of x over ``axis``.  Backward: gy goes to the arg-max; ties share it equally."""
    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        if x.size == 0:
            raise ValueError(f"max: the input is empty (shape {x.shape})")
        self.axes = _normalize_axis(self.axis, x.ndim, "max")
        self.x = x
        self.y = x.max(axis=self.axes, keepdims=True)
        return self.y if self.keepdims else self.y.reshape(
            tuple(n for i, n in enumerate(x.shape) if i not in self.axes))

    def backward(self, gy):
        mask = self.x == self.y
        mask = mask / mask.sum(axis=self.axes, keepdims=True).astype(gy.dtype)
        return (mask * gy.reshape(self.y.shape)).astype(gy.dtype)


class Exp(Function):
    """y = e^x.  Backward: gy * y."""
    def forward(self, x):
        xp = get_array_module(x)
        self.y = xp.exp(x)
        return self.y

    def backward(self, gy):
        return gy * self.y


class Log(Function):
    """y = ln x.  Backward: gy / x."""
    def forward(self, x):
        xp = get_array_module(x)
        self.x = x
        return xp.log(x)

    def backward(self, gy):
        return gy / self.x


class Sqrt(Function):
    """y = sqrt(x).  Backward: gy / (2 y)."""
    def forward(self, x):
        xp = get_array_module(x)
        self.y = xp.sqrt(x)
        return self.y

    def backward(self, gy):
        return gy / (2 * self.y)


class Clip(Function):
    """y = min(max(x, lo), hi).  Backward: gy where lo <= x <= hi, else 0."""
    def __init__(self, lo, hi):
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"clip: lo must be <= hi; got lo={lo}, hi={hi}")
        self.lo, self.hi = lo, hi

    def forward(self, x):
        xp = get_array_module(x)
        self.x = x
        return xp.clip(x, self.lo, self.hi)

    def backward(self, gy):
        inside = gy.dtype.type(1)
        if self.lo is not None:
            inside = inside * (self.x >= self.lo)
        if self.hi is not None:
            inside = inside * (self.x <= self.hi)
        return (gy * inside).astype(gy.dtype)


class Cast(Function):
    """y = x as ``dtype``.  Backward: gy cast back to x's dtype."""
    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, x):
        self.x_dtype = x.dtype
        return x.astype(self.dtype)

    def backward(self, gy):
        return gy.astype(self.x_dtype)


def add(a, b, inplace=False):
    """a + b. ``inplace=True`` writes the sum into a's array (a residual add: one array less);
    the same rule as ``relu(x, inplace=True)`` (minicnn/functional/inplace.py) guards it."""
    if not inplace:
        return Add()(a, b)
    from ..tensor import as_tensor
    a = as_tensor(a, op="add")
    check_inplace(a, "add")
    return mark_inplace(a, Add(inplace=True)(a, b))


def sub(a, b): return Sub()(a, b)
def mul(a, b): return Mul()(a, b)
def div(a, b): return Div()(a, b)
def pow(a, b): return Pow()(a, b)  # noqa: A001 - mirrors torch.pow
def neg(x): return Neg()(x)
def matmul(a, b): return MatMul()(a, b)
def sum(x, axis=None, keepdims=False): return Sum(axis, keepdims)(x)  # noqa: A001
def mean(x, axis=None, keepdims=False): return Mean(axis, keepdims)(x)
def max(x, axis=None, keepdims=False): return Max(axis, keepdims)(x)  # noqa: A001
def exp(x): return Exp()(x)
def log(x): return Log()(x)
def sqrt(x): return Sqrt()(x)
def clip(x, lo=None, hi=None): return Clip(lo, hi)(x)
def cast(x, dtype): return Cast(dtype)(x)
