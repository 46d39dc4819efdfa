"""Pooling: max (overlapping windows, padding, ceil_mode), average, adaptive and global average.

Window rules are PyTorch's: Ho = floor((H + 2p - d*(k-1) - 1) / s) + 1, or ceil with
``ceil_mode`` where a window may not start in the right padding; padding <= kernel/2.

Derivations and worked examples: docs/pooling.md
"""
import numbers

import numpy as np

from .. import kernels
from ..backend import get_array_module, is_cupy_array
from ..function import Function
from ..kernels import pooling as ref
from ..kernels.im2col import conv_output_size
from .conv import _pair, check_fits, check_input_4d, check_window_args


def _pool_geometry(op, x_shape, kernel, stride, padding, dilation, ceil_mode):
    """Validate a pooling window and return (Ho, Wo)."""
    check_input_4d(op, x_shape)
    check_window_args(op, kernel, stride, padding, dilation)
    for k, p in zip(kernel, padding):
        if 2 * p > k:
            raise ValueError(f"{op}: padding must be at most half the kernel size, got padding "
                             f"{tuple(padding)} for kernel {tuple(kernel)}")
    check_fits(op, x_shape, kernel, padding, dilation)
    return tuple(conv_output_size(size, k, s, p, d, ceil_mode)
                 for size, k, s, p, d in zip(x_shape[2:], kernel, stride, padding, dilation))


class MaxPool2d(Function):
    """y[n, c, oh, ow] = max of x over the window (oh*s - p + i*d, ow*s - p + j*d), -inf padding.

    Backward: dL/dx[n, c, h, w] = sum of dL/dy over the windows whose arg-max is (h, w);
    with overlapping windows (kernel > stride, AlexNet's 3/2) one pixel can win several.
    Saves only the arg-max indices (int32 with Numba), not the input.
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, name="max_pool2d"):
        self.kernel = _pair(kernel_size, "kernel_size", name)
        self.stride = self.kernel if stride is None else _pair(stride, "stride", name)
        self.padding = _pair(padding, "padding", name)
        self.dilation = _pair(dilation, "dilation", name)
        self.ceil_mode, self.name = bool(ceil_mode), name

    def forward(self, x):
        out_hw = _pool_geometry(self.name, x.shape, self.kernel, self.stride, self.padding, self.dilation,
                                self.ceil_mode)
        self.x_shape = x.shape
        if is_cupy_array(x):
            from ..kernels import cupy_gpu
            y, self.argmax = cupy_gpu.maxpool_forward(x, self.kernel, self.stride, self.padding, self.dilation, out_hw)
        elif kernels.use_numba(x):
            from ..kernels import numba_cpu
            y, self.argmax = numba_cpu.maxpool_forward(np.ascontiguousarray(x), *self.kernel, *self.stride,
                                                       *self.padding, *self.dilation, *out_hw)
        else:
            y, self.argmax = ref.maxpool_forward(x, self.kernel, self.stride, self.padding, self.dilation, out_hw)
        return y

    def backward(self, gy):
        if is_cupy_array(gy):
            from ..kernels import cupy_gpu
            return cupy_gpu.maxpool_backward(gy, self.argmax, self.x_shape)
        if kernels.use_numba(gy):
            from ..kernels import numba_cpu
            return numba_cpu.maxpool_backward(np.ascontiguousarray(gy), self.argmax, *self.x_shape[2:])
        return ref.maxpool_backward(gy, self.argmax, self.x_shape)


def max_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, *, dilation=1, return_indices=False):
    """Max pooling of x (N, C, H, W) -> (N, C, Ho, Wo); ``stride`` defaults to ``kernel_size``.
    With ``return_indices`` also returns the arg-max as flat indices into each H×W plane (int64),
    like PyTorch."""
    return _max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool2d")


def _max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode, return_indices, name):
    from ..tensor import Tensor
    fn = MaxPool2d(kernel_size, stride, padding, dilation, ceil_mode, name=name)
    y = fn(x)
    if return_indices:
        return y, Tensor(fn.argmax.astype("int64"))
    return y


class AvgPool2d(Function):
    """y = (sum of x over the zero-padded window) / divisor, divisor by PyTorch's rule: the
    window clipped to the padded input (count_include_pad=True) or to the input (False).

    Backward: every pixel of a window receives dL/dy / divisor, summed over the windows.
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None, name="avg_pool2d"):
        self.kernel = _pair(kernel_size, "kernel_size", name)
        self.stride = self.kernel if stride is None else _pair(stride, "stride", name)
        self.padding = _pair(padding, "padding", name)
        if divisor_override is not None and (not isinstance(divisor_override, numbers.Integral)
                                             or divisor_override <= 0):
            raise ValueError(f"{name}: divisor_override must be a positive int, got {divisor_override!r}")
        self.ceil_mode, self.count_include_pad = bool(ceil_mode), bool(count_include_pad)
        self.divisor_override, self.name = divisor_override, name

    def forward(self, x):
        xp = get_array_module(x)
        if x.dtype.kind != "f":
            raise TypeError(f"{self.name}: expected a floating-point input, got dtype {x.dtype}")
        self.out_hw = _pool_geometry(self.name, x.shape, self.kernel, self.stride, self.padding, (1, 1),
                                     self.ceil_mode)
        divisor = ref.avg_pool_divisor(x.shape[2:], self.kernel, self.stride, self.padding, self.out_hw,
                                       self.count_include_pad, self.divisor_override)
        self.divisor = xp.asarray(divisor, dtype=x.dtype)
        self.x_shape = x.shape
        return ref.avgpool_forward(x, self.kernel, self.stride, self.padding, self.out_hw, self.divisor)

    def backward(self, gy):
        return ref.avgpool_backward(gy, self.x_shape, self.kernel, self.stride, self.padding, self.out_hw,
                                    self.divisor)


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Average pooling of x (N, C, H, W) -> (N, C, Ho, Wo), PyTorch's arguments and divisor rules."""
    return AvgPool2d(kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)(x)


def adaptive_bins(size, out):
    """PyTorch's adaptive bins: [floor(i*size/out), ceil((i+1)*size/out)) for i < out."""
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


class AdaptiveAvgPool2d(Function):
    """y[..., i, j] = mean of x over rows bin_i and columns bin_j (bins may overlap).

    Backward: each pixel of bin (i, j) receives dL/dy[..., i, j] / |bin_i||bin_j|.
    """

    def __init__(self, output_size, name="adaptive_avg_pool2d"):
        if output_size is None or isinstance(output_size, numbers.Integral):
            output_size = (output_size, output_size)
        if (not isinstance(output_size, (tuple, list)) or len(output_size) != 2
                or not all(o is None or (isinstance(o, numbers.Integral) and o > 0) for o in output_size)):
            raise ValueError(f"{name}: output_size must be a positive int or a pair of positive ints "
                             f"(or None), got {output_size!r}")
        self.output_size, self.name = tuple(output_size), name

    def forward(self, x):
        xp = get_array_module(x)
        check_input_4d(self.name, x.shape)
        H, W = x.shape[2:]
        Ho, Wo = (size if o is None else o for size, o in zip((H, W), self.output_size))
        self.x_shape = x.shape
        self.rows, self.cols = adaptive_bins(H, Ho), adaptive_bins(W, Wo)
        if H % Ho == 0 and W % Wo == 0:       # equal, disjoint bins: one reshape and a mean
            return x.reshape(*x.shape[:2], Ho, H // Ho, Wo, W // Wo).mean(axis=(3, 5))
        y = xp.empty((*x.shape[:2], Ho, Wo), dtype=x.dtype)
        for i, (h0, h1) in enumerate(self.rows):
            for j, (w0, w1) in enumerate(self.cols):
                y[:, :, i, j] = x[:, :, h0:h1, w0:w1].mean(axis=(2, 3))
        return y

    def backward(self, gy):
        xp = get_array_module(gy)
        N, C, H, W = self.x_shape
        Ho, Wo = gy.shape[2:]
        if H % Ho == 0 and W % Wo == 0:
            kh, kw = H // Ho, W // Wo
            share = gy / (kh * kw)
            return xp.broadcast_to(share.reshape(N, C, Ho, 1, Wo, 1), (N, C, Ho, kh, Wo, kw)).reshape(self.x_shape)
        dx = xp.zeros(self.x_shape, dtype=gy.dtype)
        for i, (h0, h1) in enumerate(self.rows):
            for j, (w0, w1) in enumerate(self.cols):
                dx[:, :, h0:h1, w0:w1] += (gy[:, :, i, j] / ((h1 - h0) * (w1 - w0)))[:, :, None, None]
        return dx


def adaptive_avg_pool2d(x, output_size):
    """Average pooling to a fixed (Ho, Wo) whatever the input size (int, pair, None = keep)."""
    return AdaptiveAvgPool2d(output_size)(x)


class GlobalAvgPool2d(Function):
    """y[n, c, 0, 0] = mean over h, w of x[n, c].  Backward: dL/dx = dL/dy / (H*W), broadcast."""

    def forward(self, x):
        check_input_4d("global_avg_pool2d", x.shape)
        self.x_shape = x.shape
        return x.mean(axis=(2, 3), keepdims=True)

    def backward(self, gy):
        xp = get_array_module(gy)
        H, W = self.x_shape[2:]
        return xp.broadcast_to(gy / (H * W), self.x_shape).copy()


def global_avg_pool2d(x):
    """(N, C, H, W) -> (N, C, 1, 1): the mean of each feature map."""
    return GlobalAvgPool2d()(x)
