"""Numba versions of the batch-norm passes; each computes what its reference in
``batchnorm.py`` computes (same signature) and tests check that the two agree.

One thread per channel (``prange``): a channel's N runs of S contiguous values are read
front to back, sums are accumulated in float64 in registers, and no thread writes another's
memory. Each function is a single sweep over its inputs with no temporaries, where NumPy
needs three to five full-size passes and as many temporaries.
"""
from . import njit

try:
    from numba import prange
except Exception:  # pragma: no cover - only without numba, when these are never called
    prange = range


@njit(parallel=True)
def batch_norm_stats(x, mean, var):
    """mean[c] and the biased var[c] over n and s (two sweeps of channel c: mean, then the
    centred squares, which avoids the cancellation of E[x²] - E[x]²)."""
    N, C, S = x.shape
    m = N * S
    for c in prange(C):
        total = 0.0
        for n in range(N):
            for i in range(S):
                total += x[n, c, i]
        mu = total / m
        squares = 0.0
        for n in range(N):
            for i in range(S):
                d = x[n, c, i] - mu
                squares += d * d
        mean[c] = mu
        var[c] = squares / m
    return mean, var


@njit(parallel=True)
def batch_norm_apply(x, mean, inv_std, weight, bias, y):
    """y = x * a + b with a = inv_std * weight, b = bias - mean * a, per channel."""
    N, C, S = x.shape
    for c in prange(C):
        a = inv_std[c] * weight[c]
        b = bias[c] - mean[c] * a
        for n in range(N):
            for i in range(S):
                y[n, c, i] = x[n, c, i] * a + b
    return y


@njit(parallel=True)
def batch_norm_backward_sums(gy, x, mean, inv_std, sum_gy, sum_gy_xhat):
    """Σ gy and Σ gy * xhat per channel, xhat recomputed on the fly."""
    N, C, S = x.shape
    for c in prange(C):
        s1 = 0.0
        s2 = 0.0
        mu = mean[c]
        for n in range(N):
            for i in range(S):
                g = gy[n, c, i]
                s1 += g
                s2 += g * (x[n, c, i] - mu)
        sum_gy[c] = s1
        sum_gy_xhat[c] = s2 * inv_std[c]
    return sum_gy, sum_gy_xhat


@njit(parallel=True)
def batch_norm_backward_input(gy, x, mean, inv_std, weight, sum_gy, sum_gy_xhat, gx):
    """gx = k * (gy - sum_gy/m - xhat * sum_gy_xhat/m), k = weight * inv_std."""
    N, C, S = x.shape
    m = N * S
    for c in prange(C):
        k = weight[c] * inv_std[c]
        shift = sum_gy[c] / m
        slope = sum_gy_xhat[c] / m * inv_std[c]      # multiplies (x - mean), not xhat
        mu = mean[c]
        for n in range(N):
            for i in range(S):
                gx[n, c, i] = k * (gy[n, c, i] - shift - (x[n, c, i] - mu) * slope)
    return gx
