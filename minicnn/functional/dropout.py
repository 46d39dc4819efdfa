"""Inverted dropout (Srivastava et al. 2014; the AlexNet FC layers use p = 0.5).

Training: each element is kept with probability 1 - p and scaled by 1 / (1 - p), so the
expected output equals the input and evaluation needs no rescaling.

Derivations and worked examples: docs/dropout.md
"""
from ..backend import get_array_module
from ..function import Function
from ..rng import get_rng
from ..tensor import as_tensor


class DropoutFunction(Function):
    """y = x * m, m_i = [u_i >= p] / (1 - p), u_i ~ U[0, 1) from the library RNG.
    Backward: gx = gy * m (the same mask; it is kept in x's dtype)."""
    def __init__(self, p):
        self.p = p

    def forward(self, x):
        xp = get_array_module(x)
        rng = get_rng(xp)
        if x.dtype.kind == "f" and x.dtype.itemsize >= 4:
            u = rng.random(x.shape, dtype=x.dtype)
        else:
            u = rng.random(x.shape)
        self.mask = (u >= self.p).astype(x.dtype)
        self.mask *= 1.0 / (1.0 - self.p)   # a Python float keeps the mask's dtype
        return x * self.mask

    def backward(self, gy):
        return gy * self.mask


def dropout(x, p=0.5, training=True):
    """Inverted dropout; the identity when ``training`` is False or p == 0."""
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
        raise ValueError(f"dropout: expected a probability p in [0, 1), got {p!r}")
    if not training or p == 0:
        return as_tensor(x, op="dropout")
    return DropoutFunction(float(p))(x)
