"""Ops that pick between values: abs (x or -x), maximum (a or b), where (a or b by a mask).

Each backward sends the gradient down the branch that was picked.
"""
from ..backend import get_array_module
from ..function import Function, broadcast_shapes, unbroadcast


class Abs(Function):
    """y = |x|.  Backward: gy * sign(x) (0 at x = 0, as PyTorch)."""
    def forward(self, x):
        xp = get_array_module(x)
        self.sign = xp.sign(x)
        return xp.abs(x)

    def backward(self, gy):
        return (gy * self.sign).astype(gy.dtype)


class Maximum(Function):
    """y = max(a, b) elementwise.  Backward: gy to the larger; ties split it half and half (PyTorch)."""
    def check(self, a, b):
        broadcast_shapes("maximum", a.shape, b.shape)

    def forward(self, a, b):
        xp = get_array_module(a, b)
        self.a_shape, self.b_shape = a.shape, b.shape
        self.a_wins = (a > b).astype(a.dtype) + (a == b).astype(a.dtype) * a.dtype.type(0.5)
        return xp.maximum(a, b)

    def backward(self, gy):
        ga = gy * self.a_wins
        return unbroadcast(ga, self.a_shape), unbroadcast(gy - ga, self.b_shape)


class Where(Function):
    """y = a where condition else b.  Backward: gy to a where condition holds, to b elsewhere."""
    def __init__(self, condition):
        self.condition = condition

    def check(self, a, b):
        get_array_module(a, b, self.condition)   # a CuPy mask with NumPy values is a TypeError
        broadcast_shapes("where", self.condition.shape, a.shape, b.shape)

    def forward(self, a, b):
        xp = get_array_module(a, b, self.condition)
        self.a_shape, self.b_shape = a.shape, b.shape
        return xp.where(self.condition, a, b)

    def backward(self, gy):
        xp = get_array_module(gy)
        zero = xp.zeros((), dtype=gy.dtype)
        return (unbroadcast(xp.where(self.condition, gy, zero), self.a_shape),
                unbroadcast(xp.where(self.condition, zero, gy), self.b_shape))


def abs(x): return Abs()(x)  # noqa: A001 - mirrors torch.abs
def maximum(a, b): return Maximum()(a, b)


def where(condition, a, b):
    condition = getattr(condition, "data", condition)
    if getattr(condition, "dtype", None) is None or condition.dtype.kind != "b":
        raise TypeError(f"where: expected a boolean condition (e.g. x > 0), got "
                        f"{getattr(condition, 'dtype', type(condition).__name__)}")
    return Where(condition)(a, b)
