"""im2col / col2im: the reference (plain NumPy, also runs on CuPy) — written for reading.

im2col unrolls every receptive field of a convolution into a column, so that the
convolution becomes one matrix product: ``y = W(O, C*kh*kw) @ cols``.

Layout of ``cols`` (shared with the Numba kernels in ``numba_cpu.py``)::

    cols[(c*kh + i)*kw + j,  (n*Ho + oh)*Wo + ow] = x_padded[n, c, oh*sh + i*dh, ow*sw + j*dw]

Rows are ordered (c, i, j) like ``weight.reshape(O, -1)`` and the rows of one group are
contiguous; columns are ordered (n, oh, ow), so ``cols.reshape(R, N, Ho*Wo)[:, n]`` is the
matrix of sample n and ``W @ that`` is already the NCHW output of sample n (no transpose).

col2im is the adjoint (the transpose) of im2col: it adds every column entry back onto the
pixel it was copied from, so overlapping windows sum. That is exactly the input gradient
of the convolution: ``dx = col2im(W^T @ dy)``, since ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩.
"""
from ..backend import get_array_module


def conv_output_size(size, kernel, stride, padding, dilation=1, ceil_mode=False):
    """PyTorch's output length: floor((size + 2p - d*(k-1) - 1) / s) + 1.

    With ``ceil_mode`` the division rounds up, but a window may not start in the right
    padding: if the last window would start at or past ``size + padding`` it is dropped.
    """
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    if (out - 1) * stride >= size + padding:
        out -= 1
    return out


def im2col(x, kernel, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """x (N, C, H, W) -> cols (C*kh*kw, N*Ho*Wo), zero padding.

    One strided slice of the padded input per kernel offset (i, j): that slice holds, for
    every output position, the pixel the offset (i, j) of its window sees.
    """
    xp = get_array_module(x)
    N, C, H, W = x.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    Ho, Wo = conv_output_size(H, kh, sh, ph, dh), conv_output_size(W, kw, sw, pw, dw)
    x_padded = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    cols = xp.empty((C, kh, kw, N, Ho, Wo), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            seen = x_padded[:, :, i * dh: i * dh + sh * (Ho - 1) + 1: sh,
                            j * dw: j * dw + sw * (Wo - 1) + 1: sw]       # (N, C, Ho, Wo)
            cols[:, i, j] = seen.transpose(1, 0, 2, 3)
    return cols.reshape(C * kh * kw, N * Ho * Wo)


def col2im(cols, x_shape, kernel, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """cols (C*kh*kw, N*Ho*Wo) -> dx (N, C, H, W): the adjoint of :func:`im2col`.

    Each kernel offset's slice is added back where im2col took it from; pixels seen by
    several windows receive the sum. Entries that came from the padding are dropped.
    """
    xp = get_array_module(cols)
    N, C, H, W = x_shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    Ho, Wo = conv_output_size(H, kh, sh, ph, dh), conv_output_size(W, kw, sw, pw, dw)
    cols = cols.reshape(C, kh, kw, N, Ho, Wo)
    dx_padded = xp.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            dx_padded[:, :, i * dh: i * dh + sh * (Ho - 1) + 1: sh,
                      j * dw: j * dw + sw * (Wo - 1) + 1: sw] += cols[:, i, j].transpose(1, 0, 2, 3)
    return xp.ascontiguousarray(dx_padded[:, :, ph: ph + H, pw: pw + W])
