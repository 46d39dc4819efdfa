"""Layers as Modules: each holds its Parameters and calls one functional op."""
from .module import Module, Parameter
from .container import ModuleList, Sequential
