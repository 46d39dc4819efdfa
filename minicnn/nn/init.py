"""Parameter initialisation, in place, with PyTorch's names and formulas (torch.nn.init).

Every function fills ``tensor.data`` in place (keeping its dtype and device), draws from
the library RNG (``minicnn.manual_seed`` makes it repeatable) and returns the tensor.

    fan_in  = shape[1] * prod(shape[2:])      fan_out = shape[0] * prod(shape[2:])
    kaiming (He et al. 2015):  std = gain / sqrt(fan);        uniform bound = sqrt(3) * std
    xavier (Glorot & Bengio):  std = gain * sqrt(2 / (fan_in + fan_out)); bound = sqrt(3) * std

AlexNet's init (Krizhevsky 2012) is ``normal_(w, 0, 0.01)`` and ``constant_(b, 1)``;
PyTorch's default for Conv2d/Linear is ``kaiming_uniform_(w, a=sqrt(5))``, i.e.
U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
"""
import math

import numpy as np

from ..backend import get_array_module
from ..rng import get_rng
from ..tensor import Tensor


def _array(tensor, op):
    if isinstance(tensor, Tensor):
        return tensor.data
    raise TypeError(f"nn.init.{op}: expected a Tensor or Parameter, got {type(tensor).__name__}")


def _fill(tensor, values, op):
    data = _array(tensor, op)
    data[...] = values.astype(data.dtype, copy=False)
    return tensor


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity (PyTorch's table)."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: expected a number as negative_slope, got {param!r}")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor):
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need a tensor with at least 2 dimensions, got shape {tuple(shape)}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"expected mode 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _draw(data, distribution):
    """Samples of ``distribution`` ("random" or "standard_normal") shaped like ``data``, drawn
    in its dtype when it is float32 or float64: a float32 parameter is drawn in float32 directly
    (half the memory, no float64 temporaries to cast: VGG's 130 M weights build in seconds).
    Other dtypes (float16) are drawn in float64 and rounded once by _fill."""
    rng = get_rng(get_array_module(data))
    dtype = data.dtype if data.dtype in (np.float32, np.float64) else np.float64
    return getattr(rng, distribution)(data.shape, dtype=dtype)


def uniform_(tensor, a=0.0, b=1.0):
    """Fill with U(a, b)."""
    values = _draw(_array(tensor, "uniform_"), "random")
    values *= b - a
    values += a
    return _fill(tensor, values, "uniform_")


def normal_(tensor, mean=0.0, std=1.0):
    """Fill with N(mean, std^2)."""
    values = _draw(_array(tensor, "normal_"), "standard_normal")
    values *= std
    values += mean
    return _fill(tensor, values, "normal_")


def constant_(tensor, val):
    _array(tensor, "constant_")[...] = val
    return tensor


def zeros_(tensor):
    return constant_(tensor, 0)


def ones_(tensor):
    return constant_(tensor, 1)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """U(-bound, bound), bound = gain * sqrt(3 / fan)  (He et al. 2015)."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """N(0, std^2), std = gain / sqrt(fan)."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std)


def xavier_uniform_(tensor, gain=1.0):
    """U(-bound, bound), bound = gain * sqrt(6 / (fan_in + fan_out))  (Glorot & Bengio 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor, gain=1.0):
    """N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))
