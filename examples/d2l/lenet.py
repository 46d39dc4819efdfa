"""LeNet (d2l 7.6) on Fashion-MNIST: the book's model, built with lazy layers.

    python examples/d2l/lenet.py --epochs 10
"""
from minicnn import nn

import common


def lenet(num_classes=10):
    return nn.Sequential(
        nn.LazyConv2d(6, kernel_size=5, padding=2), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.LazyConv2d(16, kernel_size=5), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.LazyLinear(120), nn.Sigmoid(),
        nn.LazyLinear(84), nn.Sigmoid(),
        nn.LazyLinear(num_classes))


if __name__ == "__main__":
    common.main(lenet(), "LeNet", resize=28, lr=0.1, epochs=10, limit=60000)
