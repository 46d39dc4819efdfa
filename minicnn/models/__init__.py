"""The model zoo: the networks of the seed articles, built from minicnn's layers.

Each builder takes ``num_classes`` and ``in_channels`` (so every net also runs on 1-channel
Fashion-MNIST). Module trees follow torchvision's or d2l's, so state_dict keys and parameter
counts match theirs. ``get_model(name, **kwargs)`` builds one by name; ``list_models()`` names
them; ``default_input_shape(name)`` is the (C, H, W) each was designed for.
"""
import inspect

from .alexnet import AlexNet, alexnet
from .densenet import DenseNet, densenet121
from .googlenet import GoogLeNet, GoogLeNetOutputs, googlenet
from .lenet import LeNet, lenet
from .mnist_cnn import MNISTCNN, mnist_cnn
from .nin import NiN, nin
from .resnet import CIFARResNet, ResNet, cifar_resnet, resnet18, resnet34, resnet50
from .vgg import VGG, vgg11, vgg11_bn, vgg16, vgg16_bn
from .zfnet import ZFNet, zfnet

# name -> (builder, native input shape (C, H, W))
_REGISTRY = {
    "mnist_cnn": (mnist_cnn, (1, 28, 28)),
    "lenet": (lenet, (1, 28, 28)),
    "alexnet": (alexnet, (1, 224, 224)),
    "zfnet": (zfnet, (3, 224, 224)),
    "vgg11": (vgg11, (3, 224, 224)),
    "vgg11_bn": (vgg11_bn, (3, 224, 224)),
    "vgg16": (vgg16, (3, 224, 224)),
    "vgg16_bn": (vgg16_bn, (3, 224, 224)),
    "nin": (nin, (1, 224, 224)),
    "googlenet": (googlenet, (3, 224, 224)),
    "resnet18": (resnet18, (3, 224, 224)),
    "resnet34": (resnet34, (3, 224, 224)),
    "resnet50": (resnet50, (3, 224, 224)),
    "cifar_resnet": (cifar_resnet, (3, 32, 32)),
    "densenet121": (densenet121, (3, 224, 224)),
}


def list_models():
    """Names accepted by ``get_model``, sorted."""
    return sorted(_REGISTRY)


def _entry(name):
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; choose one of: {', '.join(list_models())}")
    return _REGISTRY[name]


def get_model(name, **kwargs):
    """Build the zoo model ``name`` with the builder's keyword arguments, e.g.
    ``get_model("alexnet", input_size=96)``. Unknown names or arguments raise ValueError/TypeError."""
    builder = _entry(name)[0]
    accepted = inspect.signature(builder).parameters
    unknown = [k for k in kwargs if k not in accepted]
    if unknown:
        raise TypeError(f"get_model({name!r}): unexpected argument(s) {', '.join(unknown)}; "
                        f"{name} accepts {', '.join(accepted)}")
    return builder(**kwargs)


def default_input_shape(name):
    """The (C, H, W) input the model was designed for (e.g. (1, 224, 224) for the seed's AlexNet)."""
    return _entry(name)[1]


def model_arguments(name):
    """Names of the keyword arguments ``get_model(name, ...)`` accepts."""
    return tuple(inspect.signature(_entry(name)[0]).parameters)


__all__ = ["AlexNet", "CIFARResNet", "DenseNet", "GoogLeNet", "GoogLeNetOutputs", "LeNet", "MNISTCNN", "NiN",
           "ResNet", "VGG", "ZFNet", "alexnet", "cifar_resnet", "default_input_shape", "densenet121",
           "get_model", "googlenet", "lenet", "list_models", "mnist_cnn", "model_arguments", "nin",
           "resnet18", "resnet34", "resnet50", "vgg11", "vgg11_bn", "vgg16", "vgg16_bn", "zfnet"]
