"""ZFNet (Zeiler & Fergus 2013, "Visualizing and Understanding Convolutional Networks").

AlexNet with a finer first layer, found by looking at its filters: 7x7 stride-2 conv1 (not
11x11 stride 4), stride 2 in conv2, dense connections (no two-GPU split), 3x3 stride-2 max
pooling and local contrast normalisation after the first two layers:

    features: Conv(C,96,7,s2,p1) ReLU LRN MaxPool(3,2)     224 -> 110 -> 55
              Conv(96,256,5,s2)  ReLU LRN MaxPool(3,2)     55 -> 26 -> 13
              Conv(256,384,3,p1) ReLU Conv(384,384,3,p1) ReLU Conv(384,256,3,p1) ReLU
              MaxPool(3,2)                                  13 -> 6
    classifier: Linear(256*6*6,4096) ReLU Dropout(0.5) Linear(4096,4096) ReLU Dropout(0.5) Linear(4096,K)

The pools use ``ceil_mode=True`` so the map sizes are the paper's 110 -> 55 and 26 -> 13.
"""
from .. import nn
from ..geometry import conv_output_size


class ZFNet(nn.Module):
    def __init__(self, num_classes=1000, in_channels=3, input_size=224):
        super().__init__()
        side = conv_output_size(input_size, 7, 2, 1)
        side = conv_output_size(side, 3, 2, ceil_mode=True)
        side = conv_output_size(side, 5, 2)
        side = conv_output_size(side, 3, 2, ceil_mode=True)
        side = conv_output_size(side, 3, 2, ceil_mode=True)
        if side < 1:
            raise ValueError(f"zfnet: input_size {input_size} is too small: nothing is left after the last max-pool")
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 96, 7, stride=2, padding=1), nn.ReLU(), _lrn(),
            nn.MaxPool2d(3, stride=2, ceil_mode=True),
            nn.Conv2d(96, 256, 5, stride=2), nn.ReLU(), _lrn(),
            nn.MaxPool2d(3, stride=2, ceil_mode=True),
            nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(3, stride=2, ceil_mode=True))
        self.flatten = nn.Flatten(1)
        self.classifier = nn.Sequential(
            nn.Linear(256 * side * side, 4096), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(4096, num_classes))

    def forward(self, x):
        return self.classifier(self.flatten(self.features(x)))


def _lrn():
    # ZFNet keeps AlexNet's normalisation across feature maps (size 5, paper scaling).
    return nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0, alpha_scaling="paper")


def zfnet(num_classes=1000, in_channels=3, input_size=224):
    """ZFNet for ImageNet-size inputs (62,357,608 parameters for 3x224x224, 1000 classes)."""
    return ZFNet(num_classes, in_channels, input_size)
