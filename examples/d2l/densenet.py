"""DenseNet (d2l 8.7) on Fashion-MNIST at 96x96: the book's dense and transition blocks, lazy layers.

    python examples/d2l/densenet.py --limit 2000 --epochs 1
"""
import minicnn
from minicnn import nn

import common


def conv_block(num_channels):
    return nn.Sequential(
        nn.LazyBatchNorm2d(), nn.ReLU(),
        nn.LazyConv2d(num_channels, kernel_size=3, padding=1))


class DenseBlock(nn.Module):
    def __init__(self, num_convs, num_channels):
        super().__init__()
        self.net = nn.Sequential(*[conv_block(num_channels) for _ in range(num_convs)])

    def forward(self, X):
        for blk in self.net:
            Y = blk(X)
            # Concatenate input and output of each block along the channels
            X = minicnn.cat((X, Y), dim=1)
        return X


def transition_block(num_channels):
    return nn.Sequential(
        nn.LazyBatchNorm2d(), nn.ReLU(),
        nn.LazyConv2d(num_channels, kernel_size=1),
        nn.AvgPool2d(kernel_size=2, stride=2))


def densenet(num_channels=64, growth_rate=32, arch=(4, 4, 4, 4), num_classes=10):
    net = nn.Sequential(nn.Sequential(
        nn.LazyConv2d(64, kernel_size=7, stride=2, padding=3),
        nn.LazyBatchNorm2d(), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1)))
    for i, num_convs in enumerate(arch):
        net.add_module(f'dense_blk{i+1}', DenseBlock(num_convs, growth_rate))
        num_channels += num_convs * growth_rate     # the channels out of this dense block
        if i != len(arch) - 1:                      # a transition halves them between blocks
            num_channels //= 2
            net.add_module(f'tran_blk{i+1}', transition_block(num_channels))
    net.add_module('last', nn.Sequential(
        nn.LazyBatchNorm2d(), nn.ReLU(),
        nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(),
        nn.LazyLinear(num_classes)))
    return net


if __name__ == "__main__":
    common.main(densenet(), "DenseNet", resize=96, lr=0.01, epochs=1, limit=2000)
