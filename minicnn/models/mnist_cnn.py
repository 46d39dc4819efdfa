"""The seed's MNIST CNN: two conv-BN-ReLU-pool blocks and one linear classifier.

    conv1: Conv(1,16,5,p2) - BN(16) - ReLU - MaxPool(2)    28x28 -> 14x14
    conv2: Conv(16,32,5,p2) - BN(32) - ReLU - MaxPool(2)   14x14 -> 7x7
    fc:    Linear(7*7*32, 10)

Attribute names follow the seed (``conv1``, ``conv2``, ``fc``), so its saved
``state_dict`` ("conv1.0.weight", "conv1.1.running_mean", ...) loads as is.
"""
from .. import nn


class MNISTCNN(nn.Module):
    """The seed CNN for 1x28x28 digits (Adam 1e-3, batch 100 in the seed)."""

    def __init__(self, num_classes=10, in_channels=1, input_size=28):
        super().__init__()
        if input_size % 4:
            raise ValueError(f"mnist_cnn: input_size must be a multiple of 4 (two 2x2 pools), got {input_size}")
        self.conv1 = nn.Sequential(
            nn.Conv2d(in_channels, 16, kernel_size=5, padding=2), nn.BatchNorm2d(16), nn.ReLU(inplace=True), nn.MaxPool2d(2))
        self.conv2 = nn.Sequential(
            nn.Conv2d(16, 32, kernel_size=5, padding=2), nn.BatchNorm2d(32), nn.ReLU(inplace=True), nn.MaxPool2d(2))
        side = input_size // 4
        self.flatten = nn.Flatten(1)
        self.fc = nn.Linear(side * side * 32, num_classes)

    def forward(self, x):
        return self.fc(self.flatten(self.conv2(self.conv1(x))))


def mnist_cnn(num_classes=10, in_channels=1, input_size=28):
    """The seed's MNIST CNN (29,034 parameters for 1x28x28 and 10 classes)."""
    return MNISTCNN(num_classes, in_channels, input_size)
