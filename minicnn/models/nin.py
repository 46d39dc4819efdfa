"""Network in Network (Lin, Chen & Yan 2013) as in d2l.

Each NiN block is a conv followed by two 1x1 convs (a small per-pixel MLP), all with ReLU.
There are no FC layers: the last block outputs one channel per class and global average
pooling turns each into a logit.

    0 block(C,96,11,s4)   1 MaxPool(3,2)       224 -> 54 -> 26
    2 block(96,256,5,p2)  3 MaxPool(3,2)       26 -> 12
    4 block(256,384,3,p1) 5 MaxPool(3,2)       12 -> 5
    6 Dropout(0.5) 7 block(384,K,3,p1) 8 AdaptiveAvgPool2d(1) 9 Flatten

A flat Sequential of Sequentials, like d2l's: keys "0.0.weight", "0.2.weight", "7.4.bias", ...
Defaults follow d2l (1x224x224 Fashion-MNIST, 10 classes).
"""
from .. import nn


def nin_block(in_channels, out_channels, kernel_size, stride=1, padding=0):
    """Conv(k) - ReLU - Conv(1x1) - ReLU - Conv(1x1) - ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, 1), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, 1), nn.ReLU())


class NiN(nn.Sequential):
    def __init__(self, num_classes=10, in_channels=1):
        super().__init__(
            nin_block(in_channels, 96, 11, stride=4), nn.MaxPool2d(3, stride=2),
            nin_block(96, 256, 5, padding=2), nn.MaxPool2d(3, stride=2),
            nin_block(256, 384, 3, padding=1), nn.MaxPool2d(3, stride=2),
            nn.Dropout(0.5),
            nin_block(384, num_classes, 3, padding=1),
            nn.AdaptiveAvgPool2d((1, 1)),
            nn.Flatten())


def nin(num_classes=10, in_channels=1):
    """d2l's NiN (1,992,166 parameters for 1 channel and 10 classes)."""
    return NiN(num_classes, in_channels)
