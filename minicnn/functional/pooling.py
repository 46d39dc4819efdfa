"""Pooling: max (overlapping windows, padding, ceil_mode), average, adaptive and global average.

Window rules are PyTorch's: Ho = floor((H + 2p - d*(k-1) - 1) / s) + 1, or ceil with
``ceil_mode`` where a window may not start in the right padding; padding <= kernel/2.

Derivations and worked examples: docs/pooling.md
"""
import numbers

from .. import kernels
from ..backend import get_array_module
from ..function import Function
from ..geometry import (adaptive_bins, avg_pool_divisor, check_input_4d, output_hw, pair,  # noqa: F401
                        pool_output_hw)


class MaxPool2dFunction(Function):
    """y[n, c, oh, ow] = max of x over the window (oh*s - p + i*d, ow*s - p + j*d), -inf padding.

    Backward: dL/dx[n, c, h, w] = sum of dL/dy over the windows whose arg-max is (h, w);
    with overlapping windows (kernel > stride, AlexNet's 3/2) one pixel can win several.
    Saves only the arg-max indices (int32 with Numba), not the input.
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, name="max_pool2d"):
        self.kernel = pair(kernel_size, "kernel_size", name)
        self.stride = self.kernel if stride is None else pair(stride, "stride", name)
        self.padding = pair(padding, "padding", name)
        self.dilation = pair(dilation, "dilation", name)
        self.ceil_mode, self.name = bool(ceil_mode), name

    def check(self, x):
        pool_output_hw(self.name, x.shape, self.kernel, self.stride, self.padding, self.dilation, self.ceil_mode)

    def forward(self, x):
        out_hw = output_hw(x.shape[2:], self.kernel, self.stride, self.padding, self.dilation, self.ceil_mode)
        self.x_shape = x.shape
        y, self.argmax = kernels.maxpool_forward(x, self.kernel, self.stride, self.padding, self.dilation, out_hw)
        return y

    def backward(self, gy):
        return kernels.maxpool_backward(gy, self.argmax, self.x_shape)


def max_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, *, dilation=1, return_indices=False,
               name="max_pool2d"):
    """Max pooling of x (N, C, H, W) -> (N, C, Ho, Wo); ``stride`` defaults to ``kernel_size``.
    With ``return_indices`` also returns the arg-max as flat indices into each H×W plane (int64),
    like PyTorch. ``name`` labels the error messages."""
    from ..tensor import Tensor
    fn = MaxPool2dFunction(kernel_size, stride, padding, dilation, ceil_mode, name=name)
    y = fn(x)
    if return_indices:
        return y, Tensor(fn.argmax.astype("int64"))
    return y


class AvgPool2dFunction(Function):
    """y = (sum of x over the zero-padded window) / divisor, divisor by PyTorch's rule: the
    window clipped to the padded input (count_include_pad=True) or to the input (False).

    Backward: every pixel of a window receives dL/dy / divisor, summed over the windows.
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None, name="avg_pool2d"):
        self.kernel = pair(kernel_size, "kernel_size", name)
        self.stride = self.kernel if stride is None else pair(stride, "stride", name)
        self.padding = pair(padding, "padding", name)
        if divisor_override is not None and (not isinstance(divisor_override, numbers.Integral)
                                             or divisor_override <= 0):
            raise ValueError(f"{name}: divisor_override must be a positive int, got {divisor_override!r}")
        self.ceil_mode, self.count_include_pad = bool(ceil_mode), bool(count_include_pad)
        self.divisor_override, self.name = divisor_override, name

    def check(self, x):
        if x.dtype.kind != "f":
            raise TypeError(f"{self.name}: expected a floating-point input, got dtype {x.dtype}")
        pool_output_hw(self.name, x.shape, self.kernel, self.stride, self.padding, (1, 1), self.ceil_mode)

    def forward(self, x):
        xp = get_array_module(x)
        self.out_hw = output_hw(x.shape[2:], self.kernel, self.stride, self.padding, (1, 1), self.ceil_mode)
        divisor = avg_pool_divisor(x.shape[2:], self.kernel, self.stride, self.padding, self.out_hw,
                                       self.count_include_pad, self.divisor_override)
        self.divisor = xp.asarray(divisor, dtype=x.dtype)
        self.x_shape = x.shape
        return kernels.avgpool_forward(x, self.kernel, self.stride, self.padding, self.out_hw, self.divisor)

    def backward(self, gy):
        return kernels.avgpool_backward(gy, self.x_shape, self.kernel, self.stride, self.padding, self.out_hw,
                                    self.divisor)


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None, *, name="avg_pool2d"):
    """Average pooling of x (N, C, H, W) -> (N, C, Ho, Wo), PyTorch's arguments and divisor rules."""
    return AvgPool2dFunction(kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
                             name=name)(x)


def adaptive_output_size(output_size, name="adaptive_avg_pool2d"):
    """An int, a pair or None (keep that side) -> (Ho or None, Wo or None), else ValueError."""
    if output_size is None or isinstance(output_size, numbers.Integral):
        output_size = (output_size, output_size)
    if (not isinstance(output_size, (tuple, list)) or len(output_size) != 2
            or not all(o is None or (isinstance(o, numbers.Integral) and o > 0) for o in output_size)):
        raise ValueError(f"{name}: output_size must be a positive int or a pair of positive ints "
                         f"(or None), got {output_size!r}")
    return tuple(output_size)


class AdaptiveAvgPool2dFunction(Function):
    """y[..., i, j] = mean of x over rows bin_i and columns bin_j (bins may overlap).

    Backward: each pixel of bin (i, j) receives dL/dy[..., i, j] / |bin_i||bin_j|.
    """

    def __init__(self, output_size, name="adaptive_avg_pool2d"):
        self.output_size, self.name = adaptive_output_size(output_size, name), name

    def check(self, x):
        check_input_4d(self.name, x.shape)

    def forward(self, x):
        xp = get_array_module(x)
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


def adaptive_avg_pool2d(x, output_size, *, name="adaptive_avg_pool2d"):
    """Average pooling to a fixed (Ho, Wo) whatever the input size (int, pair, None = keep)."""
    return AdaptiveAvgPool2dFunction(output_size, name=name)(x)


class GlobalAvgPool2dFunction(Function):
    """y[n, c, 0, 0] = mean over h, w of x[n, c].  Backward: dL/dx = dL/dy / (H*W), broadcast."""

    def check(self, x):
        check_input_4d("global_avg_pool2d", x.shape)

    def forward(self, x):
        self.x_shape = x.shape
        return x.mean(axis=(2, 3), keepdims=True)

    def backward(self, gy):
        xp = get_array_module(gy)
        H, W = self.x_shape[2:]
        return xp.broadcast_to(gy / (H * W), self.x_shape).copy()


def global_avg_pool2d(x):
    """(N, C, H, W) -> (N, C, 1, 1): the mean of each feature map."""
    return GlobalAvgPool2dFunction()(x)
