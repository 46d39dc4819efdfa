"""Arguments are checked once, by the op's Function, before forward; layers only pass their
name for the messages; every Function has a name of its own."""
import importlib
import inspect
import traceback

import numpy as np
import pytest

import minicnn as mc
from minicnn import nn
from minicnn.function import Function
from minicnn.functional.conv import Conv2dFunction
from minicnn.functional.linear import LinearFunction
from minicnn.functional.normalization import BatchNormFunction, LocalResponseNormFunction
from minicnn.functional.pooling import AvgPool2dFunction, MaxPool2dFunction


def zeros(*shape, dtype=np.float32):
    return mc.Tensor(np.zeros(shape, dtype=dtype))


class Halve(Function):
    calls = []

    def check(self, x):
        self.calls.append("check")
        if x.ndim != 1:
            raise ValueError(f"halve: expected a 1-D input, got {x.shape}")

    def forward(self, x):
        self.calls.append("forward")
        return x / 2

    def backward(self, gy):
        return gy / 2


def test_check_runs_once_before_forward_and_stops_bad_input_there():
    Halve.calls = []
    Halve()(zeros(3))
    assert Halve.calls == ["check", "forward"]
    Halve.calls = []
    with pytest.raises(ValueError, match=r"halve: expected a 1-D input, got \(2, 2\)"):
        Halve()(zeros(2, 2))
    assert Halve.calls == ["check"]


@pytest.mark.parametrize("layer, function, shape", [
    (lambda: nn.Conv2d(3, 4, 3), Conv2dFunction, (1, 3, 5, 5)),
    (lambda: nn.Linear(4, 2), LinearFunction, (3, 4)),
    (lambda: nn.MaxPool2d(2), MaxPool2dFunction, (1, 1, 4, 4)),
    (lambda: nn.AvgPool2d(2), AvgPool2dFunction, (1, 1, 4, 4)),
    (lambda: nn.BatchNorm2d(3), BatchNormFunction, (2, 3, 2, 2)),
    (lambda: nn.LocalResponseNorm(3), LocalResponseNormFunction, (1, 4, 2, 2)),
])
def test_a_layer_call_checks_its_input_exactly_once(layer, function, shape, monkeypatch):
    seen = []
    original = function.check
    monkeypatch.setattr(function, "check", lambda self, *a: (seen.append(self.name), original(self, *a))[1])
    layer()(zeros(*shape))
    assert len(seen) == 1 and seen[0][0].isupper()       # labelled with the layer's name, e.g. "Conv2d(3->4)"


def test_a_bad_input_to_a_layer_fails_in_the_functions_check_under_the_layers_name():
    with pytest.raises(ValueError, match=r"Conv2d\(3->4\): expected input \(N, 3, H, W\), got \(1, 2, 5, 5\)") as info:
        nn.Conv2d(3, 4, 3)(zeros(1, 2, 5, 5))
    frames = [frame.name for frame in traceback.extract_tb(info.tb)]
    assert frames[-1] == "check" and "forward" in frames                # Module.forward, then the Function's check


def _function_classes():
    for family in ("activation", "conv", "dropout", "linear", "loss", "normalization", "pooling"):
        module = importlib.import_module(f"minicnn.functional.{family}")
        for name, value in vars(module).items():
            if inspect.isclass(value) and issubclass(value, Function) and value.__module__ == module.__name__:
                yield value


def test_no_function_class_shares_its_name_with_a_layer():
    layers = {name for name, value in vars(nn).items() if inspect.isclass(value) and issubclass(value, nn.Module)}
    functions = {cls.__name__ for cls in _function_classes()}
    assert {"Conv2dFunction", "MaxPool2dFunction", "LinearFunction", "BatchNormFunction"} <= functions
    assert not functions & layers


def test_the_graph_says_which_function_ran():
    x = mc.Tensor(np.ones((1, 1, 4, 4), np.float32), requires_grad=True)
    y = nn.MaxPool2d(2)(nn.Conv2d(1, 1, 1)(x))
    assert repr(y.creator) == "<MaxPool2dFunction backward>"
    assert repr(y.creator.inputs[0].creator) == "<Conv2dFunction backward>"
