"""LeNet with batch normalization (d2l 8.5) on Fashion-MNIST: the book's concise BNLeNet, lazy layers.

    python examples/d2l/batchnorm.py --epochs 10
"""
from minicnn import nn

import common


def bn_lenet(num_classes=10):
    return nn.Sequential(
        nn.LazyConv2d(6, kernel_size=5), nn.LazyBatchNorm2d(),
        nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
        nn.LazyConv2d(16, kernel_size=5), nn.LazyBatchNorm2d(),
        nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(), nn.LazyLinear(120), nn.LazyBatchNorm1d(),
        nn.Sigmoid(), nn.LazyLinear(84), nn.LazyBatchNorm1d(),
        nn.Sigmoid(), nn.LazyLinear(num_classes))


if __name__ == "__main__":
    common.main(bn_lenet(), "BNLeNet", resize=28, lr=0.1, epochs=10, limit=60000)
