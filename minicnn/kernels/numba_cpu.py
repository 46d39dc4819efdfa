"""Numba versions of the CPU hot loops; each computes what its reference computes
(``im2col_reference.py``, ``pooling.py``, ``layout.py``) and tests check that the two agree;
the adapters in ``numba_adapters.py`` give them the references' signatures.

Why they are fast:
- one pass, no padded copy of the input and no (kh*kw, ...) stack of views: padding is
  handled by clipping the loop ranges, so the inner loop is branch-free and contiguous;
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


@njit(parallel=True)
def im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, cols):
    """x (N, C, H, W) -> cols (C*kh*kw, N*Ho*Wo) (layout in ``im2col_reference.py``); fills ``cols``."""
    N, C, H, W = x.shape
    P = Ho * Wo
    for row in prange(C * kh * kw):
        c = row // (kh * kw)
        i = (row // kw) % kh
        j = row % kw
        h_off = i * dh - ph
        w_off = j * dw - pw
        oh_lo, oh_hi = _valid_range(h_off, sh, H, Ho)
        ow_lo, ow_hi = _valid_range(w_off, sw, W, Wo)
        for n in range(N):
            base = n * P
            for oh in range(Ho):
                dst = base + oh * Wo
                if oh < oh_lo or oh >= oh_hi:
                    for ow in range(Wo):
                        cols[row, dst + ow] = 0
                    continue
                h = oh * sh + h_off
                for ow in range(ow_lo):
                    cols[row, dst + ow] = 0
                if sw == 1:                                 # contiguous: lets LLVM vectorise
                    for ow in range(ow_lo, ow_hi):
                        cols[row, dst + ow] = x[n, c, h, ow + w_off]
                else:
                    for ow in range(ow_lo, ow_hi):
                        cols[row, dst + ow] = x[n, c, h, ow * sw + w_off]
                for ow in range(ow_hi, Wo):
                    cols[row, dst + ow] = 0
    return cols


@njit(parallel=True)
def col2im(cols, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, dx):
    """cols (C*kh*kw, N*Ho*Wo) -> dx (N, C, H, W), summing overlaps. Overwrites and returns ``dx``.

    One thread per channel c: it streams the kh*kw long rows of c front to back and adds
    them into the N planes dx[:, c] (which stay in cache), so no two threads write the same
    pixel and the reads are long contiguous runs.
    """
    N, C, H, W = dx.shape
    P = Ho * Wo
    for c in prange(C):
        for n in range(N):
            dx[n, c, :, :] = 0
        for i in range(kh):
            h_off = i * dh - ph
            oh_lo, oh_hi = _valid_range(h_off, sh, H, Ho)
            for j in range(kw):
                w_off = j * dw - pw
                ow_lo, ow_hi = _valid_range(w_off, sw, W, Wo)
                row = (c * kh + i) * kw + j
                for n in range(N):
                    out = dx[n, c]
                    for oh in range(oh_lo, oh_hi):
                        h = oh * sh + h_off
                        src = n * P + oh * Wo
                        if sw == 1:
                            for ow in range(ow_lo, ow_hi):
                                out[h, ow + w_off] += cols[row, src + ow]
                        else:
                            for ow in range(ow_lo, ow_hi):
                                out[h, ow * sw + w_off] += cols[row, src + ow]
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
    in float64), in one pass; one thread per output channel."""
    N, O, P = gy.shape
    for o in prange(O):
        total = 0.0
        for n in range(N):
            dst = n * P
            for q in range(P):
                v = gy[n, o, q]
                gY[o, dst + q] = v
                total += v
        bias_grad[o] = total
    return gY
