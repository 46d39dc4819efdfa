"""Layers as Modules: each holds its Parameters and calls one functional op."""
from .module import Module, Parameter
from .container import ModuleList, Sequential
from .conv import Conv2d
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
