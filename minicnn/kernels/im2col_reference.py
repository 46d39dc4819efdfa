"""im2col / col2im: the reference (plain NumPy, also runs on CuPy) — written for reading.

im2col unrolls every receptive field of a convolution into a column, so that the
convolution becomes one matrix product: ``y = W(O, C*kh*kw) @ cols``.

Layout of ``cols`` (shared with the Numba kernels in ``numba_cpu.py``)::

    cols[(c*kh + i)*kw + j,  (n*Ho + oh)*Wo + ow] = x_padded[n, c, oh*sh + i*dh, ow*sw + j*dw]

Rows are ordered (c, i, j) like ``weight.reshape(O, -1)`` and the rows of one group are
contiguous; columns are ordered (n, oh, ow), so one GEMM ``W_g @ cols[R_g]`` covers the
whole batch and gives Y (O, N*Ho*Wo), whose columns are sample-major: it becomes NCHW by
one transposing copy, ``Y.reshape(O, N, Ho*Wo).transpose(1, 0, 2)`` (``kernels.gemm_output_to_nchw``).

col2im is the adjoint (the transpose) of im2col: it adds every column entry back onto the
pixel it was copied from, so overlapping windows sum. That is exactly the input gradient
of the convolution: ``dx = col2im(W^T @ dy)``, since ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩.

Derivations and worked examples: docs/convolution.md
"""
from ..backend import get_array_module
from ..geometry import output_hw, window_offsets


def im2col(x, kernel, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """x (N, C, H, W) -> cols (C*kh*kw, N*Ho*Wo), zero padding.

    One strided slice of the padded input per kernel offset (i, j): that slice holds, for
    every output position, the pixel the offset (i, j) of its window sees.
    """
    xp = get_array_module(x)
    N, C, H, W = x.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    Ho, Wo = output_hw((H, W), kernel, stride, padding, dilation)
    x_padded = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    cols = xp.empty((C, kh, kw, N, Ho, Wo), dtype=x.dtype)
    for i, j, rows, columns in window_offsets(kernel, stride, dilation, (Ho, Wo)):
        cols[:, i, j] = x_padded[:, :, rows, columns].transpose(1, 0, 2, 3)   # (N, C, Ho, Wo) -> (C, N, ...)
    return cols.reshape(C * kh * kw, N * Ho * Wo)


def col2im(cols, x_shape, kernel, stride=(1, 1), padding=(0, 0), dilation=(1, 1), out=None):
    """cols (C*kh*kw, N*Ho*Wo) -> dx (N, C, H, W): the adjoint of :func:`im2col` (written
    into ``out`` when given, e.g. one chunk of a larger gradient).

    Each kernel offset's slice is added back where im2col took it from; pixels seen by
    several windows receive the sum. Entries that came from the padding are dropped.
    """
    xp = get_array_module(cols)
    N, C, H, W = x_shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    Ho, Wo = output_hw((H, W), kernel, stride, padding, dilation)
    cols = cols.reshape(C, kh, kw, N, Ho, Wo)
    dx_padded = xp.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=cols.dtype)
    for i, j, rows, columns in window_offsets(kernel, stride, dilation, (Ho, Wo)):
        dx_padded[:, :, rows, columns] += cols[:, i, j].transpose(1, 0, 2, 3)
    dx = dx_padded[:, :, ph: ph + H, pw: pw + W]
    if out is None:
        return xp.ascontiguousarray(dx)
    out[...] = dx
    return out
