"""Linear (fully connected), Flatten and Identity layers."""
import math

from .. import functional as F
from ..tensor import as_tensor
from . import init
from .module import Module, new_parameter


class Linear(Module):
    """y = x W^T + b;  x: (..., in_features) -> (..., out_features); weight (out, in).
    Init as PyTorch: W, b ~ U(-1/sqrt(in_features), 1/sqrt(in_features))
    (kaiming_uniform_ with a = sqrt(5) for W)."""
    def __init__(self, in_features, out_features, bias=True, dtype=None):
        super().__init__()
        for name, v in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ValueError(f"Linear: expected a positive integer {name}, got {v!r}")
        self.in_features, self.out_features = in_features, out_features
        self.weight = new_parameter((out_features, in_features))
        self.register_parameter("bias", new_parameter((out_features,)) if bias else None)
        self.reset_parameters()
        if dtype is not None:
            self.to(dtype=dtype)

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias, name=f"Linear({self.in_features}->{self.out_features})")

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Flatten(Module):
    """Merges axes start_dim..end_dim into one: (N, C, H, W) -> (N, C*H*W) by default."""
    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        x = as_tensor(x, op="Flatten")
        if x.ndim == 0:
            return F.reshape(x, (1,))
        start, end = self.start_dim % x.ndim, self.end_dim % x.ndim
        if not (-x.ndim <= self.start_dim < x.ndim and -x.ndim <= self.end_dim < x.ndim) or start > end:
            raise ValueError(f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim}): "
                             f"does not fit an input of shape {tuple(x.shape)}")
        return F.reshape(x, x.shape[:start] + (-1,) + x.shape[end + 1:])

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Identity(Module):
    """y = x (a placeholder layer, e.g. to remove a head)."""
    def forward(self, x):
        return x
