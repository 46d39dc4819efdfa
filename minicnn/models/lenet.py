"""LeNet-5 as in d2l (LeCun et al. 1998 with max-free average pooling and sigmoid units).

    Conv(1,6,5,p2) - Sigmoid - AvgPool(2,2)      28x28 -> 14x14
    Conv(6,16,5)   - Sigmoid - AvgPool(2,2)      14x14 -> 10x10 -> 5x5
    Flatten - Linear(16*5*5,120) - Sigmoid - Linear(120,84) - Sigmoid - Linear(84,10)

A flat Sequential like d2l's, so state_dict keys are "0.weight", "3.weight", "7.weight", ...
"""
from .. import nn


class LeNet(nn.Sequential):
    """d2l's LeNet-5 for 1x28x28 inputs (61,706 parameters with 10 classes)."""

    def __init__(self, num_classes=10, in_channels=1, input_size=28):
        side = (input_size + 4 - 4) // 2          # conv1 keeps the size (padding 2), pool halves it
        side = (side - 4) // 2                    # conv2 (5x5, no padding), pool halves it
        if side < 1:
            raise ValueError(f"lenet: input_size {input_size} is too small (needs at least 12)")
        super().__init__(
            nn.Conv2d(in_channels, 6, kernel_size=5, padding=2), nn.Sigmoid(),
            nn.AvgPool2d(kernel_size=2, stride=2),
            nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
            nn.AvgPool2d(kernel_size=2, stride=2),
            nn.Flatten(),
            nn.Linear(16 * side * side, 120), nn.Sigmoid(),
            nn.Linear(120, 84), nn.Sigmoid(),
            nn.Linear(84, num_classes))


def lenet(num_classes=10, in_channels=1, input_size=28):
    """d2l's LeNet-5 (sigmoid activations, average pooling)."""
    return LeNet(num_classes, in_channels, input_size)
