"""Losses: cross_entropy (log-softmax + NLL fused), nll_loss, mse_loss.

reduction: "mean" (average over the batch), "sum", or "none" (one loss per sample).

Derivations and worked examples: docs/softmax_cross_entropy.md
"""
from ..backend import get_array_module
from ..function import Function
from ..tensor import Tensor

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(op, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: expected reduction in {_REDUCTIONS}, got {reduction!r}")


def _class_targets(op, target, logits):
    """The integer class array for ``logits`` (N, C); ValueError/TypeError name what is wrong."""
    xp = get_array_module(logits)
    if isinstance(target, Tensor):
        target = target.data
    target = xp.asarray(target)
    if target.dtype.kind not in "iu":
        raise TypeError(f"{op}: expected integer class indices as target, got dtype {target.dtype}")
    if logits.ndim != 2:
        raise ValueError(f"{op}: expected input (N, C), got {logits.shape}")
    if target.shape != logits.shape[:1]:
        raise ValueError(f"{op}: expected target ({logits.shape[0]},) for input {logits.shape}, "
                         f"got {target.shape}")
    n_classes = logits.shape[1]
    if target.size:
        lo, hi = int(target.min()), int(target.max())
        if lo < 0 or hi >= n_classes:
            bad = lo if lo < 0 else hi
            raise ValueError(f"{op}: expected class indices in [0, {n_classes - 1}], got {bad}")
    return target


def _reduce(losses, reduction):
    if reduction == "none":
        return losses
    total = losses.sum()
    return total / losses.shape[0] if reduction == "mean" else total


def _reduce_backward(gy, n, reduction):
    """The per-sample factor of the upstream gradient, shaped (N, 1) or scalar."""
    if reduction == "none":
        return gy[:, None]
    return gy / n if reduction == "mean" else gy


class CrossEntropyFunction(Function):
    """logits z: (N, C), target t: (N,) int  ->  loss_i = logsumexp(z_i) - z_{i, t_i}.

    Forward uses z - max(z) so exp never overflows.  Backward: d loss_i / d z_ij =
    softmax(z_i)_j - [j = t_i], so gz = (softmax - onehot) * gy  (/ N for "mean").
    Saves the softmax (N, C) and the targets."""
    def __init__(self, target, reduction="mean"):
        self.target, self.reduction = target, reduction

    def check(self, z):
        self.target = _class_targets("cross_entropy", self.target, z)

    def forward(self, z):
        xp = get_array_module(z)
        shifted = z - z.max(axis=1, keepdims=True)
        e = xp.exp(shifted)
        sum_e = e.sum(axis=1, keepdims=True)
        rows = xp.arange(z.shape[0])
        losses = xp.log(sum_e[:, 0]) - shifted[rows, self.target]
        self.softmax = e / sum_e
        return _reduce(losses, self.reduction)

    def backward(self, gy):
        xp = get_array_module(gy)
        g = self.softmax.copy()
        g[xp.arange(g.shape[0]), self.target] -= 1
        g *= _reduce_backward(gy, g.shape[0], self.reduction)
        return g


class NLLLossFunction(Function):
    """log-probabilities x: (N, C), target t: (N,)  ->  loss_i = -x_{i, t_i}.
    Backward: gx = -gy at (i, t_i), 0 elsewhere (/ N for "mean")."""
    def __init__(self, target, reduction="mean"):
        self.target, self.reduction = target, reduction

    def check(self, x):
        self.target = _class_targets("nll_loss", self.target, x)

    def forward(self, x):
        xp = get_array_module(x)
        self.x_shape, self.x_dtype = x.shape, x.dtype
        return _reduce(-x[xp.arange(x.shape[0]), self.target], self.reduction)

    def backward(self, gy):
        xp = get_array_module(gy)
        n = self.x_shape[0]
        g = xp.zeros(self.x_shape, dtype=self.x_dtype)
        factor = _reduce_backward(gy, n, self.reduction)
        g[xp.arange(n), self.target] = -(factor[:, 0] if self.reduction == "none" else factor)
        return g


class MSELossFunction(Function):
    """a, b: same shape  ->  (a - b)^2, averaged/summed over all elements or kept.
    Backward: ga = 2 (a - b) gy  (/ numel for "mean"),  gb = -ga."""
    def __init__(self, reduction="mean"):
        self.reduction = reduction

    def check(self, a, b):
        if a.shape != b.shape:
            raise ValueError(f"mse_loss: expected target of the input's shape {a.shape}, got {b.shape}")

    def forward(self, a, b):
        self.diff = a - b
        sq = self.diff * self.diff
        if self.reduction == "none":
            return sq
        total = sq.sum()
        return total / sq.size if self.reduction == "mean" else total

    def backward(self, gy):
        scale = gy * 2 / self.diff.size if self.reduction == "mean" else gy * 2
        ga = self.diff * scale
        return (ga if self.needs_input_grad[0] else None,
                -ga if self.needs_input_grad[1] else None)


def cross_entropy(logits, target, reduction="mean"):
    """Softmax cross-entropy of ``logits`` (N, C) against integer classes ``target`` (N,)."""
    _check_reduction("cross_entropy", reduction)
    return CrossEntropyFunction(target, reduction)(logits)


def nll_loss(log_probs, target, reduction="mean"):
    """Negative log-likelihood of ``log_probs`` (N, C) (e.g. log_softmax output) at ``target``."""
    _check_reduction("nll_loss", reduction)
    return NLLLossFunction(target, reduction)(log_probs)


def mse_loss(input, target, reduction="mean"):
    """Mean squared error between two tensors of the same shape."""
    _check_reduction("mse_loss", reduction)
    return MSELossFunction(reduction)(input, target)
