"""Batch-norm passes over (N, C, S) views (S = H*W, L or 1): the plain-NumPy references.

Training-mode batch norm is memory-bound: its arithmetic is a few operations per value, so
its time is the number of passes over the data and the temporaries it writes. These four
passes are all it needs (the Numba kernels in ``batchnorm_numba.py`` do each in one sweep
per channel, with no temporaries, accumulating in float64):

    stats:          mean[c], var[c] (biased) over n and s
    apply:          y = (x - mean) * inv_std * weight + bias
    backward sums:  sum_gy[c] = Σ gy,  sum_gy_xhat[c] = Σ gy * xhat   (= dL/dbias, dL/dweight)
    backward input: gx = weight * inv_std * (gy - sum_gy/m - xhat * sum_gy_xhat/m),  m = N*S

xhat = (x - mean) * inv_std is recomputed from x where needed instead of being stored: x is
kept by the graph anyway, a stored xhat would be one more array of the input's size.

Derivation of the backward: docs/batchnorm.md
"""
def batch_norm_stats(x, mean, var):
    """mean[c] and the biased var[c] of x (N, C, S) over n and s, into ``mean``, ``var`` (C,)."""
    mean[...] = x.mean(axis=(0, 2))
    centered = x - mean.reshape(1, -1, 1)
    var[...] = (centered * centered).mean(axis=(0, 2))
    return mean, var


def batch_norm_apply(x, mean, inv_std, weight, bias, y):
    """y = (x - mean) * inv_std * weight + bias, per channel; x, y (N, C, S), the rest (C,)."""
    scale = (inv_std * weight).reshape(1, -1, 1)
    y[...] = (x - mean.reshape(1, -1, 1)) * scale + bias.reshape(1, -1, 1)
    return y


def batch_norm_backward_sums(gy, x, mean, inv_std, sum_gy, sum_gy_xhat):
    """sum_gy[c] = Σ gy and sum_gy_xhat[c] = Σ gy * xhat over n and s."""
    xhat = (x - mean.reshape(1, -1, 1)) * inv_std.reshape(1, -1, 1)
    sum_gy[...] = gy.sum(axis=(0, 2))
    sum_gy_xhat[...] = (gy * xhat).sum(axis=(0, 2))
    return sum_gy, sum_gy_xhat


def batch_norm_backward_input(gy, x, mean, inv_std, weight, sum_gy, sum_gy_xhat, gx):
    """gx = weight * inv_std * (gy - sum_gy/m - xhat * sum_gy_xhat/m), m = N*S (training mode)."""
    m = gy.shape[0] * gy.shape[2]
    column = (lambda v: v.reshape(1, -1, 1))
    xhat = (x - column(mean)) * column(inv_std)
    gx[...] = column(weight * inv_std) * (gy - column(sum_gy / m) - xhat * column(sum_gy_xhat / m))
    return gx

