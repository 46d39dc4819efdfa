"""Layers as Modules: each holds its Parameters and calls one functional op."""
from .module import Module, Parameter
from .container import ModuleList, Sequential
from . import init
from .activation import LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .dropout import Dropout
from .linear import Flatten, Identity, Linear
from .loss import CrossEntropyLoss, MSELoss, NLLLoss
from .normalization import BatchNorm1d, BatchNorm2d, LocalResponseNorm
from .conv import Conv2d
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from .lazy import LazyBatchNorm1d, LazyBatchNorm2d, LazyConv2d, LazyLinear, UninitializedParameter
