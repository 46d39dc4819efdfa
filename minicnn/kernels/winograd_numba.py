"""Numba versions of the Winograd tile transforms; each computes what its reference in
``winograd.py`` computes (same signature, same layouts) and tests check that the two agree.

Why they are fast: one pass over the input, no padded copy and no (N, C, th, tw, k, k)
temporary; padding is a bounds check while a tile is loaded into a small buffer; one
thread per (sample, channel) plane, so every thread writes its own columns of ``out``; the
two small matrix products of a tile are done in registers and accumulated in float64.
"""
import numpy as np

from . import njit

try:
    from numba import prange
except Exception:  # pragma: no cover - only without numba, when these are never called
    prange = range


@njit(parallel=True)
def transform_tiles(x, L, m, pad_h, pad_w, th, tw, out):
    """out[:, :, c, t] = L @ tile @ Lᵀ for the k×k tiles starting at (i*m - pad_h, j*m - pad_w)."""
    N, C, H, W = x.shape
    a, k = L.shape
    for plane in prange(N * C):
        n = plane // C
        c = plane % C
        tile = np.empty((k, k), dtype=np.float64)
        left = np.empty((a, k), dtype=np.float64)
        for i in range(th):
            for j in range(tw):
                h0 = i * m - pad_h
                w0 = j * m - pad_w
                for u in range(k):
                    h = h0 + u
                    for v in range(k):
                        w = w0 + v
                        if 0 <= h < H and 0 <= w < W:
                            tile[u, v] = x[n, c, h, w]
                        else:
                            tile[u, v] = 0.0
                for p in range(a):                       # left = L @ tile
                    for v in range(k):
                        s = 0.0
                        for u in range(k):
                            s += L[p, u] * tile[u, v]
                        left[p, v] = s
                t = (n * th + i) * tw + j
                for p in range(a):                       # out = left @ Lᵀ
                    for q in range(a):
                        s = 0.0
                        for v in range(k):
                            s += left[p, v] * L[q, v]
                        out[p, q, c, t] = s
    return out


@njit(parallel=True)
def untransform_tiles(M, L, th, tw, bias, out):
    """out[n, o] = the m×m tiles L @ M[:, :, o, t] @ Lᵀ side by side, cropped, plus bias[o]."""
    a = M.shape[0]
    N, O, Ho, Wo = out.shape
    mm = L.shape[0]
    for plane in prange(N * O):
        n = plane // O
        o = plane % O
        left = np.empty((mm, a), dtype=np.float64)
        for i in range(th):
            for j in range(tw):
                t = (n * th + i) * tw + j
                for p in range(mm):                      # left = L @ M[:, :, o, t]
                    for q in range(a):
                        s = 0.0
                        for u in range(a):
                            s += L[p, u] * M[u, q, o, t]
                        left[p, q] = s
                for p in range(mm):                      # tile = left @ Lᵀ, cropped
                    h = i * mm + p
                    if h >= Ho:
                        break
                    for v in range(mm):
                        w = j * mm + v
                        if w >= Wo:
                            break
                        s = 0.0
                        for q in range(a):
                            s += left[p, q] * L[v, q]
                        out[n, o, h, w] = s + bias[o]
    return out
