"""Conv2d: a learned bank of filters (weight (out, in/groups, kh, kw), bias (out,)) over ``F.conv2d``."""
import math
import numbers

import numpy as np

from .. import functional as F
from ..backend import backend_module
from ..geometry import check_window_args, pair
from ..rng import get_rng
from .module import Module, Parameter


class Conv2d(Module):
    """PyTorch's Conv2d: same arguments, attribute names, shapes and default initialisation.

    Default init (PyTorch's kaiming_uniform with a=sqrt(5)): weight and bias ~ U(-b, b) with
    b = 1/sqrt(fan_in), fan_in = in_channels/groups * kh * kw. Parameters are float32 on the
    current backend, drawn from the library RNG (``minicnn.manual_seed``); ``dtype=np.float64``
    casts them after the draw.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, dtype=None):
        super().__init__()
        name = f"Conv2d({in_channels}->{out_channels})"
        for what, value in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name}: {what} must be a positive int, got {value!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: groups={groups} must divide in_channels={in_channels} "
                             f"and out_channels={out_channels}")
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        self.kernel_size = pair(kernel_size, "kernel_size", name)
        self.stride = pair(stride, "stride", name)
        self.padding = pair(padding, "padding", name)
        self.dilation = pair(dilation, "dilation", name)
        check_window_args(name, self.kernel_size, self.stride, self.padding, self.dilation)
        xp = backend_module()
        rng = get_rng(xp)
        fan_in = self.in_channels // self.groups * self.kernel_size[0] * self.kernel_size[1]
        bound = 1.0 / math.sqrt(fan_in)
        shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        # U(-b, b) as 2b*U(0, 1) - b: Generator.random exists on NumPy and CuPy alike
        self.weight = Parameter(rng.random(size=shape, dtype=np.float32) * (2 * bound) - bound)
        if bias:
            self.bias = Parameter(rng.random(size=(self.out_channels,), dtype=np.float32) * (2 * bound) - bound)
        else:
            self.register_parameter("bias", None)
        self._name = name
        if dtype is not None:
            self.to(dtype=dtype)

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups,
                        name=self._name)

    def extra_repr(self):
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text
