"""examples/train.py builds each zoo model for a dataset; examples/cifar_resnet.py takes only CIFAR-10."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

import minicnn as mc

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name, channels, side", [("lenet", 1, 28), ("mnist_cnn", 1, 28), ("alexnet", 1, 96),
                                                  ("cifar_resnet", 3, 32), ("googlenet", 1, 64)])
def test_train_example_builds_the_model_for_the_datasets_channels_and_size(name, channels, side):
    model = load("train").build_model(name, channels, side)
    x = mc.Tensor(np.zeros((2, channels, side, side), np.float32))
    with mc.no_grad():
        out = model.train()(x)            # GoogLeNet without aux heads: plain logits for the trainer
    assert out.shape == (2, 10)


def test_train_example_rejects_an_unknown_model(capsys):
    with pytest.raises(SystemExit):
        load("train").main(["--model", "alexnet9"])
    assert "invalid choice: 'alexnet9'" in capsys.readouterr().err


def test_train_example_rejects_a_size_the_model_cannot_take(capsys):
    with pytest.raises(SystemExit):
        load("train").main(["--model", "alexnet", "--resize", "64"])
    assert "smallest that works is 65" in capsys.readouterr().err


def test_cifar_resnet_example_needs_cifar10(capsys):
    with pytest.raises(SystemExit):
        load("cifar_resnet").main(["--dataset", "mnist"])
    assert "argument --dataset: invalid choice: 'mnist' (choose from 'cifar10')" in capsys.readouterr().err
