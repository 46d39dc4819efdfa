"""Numba versions of the CPU hot loops; each computes what its reference computes
(``im2col_reference.py``, ``pooling.py``, ``layout.py``) and tests check that the two agree;
the adapters in ``numba_adapters.py`` give them the references' signatures.

Why they are fast:
- one pass, no padded copy of the input and no (kh*kw, ...) stack of views: im2col/col2im
  go through a table of source positions (``window_index``, -1 for padding), pooling clips
  its loop ranges, so the inner loops are single and contiguous on the output side;
- ``prange`` over independent rows (im2col) or planes (col2im, pooling): every thread
  writes its own memory, so no atomics; two threads on two cores roughly halve the time of
  these memory-bound loops (measured; they never run at the same time as OpenBLAS);
- the caller passes preallocated outputs where it can and everything stays in the input
  dtype (float32 in training).
"""
import numpy as np

from . import njit

try:
    from numba import prange
except Exception:  # pragma: no cover - only without numba, when these are never called
    prange = range


@njit(inline="always")
def _valid_range(offset, stride, size, out):
    """The [lo, hi) of output positions o with 0 <= o*stride + offset < size."""
    lo = 0
    if offset < 0:
        lo = (-offset + stride - 1) // stride
    hi = 0
    if size - offset > 0:
        hi = (size - offset + stride - 1) // stride
    if hi > out:
        hi = out
    if lo > hi:
        lo = hi
    return lo, hi


@njit(inline="always")
def row_sum(row):
    """Σ row in float64, over four running sums (an FP sum in one register is latency-bound:
    each add waits for the last; four independent ones keep the adder busy)."""
    n = row.size
    s0 = s1 = s2 = s3 = 0.0
    i = 0
    while i + 4 <= n:
        s0 += row[i]
        s1 += row[i + 1]
        s2 += row[i + 2]
        s3 += row[i + 3]
        i += 4
    while i < n:
        s0 += row[i]
        i += 1
    return (s0 + s1) + (s2 + s3)


def window_index(H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo):
    """index (kh*kw, Ho*Wo) int32: for window offset k = (i, j) and output position p = (oh, ow),
    the flat position h*W + w in an input plane that p reads (h = oh*sh - ph + i*dh, the same
    for w), or -1 where it falls in the zero padding. It depends only on the geometry, so
    ``numba_adapters`` computes it once per shape; the two loops below are then a gather
    and a scatter through it. Plain NumPy, run once per geometry."""
    oh = np.arange(Ho)[:, None]
    ow = np.arange(Wo)[None, :]
    index = np.empty((kh * kw, Ho * Wo), dtype=np.int32)
    for i in range(kh):
        for j in range(kw):
            h, w = oh * sh - ph + i * dh, ow * sw - pw + j * dw
            inside = (h >= 0) & (h < H) & (w >= 0) & (w < W)
            index[i * kw + j] = np.where(inside, h * W + w, -1).ravel()
    return index


@njit(parallel=True)
def im2col(x, index, cols):
    """x (N, C, H*W) (flat planes) -> cols (C*kh*kw, N*Ho*Wo) (layout in ``im2col_reference.py``):
    cols[(c, k), n*P + p] = x[n, c, index[k, p]], 0 where index is -1. Fills ``cols``.

    One thread per row (c, k): it writes one long contiguous row of cols; the one input
    plane it reads stays in cache. A single loop over p with a table lookup has no bounds
    to work out per output row, which matters most for small maps (3x3 outputs: 5-7x faster
    than loops over (oh, ow) with clipped ranges, measured)."""
    N, C, _ = x.shape
    K, P = index.shape
    for row in prange(C * K):
        c = row // K
        where = index[row % K]
        out = cols[row]
        for n in range(N):
            plane = x[n, c]
            base = n * P
            for p in range(P):
                s = where[p]
                out[base + p] = plane[s] if s >= 0 else 0
    return cols


@njit(parallel=True)
def col2im(cols, index, dx):
    """cols (C*kh*kw, N*Ho*Wo) -> dx (N, C, H*W) (flat planes), the adjoint of ``im2col``:
    dx[n, c, index[k, p]] += cols[(c, k), n*P + p] over every (k, p) with index >= 0.
    Overwrites and returns ``dx``.

    One thread per channel c: it owns the N planes dx[:, c] (no two threads write the same
    pixel, so no atomics) and streams the kh*kw rows of c front to back."""
    N, C, HW = dx.shape
    K, P = index.shape
    for c in prange(C):
        for n in range(N):
            plane = dx[n, c]
            for q in range(HW):
                plane[q] = 0
            base = n * P
            for k in range(K):
                src = cols[c * K + k]
                where = index[k]
                for p in range(P):
                    s = where[p]
                    if s >= 0:
                        plane[s] += src[base + p]
    return dx


@njit(parallel=True)
def maxpool_forward(x, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo):
    """x (N, C, H, W) -> y (N, C, Ho, Wo), argmax (int32 flat index h*W + w into the plane).

    Windows are clipped to the input (padding is -inf, so it never wins); the first
    maximum in (i, j) order wins ties; a NaN wins (and stays) as in PyTorch. A window that
    sees only padding (possible with dilation) gives -inf and arg-max -1 (no gradient).
    """
    N, C, H, W = x.shape
    y = np.empty((N, C, Ho, Wo), dtype=x.dtype)
    argmax = np.empty((N, C, Ho, Wo), dtype=np.int32)
    for plane in prange(N * C):
        n = plane // C
        c = plane % C
        src = x[n, c]
        for oh in range(Ho):
            h0 = oh * sh - ph
            i_lo, i_hi = _valid_range(h0, dh, H, kh)
            for ow in range(Wo):
                w0 = ow * sw - pw
                j_lo, j_hi = _valid_range(w0, dw, W, kw)
                if i_lo == i_hi or j_lo == j_hi:        # (dilated) window entirely in the padding
                    y[n, c, oh, ow] = -np.inf
                    argmax[n, c, oh, ow] = -1
                    continue
                h_best = h0 + i_lo * dh
                w_best = w0 + j_lo * dw
                best = src[h_best, w_best]
                if best == best:                       # not NaN: scan the window
                    for i in range(i_lo, i_hi):
                        h = h0 + i * dh
                        for j in range(j_lo, j_hi):
                            v = src[h, w0 + j * dw]
                            if v > best or v != v:
                                best = v
                                h_best = h
                                w_best = w0 + j * dw
                                if v != v:
                                    break
                        if best != best:
                            break
                y[n, c, oh, ow] = best
                argmax[n, c, oh, ow] = h_best * W + w_best
    return y, argmax


@njit(parallel=True)
def maxpool_backward(gy, argmax, H, W):
    """dx[n, c].flat[argmax] += gy: each plane is summed by one thread (no races)."""
    N, C, Ho, Wo = gy.shape
    dx = np.zeros((N, C, H * W), dtype=gy.dtype)
    for plane in prange(N * C):
        n = plane // C
        c = plane % C
        out = dx[n, c]
        for oh in range(Ho):
            for ow in range(Wo):
                k = argmax[n, c, oh, ow]
                if k >= 0:
                    out[k] += gy[n, c, oh, ow]
    return dx.reshape((N, C, H, W))


@njit(parallel=True)
def gemm_output_to_nchw(y_cols, bias, out):
    """out[n, o, q] = y_cols[o, n*P + q] + bias[o]: the conv GEMM's (O, N*P) result to NCHW
    and the bias added in the same pass (one thread per (n, o) row)."""
    N, O, P = out.shape
    for row in prange(N * O):
        n = row // O
        o = row % O
        b = bias[o]
        src = n * P
        for q in range(P):
            out[n, o, q] = y_cols[o, src + q] + b
    return out


@njit(parallel=True)
def nchw_to_gemm_layout(gy, gY, bias_grad):
    """gY[o, n*P + q] = gy[n, o, q], and bias_grad[o] = the sum of those values (accumulated
    in float64 by ``row_sum`` while the row is still in cache); one thread per output channel."""
    N, O, P = gy.shape
    for o in prange(O):
        total = 0.0
        for n in range(N):
            src = gy[n, o]
            gY[o, n * P:(n + 1) * P] = src
            total += row_sum(src)
        bias_grad[o] = total
    return gY
