"""Activation layers: thin Modules over minicnn.functional.activation."""
from .. import functional as F
from .module import Module


class ReLU(Module):
    """y = max(x, 0).  ``inplace=True`` (as in PyTorch) writes y into x's array: one array
    less per layer. Backward needs only x's sign, saved as a mask; F.relu raises where the
    write would corrupt a gradient (see minicnn/functional/inplace.py)."""
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.relu(x, inplace=self.inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Sigmoid(Module):
    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    def forward(self, x):
        return F.tanh(x)


class Softmax(Module):
    """Softmax along ``dim`` (PyTorch's name for the axis)."""
    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, axis=self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    def forward(self, x):
        return F.log_softmax(x, axis=self.dim)
