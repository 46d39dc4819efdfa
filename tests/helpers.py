"""Small helpers shared by tests (import as ``from tests.helpers import ...``)."""
import numpy as np

import minicnn as mc
from minicnn import nn


def randt(xp, rng, *shape, dtype=np.float64, requires_grad=True, low=-1.0, high=1.0):
    """A random Tensor on ``xp`` (uniform in [low, high))."""
    return mc.Tensor(xp.asarray(rng.uniform(low, high, size=shape).astype(dtype)), requires_grad=requires_grad)


def try_import_torch():
    """torch, or None when it is not installed (parity tests skip then). The one way tests import
    torch: a torch that is installed but fails to import otherwise is an error, not a skip."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    return torch


def require_torch():
    """torch, or skip the calling test when it is not installed."""
    import pytest
    return try_import_torch() or pytest.skip("torch not installed")


class Exploding(nn.Module):
    """Turns its input into NaN from the given call on (simulates a diverging layer)."""
    def __init__(self, from_call):
        super().__init__()
        self.calls, self.from_call = 0, from_call

    def forward(self, x):
        self.calls += 1
        return x * float("nan") if self.calls >= self.from_call else x


def count_windows(size, kernel, stride, padding, dilation=1, ceil_mode=False):
    """The output size, by sliding the window over the padded input and counting where it may stand.

    A window at start s covers s, s+d, ..., s+d*(k-1) of the padded input (length size + 2*padding).
    Every window that fits wholly counts. With ceil_mode, one more window that hangs over the
    end counts too, if the last full one left elements after its last tap uncovered and the
    new one starts inside the input or its left padding (never in the right padding)."""
    padded = size + 2 * padding
    count, last_tap = 0, None
    for start in range(0, padded, stride):
        end = start + dilation * (kernel - 1)
        if end < padded:
            count, last_tap = count + 1, end
        elif ceil_mode and last_tap is not None and last_tap < padded - 1 and start < size + padding:
            return count + 1
        else:
            break
    return count
