"""The CUDA device code behind :mod:`minicnn.kernels.cupy_gpu` (numba.cuda).

Importing this module imports ``numba.cuda``; only ``cupy_gpu`` does that, and only on
the first GPU kernel call, so the NumPy path never pays for it.

Every kernel is a *grid-stride loop*: thread ``t`` of ``T`` handles items t, t+T, t+2T...,
so any launch size is correct (the GPU uses big grids; the tests use tiny ones, which
also makes the loop run more than once). Each item decodes its multi-index from the flat
position, exactly like a C-order ``unravel_index``.

Reductions are *gathers* where the window is known: the thread that owns an output
element loops over the inputs that feed it (col2im, LRN). A gather needs no atomics and
is deterministic (bit-identical runs). Max-pool backward only has the arg-max indices, so
it scatters with atomic adds.

Scalars arrive in the array's dtype (``zero``, ``alpha``...), so float32 arithmetic stays
float32 on the device: a Python float would be a float64 and drag the sums along.
"""
from numba import cuda


@cuda.jit(cache=True)
def im2col_kernel(x, cols, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w):
    """cols[(c*kh + i)*kw + j, (n*Ho + oh)*Wo + ow] = x_padded[n, c, oh*sh + i*dh, ow*sw + j*dw].

    One item per entry of cols (R*L): consecutive threads write consecutive columns, so
    the stores are coalesced; entries that fall in the zero padding are written as 0.
    """
    n_samples, _, height, width = x.shape
    n_cols = n_samples * out_h * out_w
    total = cols.shape[0] * n_cols
    item = cuda.grid(1)
    step = cuda.gridsize(1)
    while item < total:
        row = item // n_cols
        col = item - row * n_cols
        j = row % kw
        i = (row // kw) % kh
        c = row // (kw * kh)
        ow = col % out_w
        oh = (col // out_w) % out_h
        n = col // (out_w * out_h)
        h = oh * sh - ph + i * dh
        w = ow * sw - pw + j * dw
        if 0 <= h < height and 0 <= w < width:
            cols[row, col] = x[n, c, h, w]
        else:
            cols[row, col] = 0
        item += step


@cuda.jit(cache=True)
def col2im_kernel(cols, dx, kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w, zero):
    """dx[n, c, h, w] = sum of the cols entries im2col copied from pixel (h, w).

    Offset i of the kernel sees pixel h from output row oh = (h + ph - i*dh) / sh when that
    division is exact and 0 <= oh < Ho; the same for columns. One item per pixel of dx.
    """
    n_samples, n_channels, height, width = dx.shape
    n_cols = n_samples * out_h * out_w
    total = dx.size
    item = cuda.grid(1)
    step = cuda.gridsize(1)
    while item < total:
        w = item % width
        h = (item // width) % height
        c = (item // (width * height)) % n_channels
        n = item // (width * height * n_channels)
        acc = zero
        for i in range(kh):
            hp = h + ph - i * dh
            if hp < 0 or hp % sh != 0 or hp // sh >= out_h:
                continue
            oh = hp // sh
            for j in range(kw):
                wp = w + pw - j * dw
                if wp < 0 or wp % sw != 0 or wp // sw >= out_w:
                    continue
                ow = wp // sw
                acc += cols[(c * kh + i) * kw + j, (n * out_h + oh) * out_w + ow]
        dx[n, c, h, w] = acc
        item += step


@cuda.jit(cache=True)
def maxpool_forward_kernel(x, y, argmax, kh, kw, sh, sw, ph, pw, dh, dw):
    """y[n,c,oh,ow] = max over the window; argmax = h*W + w of the (first) maximum.

    Pixels in the padding are skipped (PyTorch pads max-pool with -inf). A NaN wins, as
    in PyTorch, so a NaN in the input is not silently dropped.
    """
    n_samples, n_channels, out_h, out_w = y.shape
    height, width = x.shape[2], x.shape[3]
    total = y.size
    item = cuda.grid(1)
    step = cuda.gridsize(1)
    while item < total:
        ow = item % out_w
        oh = (item // out_w) % out_h
        c = (item // (out_w * out_h)) % n_channels
        n = item // (out_w * out_h * n_channels)
        best_index = -1
        best = x[n, c, 0, 0]
        for i in range(kh):
            h = oh * sh - ph + i * dh
            if h < 0 or h >= height:
                continue
            for j in range(kw):
                w = ow * sw - pw + j * dw
                if w < 0 or w >= width:
                    continue
                v = x[n, c, h, w]
                if best_index < 0 or v > best or v != v:
                    best = v
                    best_index = h * width + w
        y[n, c, oh, ow] = best
        argmax[n, c, oh, ow] = best_index
        item += step


@cuda.jit(cache=True)
def maxpool_backward_kernel(gy, argmax, gx):
    """gx[n, c, argmax[n,c,oh,ow]] += gy[n,c,oh,ow]; gx is (N, C, H*W), zeroed by the caller.

    The one scatter here: a pixel that wins several overlapping windows (k > s, as in
    AlexNet's 3/2 pooling) receives their sum, so the adds are atomic. At most
    ceil(k/s)^2 windows meet at a pixel, so contention is low.
    """
    n_samples, n_channels, out_h, out_w = gy.shape
    total = gy.size
    item = cuda.grid(1)
    step = cuda.gridsize(1)
    while item < total:
        ow = item % out_w
        oh = (item // out_w) % out_h
        c = (item // (out_w * out_h)) % n_channels
        n = item // (out_w * out_h * n_channels)
        cuda.atomic.add(gx, (n, c, argmax[n, c, oh, ow]), gy[n, c, oh, ow])
        item += step


@cuda.jit(cache=True)
def lrn_forward_kernel(x, y, s, before, after, alpha, neg_beta, k, zero):
    """s = k + alpha * sum_{j=c-before}^{c+after} x_j^2 (channels outside [0, C) are zero);
    y = x * s^(-beta). x, y, s: (N, C, S). ``alpha`` is already the effective alpha."""
    n_samples, n_channels, n_pos = x.shape
    total = x.size
    item = cuda.grid(1)
    step = cuda.gridsize(1)
    while item < total:
        p = item % n_pos
        c = (item // n_pos) % n_channels
        n = item // (n_pos * n_channels)
        acc = zero
        for j in range(max(0, c - before), min(n_channels - 1, c + after) + 1):
            v = x[n, j, p]
            acc += v * v
        sc = k + alpha * acc
        s[n, c, p] = sc
        y[n, c, p] = x[n, c, p] * sc ** neg_beta
        item += step


@cuda.jit(cache=True)
def lrn_backward_kernel(x, s, gy, gx, before, after, coef, neg_beta, zero):
    """gx_i = gy_i s_i^(-beta) - coef x_i sum_{j: i in W(j)} gy_j x_j s_j^(-beta) / s_j,
    coef = 2 beta alpha; (before, after) is the *mirrored* window ((size-1)//2, size//2).
    t_j is recomputed per window entry instead of stored: no temporary of the input size."""
    n_samples, n_channels, n_pos = x.shape
    total = x.size
    item = cuda.grid(1)
    step = cuda.gridsize(1)
    while item < total:
        p = item % n_pos
        c = (item // n_pos) % n_channels
        n = item // (n_pos * n_channels)
        acc = zero
        for j in range(max(0, c - before), min(n_channels - 1, c + after) + 1):
            sj = s[n, j, p]
            acc += gy[n, j, p] * x[n, j, p] * sj ** neg_beta / sj
        gx[n, c, p] = gy[n, c, p] * s[n, c, p] ** neg_beta - coef * x[n, c, p] * acc
        item += step
