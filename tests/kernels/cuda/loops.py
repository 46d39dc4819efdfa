"""Independent plain-loop references for the CUDA kernel tests: one output element at a
time, straight from the definitions (slow; tiny shapes only)."""
import numpy as np

from tests.helpers import count_windows


def out_size(size, k, s, p, d=1, ceil_mode=False):
    """The number of window positions, counted by sliding the window (not the formula under test)."""
    return count_windows(size, k, s, p, d, ceil_mode)


def im2col_loops(x, kernel, stride, padding, dilation):
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    N, C, H, W = x.shape
    Ho, Wo = out_size(H, kh, sh, ph, dh), out_size(W, kw, sw, pw, dw)
    cols = np.zeros((C * kh * kw, N * Ho * Wo), dtype=x.dtype)
    for c in range(C):
        for i in range(kh):
            for j in range(kw):
                for n in range(N):
                    for oh in range(Ho):
                        for ow in range(Wo):
                            h, w = oh * sh - ph + i * dh, ow * sw - pw + j * dw
                            if 0 <= h < H and 0 <= w < W:
                                cols[(c * kh + i) * kw + j, (n * Ho + oh) * Wo + ow] = x[n, c, h, w]
    return cols


def maxpool_loops(x, kernel, stride, padding, dilation, out_hw):
    """y and argmax (h*W + w): the first maximum of the window's in-bounds pixels."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (Ho, Wo) = kernel, stride, padding, dilation, out_hw
    N, C, H, W = x.shape
    y = np.empty((N, C, Ho, Wo), dtype=x.dtype)
    argmax = np.empty((N, C, Ho, Wo), dtype=np.int64)
    for n in range(N):
        for c in range(C):
            for oh in range(Ho):
                for ow in range(Wo):
                    best, where = -np.inf, -1
                    for i in range(kh):
                        for j in range(kw):
                            h, w = oh * sh - ph + i * dh, ow * sw - pw + j * dw
                            if 0 <= h < H and 0 <= w < W and (where < 0 or x[n, c, h, w] > best):
                                best, where = x[n, c, h, w], h * W + w
                    y[n, c, oh, ow], argmax[n, c, oh, ow] = best, where
    return y, argmax


def lrn_loops(x, size, alpha_eff, beta, k):
    """x (N, C, S): y = x / (k + alpha_eff * sum over [c - size//2, c + (size-1)//2] of x^2)^beta."""
    N, C, S = x.shape
    y = np.empty_like(x)
    for n in range(N):
        for c in range(C):
            for p in range(S):
                total = sum(x[n, j, p] ** 2 for j in range(c - size // 2, c + (size - 1) // 2 + 1) if 0 <= j < C)
                y[n, c, p] = x[n, c, p] / (k + alpha_eff * total) ** beta
    return y
