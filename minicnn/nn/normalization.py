"""BatchNorm1d / BatchNorm2d and LocalResponseNorm layers.

BatchNorm's state_dict has PyTorch's keys: weight, bias, running_mean, running_var,
num_batches_tracked (int64), so a minicnn checkpoint loads into torch and back.
"""
import numpy as np

from .. import functional as F
from ..backend import backend_module
from ..tensor import as_tensor
from . import init
from .module import Module, new_parameter


class _BatchNorm(Module):
    _expected = ""      # e.g. "(N, {C}, H, W)"
    _ranks = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, dtype=None):
        super().__init__()
        if isinstance(num_features, bool) or not isinstance(num_features, int) or num_features <= 0:
            raise ValueError(f"{type(self).__name__}: expected a positive integer num_features, got {num_features!r}")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = new_parameter((num_features,))
            self.bias = new_parameter((num_features,))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        xp = backend_module()
        if track_running_stats:
            self.register_buffer("running_mean", xp.zeros(num_features, dtype=np.float32))
            self.register_buffer("running_var", xp.ones(num_features, dtype=np.float32))
            self.register_buffer("num_batches_tracked", xp.zeros((), dtype=np.int64))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)
        self.reset_parameters()
        if dtype is not None:
            self.to(dtype=dtype)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean[...] = 0
            self.running_var[...] = 1
            self.num_batches_tracked[...] = 0

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def _check_rank(self, x):
        """Which ranks this layer takes (1d or 2d) is the layer's own rule; batch_norm checks the rest."""
        if x.ndim not in self._ranks or x.shape[1] != self.num_features:
            expected = self._expected.format(C=self.num_features)
            raise ValueError(f"{type(self).__name__}({self.num_features}): expected input {expected}, "
                             f"got {tuple(x.shape)}")

    def forward(self, x):
        x = as_tensor(x, op=type(self).__name__)
        self._check_rank(x)
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked += 1
            if self.momentum is None:   # cumulative moving average, as PyTorch
                momentum = 1.0 / float(self.num_batches_tracked)
        use_batch_stats = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return F.batch_norm(x, self.running_mean if track else None,
                            self.running_var if track else None,
                            self.weight, self.bias, use_batch_stats, momentum, self.eps,
                            name=f"{type(self).__name__}({self.num_features})")

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs over N (and L), per channel C."""
    _expected = "(N, {C}) or (N, {C}, L)"
    _ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs over N, H, W, per channel C."""
    _expected = "(N, {C}, H, W)"
    _ranks = (4,)


class LocalResponseNorm(Module):
    """Across-channel LRN; see minicnn.functional.local_response_norm.
    AlexNet (paper): LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2, alpha_scaling="paper")."""
    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0, alpha_scaling="pytorch"):
        super().__init__()
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"LocalResponseNorm: expected a positive integer size, got {size!r}")
        if alpha_scaling not in ("pytorch", "paper"):
            raise ValueError(f"LocalResponseNorm: expected alpha_scaling 'pytorch' or 'paper', got {alpha_scaling!r}")
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k
        self.alpha_scaling = alpha_scaling

    def forward(self, x):
        return F.local_response_norm(x, self.size, self.alpha, self.beta, self.k, self.alpha_scaling,
                                     name=f"LocalResponseNorm({self.size})")

    def extra_repr(self):
        s = f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
        return s + (f", alpha_scaling={self.alpha_scaling!r}" if self.alpha_scaling != "pytorch" else "")
