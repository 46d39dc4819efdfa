"""Pooling: the reference kernels (plain NumPy, also run on CuPy) — written for reading.

Windows follow PyTorch: window (oh, ow) covers rows ``oh*sh - ph + i*dh`` (i < kh) and the
like for columns. Max-pool pads with -inf (padding never wins); average pooling pads with
zeros and divides by the window size counted PyTorch's way (see :func:`avg_pool_divisor`).
With ``ceil_mode`` the last window may hang past the right padding; the extra padding here
only makes the slices rectangular and is never counted.

``argmax`` (the max-pool state kept for backward) is, like PyTorch's ``return_indices``,
the flat index ``h*W + w`` of the winner in its (unpadded) H×W plane (-1 for a dilated
window that sees only padding; its output is -inf and it passes no gradient).

Derivations and worked examples: docs/pooling.md
"""
import numpy as np

from ..backend import get_array_module, scatter_add
from ..geometry import avg_pool_divisor, window_offsets   # noqa: F401 (avg_pool_divisor: re-exported)


def _pad_for_windows(x, kernel, stride, padding, dilation, out_hw, fill):
    """x padded by ``padding`` on the left/top and by as much as the last window needs on
    the right/bottom, with ``fill``."""
    xp = get_array_module(x)
    H, W = x.shape[2:]
    extra = []
    for size, k, s, p, d, out in zip((H, W), kernel, stride, padding, dilation, out_hw):
        reach = (out - 1) * s + d * (k - 1) + 1           # padded length the windows touch
        extra.append(max(reach - size - p, 0))
    return xp.pad(x, ((0, 0), (0, 0), (padding[0], extra[0]), (padding[1], extra[1])),
                  constant_values=fill)


def maxpool_forward(x, kernel, stride, padding, dilation, out_hw):
    """x (N, C, H, W) -> y (N, C, Ho, Wo), argmax (N, C, Ho, Wo) flat indices into H*W.

    All kh*kw shifted views stacked, the max over the stack; ties go to the first offset
    in (i, j) order, as in PyTorch.
    """
    xp = get_array_module(x)
    N, C, H, W = x.shape
    x_padded = _pad_for_windows(x, kernel, stride, padding, dilation, out_hw, -np.inf)
    windows = xp.stack([x_padded[:, :, r, c] for _, _, r, c in window_offsets(kernel, stride, dilation, out_hw)])
    offset = windows.argmax(axis=0)                              # which (i, j) won
    y = xp.take_along_axis(windows, offset[None], axis=0)[0]
    i, j = offset // kernel[1], offset % kernel[1]
    Ho, Wo = out_hw
    h = xp.arange(Ho).reshape(Ho, 1) * stride[0] - padding[0] + i * dilation[0]
    w = xp.arange(Wo).reshape(1, Wo) * stride[1] - padding[1] + j * dilation[1]
    inside = (h >= 0) & (h < H) & (w >= 0) & (w < W)         # False only if a window sees no input
    return y, xp.where(inside, h * W + w, -1)


def maxpool_backward(gy, argmax, x_shape):
    """dx[n, c].flat[argmax[n, c, oh, ow]] += gy[n, c, oh, ow]: each gradient goes to its
    window's winner; a pixel that wins several overlapping windows receives the sum."""
    xp = get_array_module(gy)
    N, C, H, W = x_shape
    dx = xp.zeros((N * C, H * W), dtype=gy.dtype)
    planes = xp.arange(N * C).reshape(N * C, 1)
    winner = argmax.reshape(N * C, -1)
    gy = xp.where(winner >= 0, gy.reshape(N * C, -1), 0)          # -1: the window saw only padding
    scatter_add(dx, (planes, xp.maximum(winner, 0)), gy)
    return dx.reshape(x_shape)


def avgpool_forward(x, kernel, stride, padding, out_hw, divisor):
    """y = (sum of each zero-padded window) / divisor;  divisor (Ho, Wo) on x's device and dtype."""
    x_padded = _pad_for_windows(x, kernel, stride, padding, (1, 1), out_hw, 0)
    total = None
    for _, _, r, c in window_offsets(kernel, stride, (1, 1), out_hw):
        total = x_padded[:, :, r, c].copy() if total is None else total + x_padded[:, :, r, c]
    return total / divisor


def avgpool_backward(gy, x_shape, kernel, stride, padding, out_hw, divisor):
    """dx: every pixel of a window receives gy / divisor of that window (summed over windows)."""
    xp = get_array_module(gy)
    N, C, H, W = x_shape
    share = gy / divisor
    dx_padded = _pad_for_windows(xp.zeros(x_shape, dtype=gy.dtype), kernel, stride, padding, (1, 1), out_hw, 0)
    for _, _, r, c in window_offsets(kernel, stride, (1, 1), out_hw):
        dx_padded[:, :, r, c] += share
    return xp.ascontiguousarray(dx_padded[:, :, padding[0]: padding[0] + H, padding[1]: padding[1] + W])
