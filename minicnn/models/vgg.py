"""VGG-11 and VGG-16 (Simonyan & Zisserman 2014), laid out like torchvision's.

``features`` stacks 3x3 convs (padding 1) with ReLU, and optionally BatchNorm after each conv,
and 2x2 max-pools; ``avgpool`` is AdaptiveAvgPool2d(7) so any input size reaches the
classifier as 512x7x7; ``classifier`` is Linear(25088,4096) ReLU Dropout Linear(4096,4096)
ReLU Dropout Linear(4096,K). Keys ("features.0.weight", "classifier.6.bias") and counts match
torchvision: vgg11 132,863,336, vgg16 138,357,544 (with BN: 132,868,840 / 138,365,992).
"""
from .. import nn

# Output channels per conv, "M" = 2x2 max-pool (torchvision's configurations A and D).
VGG11_LAYOUT = (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M")
VGG16_LAYOUT = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")


class VGG(nn.Module):
    def __init__(self, layout, num_classes=1000, in_channels=3, batch_norm=False, dropout=0.5):
        super().__init__()
        self.features = _make_features(layout, in_channels, batch_norm)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.flatten = nn.Flatten(1)
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(4096, num_classes))
        _init_weights(self)

    def forward(self, x):
        return self.classifier(self.flatten(self.avgpool(self.features(x))))


def _make_features(layout, in_channels, batch_norm):
    layers = []
    for width in layout:
        if width == "M":
            layers.append(nn.MaxPool2d(2, stride=2))
            continue
        layers.append(nn.Conv2d(in_channels, width, 3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(width))
        layers.append(nn.ReLU(inplace=True))
        in_channels = width
    return nn.Sequential(*layers)


def _init_weights(model):
    """torchvision's scheme: He-normal convs (fan_out), N(0, 0.01) linears, zero biases."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.constant_(m.weight, 1.0)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.01)
            nn.init.zeros_(m.bias)


def vgg11(num_classes=1000, in_channels=3, batch_norm=False):
    """VGG-11 (configuration A), optionally with BatchNorm after every conv."""
    return VGG(VGG11_LAYOUT, num_classes, in_channels, batch_norm)


def vgg16(num_classes=1000, in_channels=3, batch_norm=False):
    """VGG-16 (configuration D), optionally with BatchNorm after every conv."""
    return VGG(VGG16_LAYOUT, num_classes, in_channels, batch_norm)


def vgg11_bn(num_classes=1000, in_channels=3):
    return vgg11(num_classes, in_channels, batch_norm=True)


def vgg16_bn(num_classes=1000, in_channels=3):
    return vgg16(num_classes, in_channels, batch_norm=True)
