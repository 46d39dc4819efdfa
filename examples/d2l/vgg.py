"""VGG (d2l 8.2) on Fashion-MNIST at 224x224: the book's slimmed VGG-11 (channels / 4), lazy layers.

    python examples/d2l/vgg.py --limit 2000 --epochs 1
"""
from minicnn import nn

import common


def vgg_block(num_convs, out_channels):
    layers = []
    for _ in range(num_convs):
        layers.append(nn.LazyConv2d(out_channels, kernel_size=3, padding=1))
        layers.append(nn.ReLU())
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)


def vgg(arch=((1, 16), (1, 32), (2, 64), (2, 128), (2, 128)), num_classes=10):
    conv_blks = [vgg_block(num_convs, out_channels) for num_convs, out_channels in arch]
    return nn.Sequential(
        *conv_blks, nn.Flatten(),
        nn.LazyLinear(4096), nn.ReLU(), nn.Dropout(0.5),
        nn.LazyLinear(4096), nn.ReLU(), nn.Dropout(0.5),
        nn.LazyLinear(num_classes))


if __name__ == "__main__":
    common.main(vgg(), "VGG", resize=224, lr=0.01, epochs=1, limit=2000)
