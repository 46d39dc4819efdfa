"""Lazy layers: LazyConv2d, LazyLinear, LazyBatchNorm1d/2d infer their input size at the
first forward pass, then become the ordinary layer, as PyTorch's do (d2l builds its CNNs so).

    conv = nn.LazyConv2d(6, kernel_size=5)   # in_channels unknown yet
    y = conv(x)                              # now a Conv2d(x.shape[1], 6, ...): type, repr and all

Their Parameters exist from construction as placeholders (``UninitializedParameter``), so an
optimizer built before the first forward holds them; the first forward builds the real layer
through its public constructor (same init, same RNG draws as building it by hand) and hands
its arrays to those same Parameter objects. Reading a placeholder's data before that
(``state_dict()``, an init function) is a ValueError that says to run a forward pass first.
"""
import numpy as np

from ..backend import get_array_module
from ..tensor import as_tensor
from .conv import Conv2d
from .linear import Linear
from .module import Module, Parameter
from .normalization import BatchNorm1d, BatchNorm2d


class UninitializedParameter(Parameter):
    """A Parameter whose shape is not known until its lazy layer sees an input."""

    def __init__(self, owner):
        super().__init__(np.empty(0, dtype=np.float32))
        self.owner = owner

    @property
    def data(self):
        raise ValueError(f"{self.owner} is not initialised yet: a lazy layer learns its input size at "
                         f"the first forward pass; run the model once on a batch (e.g. model(x)) first")

    @data.setter
    def data(self, value):
        self.__dict__["data"] = value

    def materialize(self, array):
        """Take ``array`` as the data and become a plain Parameter (the same object)."""
        self.__dict__["data"] = array
        del self.owner
        self.__class__ = Parameter

    def __repr__(self):
        return f"<UninitializedParameter of {self.owner}>"


class _LazyLayer(Module):
    becomes = None              # the ordinary layer class
    parameter_names = ()        # its Parameters (None when switched off by bias=False / affine=False)

    def __init__(self, *args, **kwargs):
        super().__init__()
        object.__setattr__(self, "lazy_args", (args, kwargs))
        for name in self.parameter_names:
            switch = self.switch_for(name)   # the argument that can turn it off, if any
            if switch is None or kwargs.get(switch, True):
                setattr(self, name, UninitializedParameter(f"{type(self).__name__}.{name}"))
            else:
                self.register_parameter(name, None)

    @staticmethod
    def switch_for(name):
        return "bias" if name == "bias" else None

    def in_size(self, x):
        """The size the ordinary layer takes as its first argument, read from the input."""
        raise NotImplementedError

    def forward(self, x):
        x = as_tensor(x, op=type(self).__name__)
        args, kwargs = self.lazy_args
        layer = self.becomes(self.in_size(x), *args, **kwargs)
        if get_array_module(layer.weight.data if layer.weight is not None else x.data) is not get_array_module(x.data):
            layer.to(x.device)
        self._become(layer)
        return type(self).forward(self, x)

    def _become(self, layer):
        for name, p in layer._parameters.items():
            placeholder = self._parameters.get(name)
            if p is not None and isinstance(placeholder, UninitializedParameter):
                placeholder.materialize(p.data)
                layer._parameters[name] = placeholder
        del self.__dict__["lazy_args"]
        # keep what belongs to this object (forward hooks, train/eval mode, a wrapped forward)
        self.__dict__.update({k: v for k, v in layer.__dict__.items() if k not in ("_forward_hooks", "training")})
        self.__class__ = type(layer)

    def extra_repr(self):
        args, kwargs = self.lazy_args
        return ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])


class LazyConv2d(_LazyLayer):
    """``LazyConv2d(out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True)``:
    a Conv2d whose in_channels is read from the first input (N, C, H, W)."""
    becomes = Conv2d
    parameter_names = ("weight", "bias")

    def in_size(self, x):
        if x.ndim != 4:
            raise ValueError(f"LazyConv2d({self.extra_repr()}): expected input (N, C, H, W) to infer "
                             f"in_channels, got shape {x.shape}")
        return x.shape[1]


class LazyLinear(_LazyLayer):
    """``LazyLinear(out_features, bias=True)``: a Linear whose in_features is read from the
    first input (..., in_features)."""
    becomes = Linear
    parameter_names = ("weight", "bias")

    def in_size(self, x):
        if x.ndim < 1:
            raise ValueError(f"LazyLinear({self.extra_repr()}): expected input (..., in_features), "
                             f"got a scalar")
        return x.shape[-1]


class _LazyBatchNorm(_LazyLayer):
    parameter_names = ("weight", "bias")

    @staticmethod
    def switch_for(name):
        return "affine"

    def in_size(self, x):
        if x.ndim not in self.becomes._ranks:
            raise ValueError(f"{type(self).__name__}: expected input "
                             f"{self.becomes._expected.format(C='C')} to infer num_features, got shape {x.shape}")
        return x.shape[1]


class LazyBatchNorm1d(_LazyBatchNorm):
    """``LazyBatchNorm1d(eps=1e-5, momentum=0.1, affine=True, track_running_stats=True)``: a
    BatchNorm1d whose num_features is read from the first input (N, C) or (N, C, L)."""
    becomes = BatchNorm1d


class LazyBatchNorm2d(_LazyBatchNorm):
    """``LazyBatchNorm2d(eps=1e-5, momentum=0.1, affine=True, track_running_stats=True)``: a
    BatchNorm2d whose num_features is read from the first input (N, C, H, W)."""
    becomes = BatchNorm2d
