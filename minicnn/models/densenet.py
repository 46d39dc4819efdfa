"""DenseNet-121 (Huang et al. 2017), laid out like torchvision's.

Inside a dense block every layer sees the concatenation of all earlier feature maps and adds
``growth_rate`` new channels (BN-ReLU-1x1 conv to 4*growth, BN-ReLU-3x3 conv to growth);
transitions (BN-ReLU-1x1 conv halving the channels-2x2 avg-pool) shrink the maps between
blocks. Keys ("features.denseblock1.denselayer1.norm1.weight", "features.transition1.conv.weight",
"classifier.bias") and the count (7,978,856) match torchvision. 121 layers deep: training
relies on the engine's iterative backward.
"""
from .. import functional as F
from .. import nn


class DenseLayer(nn.Module):
    """x_0..x_{l-1} -> conv2(relu2(norm2(conv1(relu1(norm1(cat(x_0..x_{l-1}))))))), growth_rate channels."""

    def __init__(self, in_channels, growth_rate, bn_size):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(in_channels)
        self.relu1 = nn.ReLU()
        self.conv1 = nn.Conv2d(in_channels, bn_size * growth_rate, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU()
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, 3, padding=1, bias=False)

    def forward(self, features):
        x = F.concatenate(features, axis=1) if len(features) > 1 else features[0]
        x = self.conv1(self.relu1(self.norm1(x)))
        return self.conv2(self.relu2(self.norm2(x)))


class DenseBlock(nn.Module):
    def __init__(self, num_layers, in_channels, growth_rate, bn_size):
        super().__init__()
        for i in range(num_layers):
            self.add_module(f"denselayer{i + 1}", DenseLayer(in_channels + i * growth_rate, growth_rate, bn_size))

    def forward(self, x):
        features = [x]
        for layer in self.children():
            features.append(layer(features))
        return F.concatenate(features, axis=1)


class Transition(nn.Sequential):
    def __init__(self, in_channels, out_channels):
        super().__init__({"norm": nn.BatchNorm2d(in_channels), "relu": nn.ReLU(),
                          "conv": nn.Conv2d(in_channels, out_channels, 1, bias=False),
                          "pool": nn.AvgPool2d(2, stride=2)})


class DenseNet(nn.Module):
    def __init__(self, growth_rate=32, block_config=(6, 12, 24, 16), num_init_features=64, bn_size=4,
                 num_classes=1000, in_channels=3):
        super().__init__()
        stem = {"conv0": nn.Conv2d(in_channels, num_init_features, 7, stride=2, padding=3, bias=False),
                "norm0": nn.BatchNorm2d(num_init_features), "relu0": nn.ReLU(),
                "pool0": nn.MaxPool2d(3, stride=2, padding=1)}
        self.features = nn.Sequential(stem)
        channels = num_init_features
        for i, num_layers in enumerate(block_config):
            self.features.add_module(f"denseblock{i + 1}", DenseBlock(num_layers, channels, growth_rate, bn_size))
            channels += num_layers * growth_rate
            if i != len(block_config) - 1:
                self.features.add_module(f"transition{i + 1}", Transition(channels, channels // 2))
                channels //= 2
        self.features.add_module("norm5", nn.BatchNorm2d(channels))
        self.relu = nn.ReLU()
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.flatten = nn.Flatten(1)
        self.classifier = nn.Linear(channels, num_classes)
        _init_weights(self)

    def forward(self, x):
        x = self.relu(self.features(x))
        return self.classifier(self.flatten(self.avgpool(x)))


def _init_weights(model):
    """torchvision's scheme: He-normal convs (fan_in), BatchNorm 1/0, zero classifier bias."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.constant_(m.weight, 1.0)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.zeros_(m.bias)


def densenet121(num_classes=1000, in_channels=3):
    """DenseNet-121: growth 32, blocks (6, 12, 24, 16), 64 stem features."""
    return DenseNet(32, (6, 12, 24, 16), 64, 4, num_classes, in_channels)
