"""Pooling layers over ``functional.pooling``, with PyTorch's arguments and reprs.

The layers check the types of their hyper-parameters when built; everything that depends
on the input is checked once, by the op, under the layer's name.
"""
from ..functional import pooling as P
from ..geometry import pair
from .module import Module


class MaxPool2d(Module):
    """Max pooling; AlexNet's overlapping pool is MaxPool2d(3, 2). ``stride`` defaults to the kernel."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, kernel_size if stride is None else stride, padding
        self.dilation, self.return_indices, self.ceil_mode = dilation, return_indices, ceil_mode
        for what in ("kernel_size", "stride", "padding", "dilation"):
            pair(getattr(self, what), what, "MaxPool2d")

    def forward(self, x):
        return P.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, dilation=self.dilation,
                            return_indices=self.return_indices, name="MaxPool2d")

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, kernel_size if stride is None else stride, padding
        self.ceil_mode, self.count_include_pad, self.divisor_override = ceil_mode, count_include_pad, divisor_override
        for what in ("kernel_size", "stride", "padding"):
            pair(getattr(self, what), what, "AvgPool2d")

    def forward(self, x):
        return P.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                            self.divisor_override, name="AvgPool2d")

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size
        P.adaptive_output_size(output_size, "AdaptiveAvgPool2d")

    def forward(self, x):
        return P.adaptive_avg_pool2d(x, self.output_size, name="AdaptiveAvgPool2d")

    def extra_repr(self):
        return f"output_size={self.output_size}"
