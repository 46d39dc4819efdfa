"""Small helpers shared by tests (import as ``from tests.helpers import ...``)."""
import numpy as np

import minicnn as mc


def randt(xp, rng, *shape, dtype=np.float64, requires_grad=True, low=-1.0, high=1.0):
    """A random Tensor on ``xp`` (uniform in [low, high))."""
    return mc.Tensor(xp.asarray(rng.uniform(low, high, size=shape).astype(dtype)), requires_grad=requires_grad)


def try_import_torch():
    """torch, or None when it is not installed (parity tests skip then)."""
    try:
        import torch
    except Exception:
        return None
    torch.set_num_threads(1)
    return torch
