"""Normalisation: batch_norm (Ioffe & Szegedy 2015) and local_response_norm (Krizhevsky 2012).

batch_norm, per channel c over the m = N * (spatial size) values of that channel:
    mu = mean(x),  var = mean((x - mu)^2),  inv_std = 1 / sqrt(var + eps)
    xhat = (x - mu) * inv_std,  y = gamma * xhat + beta
Backward in training (mu and var depend on x).  With g = gy * gamma,
    dL/dxhat = g,  dL/dvar = -1/2 inv_std^3 sum(g (x - mu)),  dL/dmu = -inv_std sum(g)
(dL/dmu has a second path, through var: dL/dvar * dvar/dmu = dL/dvar * -2/m sum(x - mu) = 0)
and dvar/dx_i = 2 (x_i - mu) / m, dmu/dx_i = 1 / m; collecting terms,
    gx = inv_std / m * (m g - sum(g) - xhat * sum(g * xhat))
    ggamma = sum(gy * xhat),  gbeta = sum(gy)
In evaluation mu and var are constants (running statistics): gx = g * inv_std.
The passes run as kernels (``kernels.batch_norm_*``; references in kernels/batchnorm.py, Numba
loops one sweep per channel): statistics, apply, and in backward the two sums and dx.

Derivations and worked examples: docs/batchnorm.md, docs/lrn.md
"""
import math

from .. import kernels
from ..backend import get_array_module
from ..function import Function
from ..tensor import Tensor


def _channel_view(op, x, vector, name):
    """``vector`` (C,) reshaped to broadcast against x (N, C, ...)."""
    if vector.shape != (x.shape[1],):
        raise ValueError(f"{op}: expected {name} of shape ({x.shape[1]},) for input {x.shape}, "
                         f"got {vector.shape}")
    return vector.reshape((1, -1) + (1,) * (x.ndim - 2))


class BatchNormFunction(Function):
    """x: (N, C), (N, C, L) or (N, C, H, W); weight, bias: (C,) (each optional, given by
    ``has_weight``/``has_bias`` so inputs are x[, weight][, bias]).  Running statistics
    (C,) arrays are updated in place in training:
        running = (1 - momentum) * running + momentum * batch_stat
    with the unbiased variance var * m / (m - 1) for running_var, as PyTorch does."""
    def __init__(self, running_mean, running_var, training, momentum, eps, has_weight, has_bias,
                 name="batch_norm"):
        self.running_mean, self.running_var = running_mean, running_var
        self.training, self.momentum, self.eps = training, momentum, eps
        self.has_weight, self.has_bias, self.name = has_weight, has_bias, name

    def check(self, x, *params):
        op = self.name
        if x.ndim not in (2, 3, 4):
            raise ValueError(f"{op}: expected input (N, C), (N, C, L) or (N, C, H, W), got {tuple(x.shape)}")
        weight = params[0] if self.has_weight else None
        bias = params[-1] if self.has_bias else None
        for name, p in (("weight", weight), ("bias", bias)):
            if p is None:
                continue
            if p.dtype != x.dtype:   # no silent promotion (float64 gradchecks stay possible)
                raise TypeError(f"{op}: expected input dtype {p.dtype} (the {name}'s), got {x.dtype}"
                                f"; cast the input with x.astype({str(p.dtype)!r})")
            _channel_view(op, x, p, name)
        if x.dtype.kind != "f":
            raise TypeError(f"{op}: expected a floating-point input, got dtype {x.dtype}")
        for name, stat in (("running_mean", self.running_mean), ("running_var", self.running_var)):
            if stat is not None:
                _channel_view(op, x, stat, name)

    def forward(self, x, *params):
        xp = get_array_module(x)
        N, C = x.shape[:2]
        x3 = xp.ascontiguousarray(x).reshape(N, C, math.prod(x.shape[2:]))   # (N, C, S): one channel axis
        weight = params[0] if self.has_weight else xp.ones(C, dtype=x.dtype)
        bias = params[-1] if self.has_bias else xp.zeros(C, dtype=x.dtype)
        m = x3.shape[0] * x3.shape[2]                    # values per channel
        use_batch_stats = self.training or self.running_mean is None or self.running_var is None
        if use_batch_stats:
            if m <= 1:
                raise ValueError(f"{self.name}: expected more than 1 value per channel when "
                                 f"training, got input {x.shape}")
            mean, var = kernels.batch_norm_stats(x3, xp.empty(C, dtype=x.dtype), xp.empty(C, dtype=x.dtype))
            if self.training and self.running_mean is not None:
                unbiased_var = var * (m / (m - 1))
                for running, stat in ((self.running_mean, mean), (self.running_var, unbiased_var)):
                    running *= 1 - self.momentum
                    running += (self.momentum * stat).astype(running.dtype, copy=False)
        else:
            mean, var = (stat.astype(x.dtype, copy=False) for stat in (self.running_mean, self.running_var))
        inv_std = (1 / xp.sqrt(var + self.eps)).astype(x.dtype, copy=False)
        y = kernels.batch_norm_apply(x3, mean, inv_std, weight, bias, xp.empty_like(x3))
        # backward recomputes xhat = (x - mean) * inv_std from x, which the graph keeps anyway:
        # no saved xhat, one array of the input's size less per BatchNorm layer
        need_xhat = (self.needs_input_grad[0] and use_batch_stats) or (self.has_weight and self.needs_input_grad[1])
        self.x3 = x3 if need_xhat else None
        self.mean, self.inv_std, self.batch_stats, self.weight = mean, inv_std, use_batch_stats, weight
        self.running_mean = self.running_var = None   # backward does not need them
        return y.reshape(x.shape)

    def backward(self, gy):
        xp = get_array_module(gy)
        N, C = gy.shape[:2]
        gy3 = xp.ascontiguousarray(gy).reshape(N, C, math.prod(gy.shape[2:]))
        needs = self.needs_input_grad
        sums = None
        if self.x3 is not None:     # Σ gy and Σ gy·xhat: the bias and weight gradients, and dx's terms
            sums = kernels.batch_norm_backward_sums(gy3, self.x3, self.mean, self.inv_std,
                                                    xp.empty(C, dtype=gy.dtype), xp.empty(C, dtype=gy.dtype))
        grads = []
        if not needs[0]:
            grads.append(None)
        elif self.batch_stats:
            gx = kernels.batch_norm_backward_input(gy3, self.x3, self.mean, self.inv_std, self.weight, *sums,
                                                   xp.empty_like(gy3))
            grads.append(gx.reshape(gy.shape))
        else:                       # running statistics are constants: gx = gy * weight * inv_std
            grads.append(gy * (self.weight * self.inv_std).reshape((1, -1) + (1,) * (gy.ndim - 2)))
        if self.has_weight:
            grads.append(sums[1] if needs[1] else None)
        if self.has_bias:
            grads.append((sums[0] if sums is not None else gy3.sum(axis=(0, 2))) if needs[-1] else None)
        return tuple(grads)


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5, *, name="batch_norm"):
    """Batch normalisation over every axis but the channel axis 1 (PyTorch's signature).
    ``running_mean``/``running_var``: raw (C,) arrays (or None), updated in place when training.
    ``name`` labels the error messages."""
    running_mean = running_mean.data if isinstance(running_mean, Tensor) else running_mean
    running_var = running_var.data if isinstance(running_var, Tensor) else running_var
    f = BatchNormFunction(running_mean, running_var, bool(training), momentum, eps,
                  weight is not None, bias is not None, name=name)
    return f(x, *[p for p in (weight, bias) if p is not None])


class LocalResponseNormFunction(Function):
    """x: (N, C, ...) -> y same shape;  y = x / (k + alpha' * sum_{window} x^2)^beta.
    The sums and the analytic backward are the kernels ``kernels.lrn_forward``/``lrn_backward``
    (reference in ``minicnn/kernels/lrn.py``, Numba, CUDA).
    Saves x and the denominator base s (both the size of x)."""
    def __init__(self, size, alpha, beta, k, name="local_response_norm"):
        self.size, self.alpha, self.beta, self.k, self.name = size, alpha, beta, k, name

    def check(self, x):
        if x.ndim < 3:
            raise ValueError(f"{self.name}: expected input (N, C, ...) with 3 or more "
                             f"dimensions, got {tuple(x.shape)}")
        if x.dtype.kind != "f":
            raise TypeError(f"{self.name}: expected a floating-point input, got dtype {x.dtype}")

    def forward(self, x):
        self.x_shape = x.shape
        spatial = 1
        for n in x.shape[2:]:
            spatial *= n
        x3 = x.reshape(x.shape[0], x.shape[1], spatial)   # not -1: an empty batch (N = 0) has size 0
        y, s = kernels.lrn_forward(x3, self.size, self.alpha, self.beta, self.k)
        self.x3, self.s = x3, s
        return y.reshape(x.shape)

    def backward(self, gy):
        gx = kernels.lrn_backward(self.x3, self.s, gy.reshape(self.x3.shape), self.size,
                               self.alpha, self.beta)
        return gx.reshape(self.x_shape)


_SCALINGS = ("pytorch", "paper")


def local_response_norm(x, size, alpha=1e-4, beta=0.75, k=1.0, alpha_scaling="pytorch", *,
                        name="local_response_norm"):
    """Local response normalisation across channels.
    alpha_scaling="pytorch": b = a / (k + alpha/size * sum a^2)^beta  (torch.nn.LocalResponseNorm)
    alpha_scaling="paper":   b = a / (k + alpha * sum a^2)^beta  (Krizhevsky et al. 2012;
    AlexNet used size=5, alpha=1e-4, beta=0.75, k=2)."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"{name}: expected a positive integer size, got {size!r}")
    if alpha_scaling not in _SCALINGS:
        raise ValueError(f"{name}: expected alpha_scaling in {_SCALINGS}, got {alpha_scaling!r}")
    effective_alpha = alpha / size if alpha_scaling == "pytorch" else alpha
    return LocalResponseNormFunction(size, float(effective_alpha), float(beta), float(k), name=name)(x)
