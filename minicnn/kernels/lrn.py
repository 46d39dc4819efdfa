"""Local response normalisation across channels: the NumPy reference and the Numba loops.

For x viewed as (N, C, S) (S = all spatial positions flattened):

    s[n,c,p] = k + alpha' * sum_{j in W(c)} x[n,j,p]^2,   W(c) = [c - size//2, c + (size-1)//2]
    y[n,c,p] = x[n,c,p] * s[n,c,p]^(-beta)

Channels outside [0, C) count as zeros, which is PyTorch's padding (size//2 before,
(size-1)//2 after).  alpha' is alpha/size ("pytorch") or alpha ("paper"); the caller
passes the effective value.

Backward.  y_j depends on x_i directly (i = j) and through s_j whenever i is in W(j):
    dy_j/dx_i = [i = j] s_j^(-beta) - 2 beta alpha' x_j x_i s_j^(-beta-1) [i in W(j)]
so with t_j = gy_j x_j s_j^(-beta-1):
    gx_i = gy_i s_i^(-beta) - 2 beta alpha' x_i * sum_{j : i in W(j)} t_j
and i in W(j)  <=>  j in [i - (size-1)//2, i + size//2]: the window mirrored.

Derivations and worked examples: docs/lrn.md
"""
import numpy as np

from ..backend import get_array_module
from . import njit

try:
    from numba import prange
except Exception:  # pragma: no cover - numba is a dependency
    prange = range


# --- reference (read this one) --------------------------------------------------------
def window_sum_reference(v, before, after):
    """out[:, c] = sum of v[:, j] for j in [c - before, c + after] within [0, C)."""
    xp = get_array_module(v)
    out = xp.zeros_like(v)
    n_channels = v.shape[1]
    for d in range(-before, after + 1):   # one shifted add per window offset
        lo, hi = max(0, -d), min(n_channels, n_channels - d)
        if lo < hi:
            out[:, lo:hi] += v[:, lo + d:hi + d]
    return out


def lrn_forward_reference(x, size, alpha, beta, k):
    """x: (N, C, S) -> (y, s), both (N, C, S); ``alpha`` is the effective alpha'."""
    s = k + alpha * window_sum_reference(x * x, size // 2, (size - 1) // 2)
    return x * s ** -beta, s


def lrn_backward_reference(x, s, gy, size, alpha, beta):
    """gx (N, C, S) from the saved x and s and the output gradient gy."""
    s_pow = s ** -beta
    t = gy * x * s_pow / s                                     # gy_j x_j s_j^(-beta-1)
    back = window_sum_reference(t, (size - 1) // 2, size // 2)  # over j with i in W(j)
    return gy * s_pow - (2 * beta * alpha) * x * back


# --- Numba: the same sums, row by row so the inner loops vectorise; one sample per thread ---
@njit(inline="always")
def _neg_pow(s, beta):
    """s^(-beta); AlexNet's beta = 0.75 is 1 / (sqrt(s) * sqrt(sqrt(s))), far cheaper than pow."""
    if beta == 0.75:
        r = np.sqrt(s)
        return 1 / (r * np.sqrt(r))
    return s ** -beta


@njit(parallel=True)
def _lrn_forward_numba(x, size, alpha, beta, k, y, s):
    n_samples, n_channels, n_pos = x.shape
    before, after = size // 2, (size - 1) // 2
    for n in prange(n_samples):
        acc = np.empty(n_pos, dtype=x.dtype)
        for c in range(n_channels):
            acc[:] = 0
            for j in range(max(0, c - before), min(n_channels - 1, c + after) + 1):
                for p in range(n_pos):
                    acc[p] += x[n, j, p] * x[n, j, p]
            for p in range(n_pos):
                sc = k + alpha * acc[p]
                s[n, c, p] = sc
                y[n, c, p] = x[n, c, p] * _neg_pow(sc, beta)


@njit(parallel=True)
def _lrn_backward_numba(x, s, gy, size, alpha, beta, gx):
    n_samples, n_channels, n_pos = x.shape
    before, after = (size - 1) // 2, size // 2   # the mirrored window
    coef = 2 * beta * alpha
    for n in prange(n_samples):
        t = np.empty((n_channels, n_pos), dtype=x.dtype)      # gy_j x_j s_j^(-beta-1)
        for c in range(n_channels):
            for p in range(n_pos):
                s_pow = _neg_pow(s[n, c, p], beta)
                gx[n, c, p] = gy[n, c, p] * s_pow          # the direct term first
                t[c, p] = gy[n, c, p] * x[n, c, p] * s_pow / s[n, c, p]
        acc = np.empty(n_pos, dtype=x.dtype)
        for c in range(n_channels):
            acc[:] = 0
            for j in range(max(0, c - before), min(n_channels - 1, c + after) + 1):
                for p in range(n_pos):
                    acc[p] += t[j, p]
            for p in range(n_pos):
                gx[n, c, p] -= coef * x[n, c, p] * acc[p]
