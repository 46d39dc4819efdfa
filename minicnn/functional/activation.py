"""Activations: relu, sigmoid, tanh, softmax, log_softmax.

Each backward is the elementwise (or, for softmax, per-row Jacobian-vector) product of the
incoming gradient with the derivative, written from what forward saved.

Derivations and worked examples: docs/relu.md, docs/softmax_cross_entropy.md
"""
from ..backend import get_array_module
from ..function import Function
from ..tensor import as_tensor
from .inplace import check_inplace, mark_inplace


class ReLUFunction(Function):
    """y = max(x, 0).  Backward: gx = gy * [x > 0]  (the subgradient 0 is taken at x = 0).
    Saves only the boolean mask (1 byte per element), not x or y, so ``inplace=True`` may
    write y into x's array (when :mod:`.inplace` allows it: see :func:`relu`)."""
    def __init__(self, inplace=False):
        self.inplace = inplace

    def forward(self, x):
        xp = get_array_module(x)
        self.mask = x > 0
        # NaN stays NaN (as in PyTorch): a diverging run must show it
        return xp.maximum(x, x.dtype.type(0), out=x if self.inplace else None)

    def backward(self, gy):
        return gy * self.mask


class SigmoidFunction(Function):
    """y = 1 / (1 + exp(-x)), computed as (1 + tanh(x/2)) / 2, which never overflows.
    Backward: gx = gy * y * (1 - y)."""
    def forward(self, x):
        xp = get_array_module(x)
        self.y = 0.5 * (1 + xp.tanh(0.5 * x))
        return self.y

    def backward(self, gy):
        return gy * self.y * (1 - self.y)


class TanhFunction(Function):
    """y = tanh(x).  Backward: gx = gy * (1 - y^2)."""
    def forward(self, x):
        xp = get_array_module(x)
        self.y = xp.tanh(x)
        return self.y

    def backward(self, gy):
        return gy * (1 - self.y * self.y)


def _check_axis(op, x, axis):
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"{op}: axis {axis} is out of range for an input of shape {x.shape}")


class SoftmaxFunction(Function):
    """y_i = exp(x_i - m) / sum_j exp(x_j - m) along ``axis`` (m = max, for stability).
    Backward: the Jacobian is diag(y) - y y^T, so gx = y * (gy - sum(gy * y)) along ``axis``."""
    def __init__(self, axis=-1):
        self.axis = axis

    def check(self, x):
        _check_axis("softmax", x, self.axis)

    def forward(self, x):
        xp = get_array_module(x)
        e = xp.exp(x - x.max(axis=self.axis, keepdims=True))
        e /= e.sum(axis=self.axis, keepdims=True)
        self.y = e
        return e

    def backward(self, gy):
        y = self.y
        return y * (gy - (gy * y).sum(axis=self.axis, keepdims=True))


class LogSoftmaxFunction(Function):
    """y_i = x_i - m - log(sum_j exp(x_j - m)) along ``axis`` (m = max: no overflow, and the
    log never sees 0).  Backward: dy_i/dx_j = [i = j] - softmax_j, so
    gx = gy - softmax * sum(gy) along ``axis``, with softmax = exp(y)."""
    def __init__(self, axis=-1):
        self.axis = axis

    def check(self, x):
        _check_axis("log_softmax", x, self.axis)

    def forward(self, x):
        xp = get_array_module(x)
        shifted = x - x.max(axis=self.axis, keepdims=True)
        self.y = shifted - xp.log(xp.exp(shifted).sum(axis=self.axis, keepdims=True))
        return self.y

    def backward(self, gy):
        xp = get_array_module(gy)
        return gy - xp.exp(self.y) * gy.sum(axis=self.axis, keepdims=True)


def relu(x, inplace=False):
    """max(x, 0). ``inplace=True`` overwrites x's array with the result (one array less, kept
    alive by the graph or freshly allocated); it raises RuntimeError where that would corrupt a
    gradient (x a leaf that requires grad, or kept by the function that made it), and bumps x's
    version so any other function that kept x refuses to run backward."""
    if not inplace:
        return ReLUFunction()(x)
    x = as_tensor(x, op="relu")
    check_inplace(x, "relu")
    return mark_inplace(x, ReLUFunction(inplace=True)(x))


def sigmoid(x):
    return SigmoidFunction()(x)


def tanh(x):
    return TanhFunction()(x)


def softmax(x, axis=-1):
    return SoftmaxFunction(axis)(x)


def log_softmax(x, axis=-1):
    return LogSoftmaxFunction(axis)(x)
