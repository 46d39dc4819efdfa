"""Residual networks (He et al. 2015): ImageNet ResNet-18/34/50 in torchvision's layout, and
the seed's small CIFAR-10 ResNet.

A residual block learns F(x) and outputs relu(F(x) + shortcut(x)); the shortcut is the
identity, or a strided projection (conv + BN, ``downsample``) where the shape changes.
Gradients reach early layers through the identity path undiminished, which is what lets
these networks be deep. As in torchvision, the ReLUs and the residual add write into their
input's array (``inplace=True``): out is BatchNorm's fresh output, kept by nobody else.

ImageNet: conv1 7x7/2 - bn1 - relu - maxpool 3x3/2 - layer1..layer4 - avgpool - fc, with
BasicBlocks (two 3x3 convs) for 18/34 and Bottlenecks (1x1 reduce, 3x3, 1x1 expand x4) for
50. Keys ("layer1.0.conv1.weight", "layer2.0.downsample.1.running_var", "fc.bias") and counts
(11,689,512 / 21,797,672 / 25,557,032) match torchvision.
"""
from .. import functional as F, nn


def conv3x3(in_channels, out_channels, stride=1):
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)


def conv1x1(in_channels, out_channels, stride=1):
    return nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)); both convs 3x3."""
    expansion = 1

    def __init__(self, in_channels, channels, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(in_channels, channels, stride)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(channels, channels)
        self.bn2 = nn.BatchNorm2d(channels)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(F.add(out, shortcut, inplace=True))


class Bottleneck(nn.Module):
    """1x1 (reduce to ``channels``) - 3x3 (strided, as torchvision's v1.5) - 1x1 (expand x4), plus shortcut."""
    expansion = 4

    def __init__(self, in_channels, channels, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv1x1(in_channels, channels)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = conv3x3(channels, channels, stride)
        self.bn2 = nn.BatchNorm2d(channels)
        self.conv3 = conv1x1(channels, channels * self.expansion)
        self.bn3 = nn.BatchNorm2d(channels * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(F.add(out, shortcut, inplace=True))


class ResNet(nn.Module):
    def __init__(self, block, blocks_per_stage, num_classes=1000, in_channels=3):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = self._make_stage(block, 64, blocks_per_stage[0])
        self.layer2 = self._make_stage(block, 128, blocks_per_stage[1], stride=2)
        self.layer3 = self._make_stage(block, 256, blocks_per_stage[2], stride=2)
        self.layer4 = self._make_stage(block, 512, blocks_per_stage[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.flatten = nn.Flatten(1)
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        _init_weights(self)

    def _make_stage(self, block, channels, num_blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != channels * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, channels * block.expansion, stride),
                                       nn.BatchNorm2d(channels * block.expansion))
        blocks = [block(self.inplanes, channels, stride, downsample)]
        self.inplanes = channels * block.expansion
        blocks += [block(self.inplanes, channels) for _ in range(1, num_blocks)]
        return nn.Sequential(*blocks)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.flatten(self.avgpool(x)))


def _init_weights(model):
    """torchvision's scheme: He-normal convs (fan_out, relu), BatchNorm scale 1 and shift 0;
    the fc layer keeps nn.Linear's default."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.constant_(m.weight, 1.0)
            nn.init.zeros_(m.bias)


def resnet18(num_classes=1000, in_channels=3):
    return ResNet(BasicBlock, (2, 2, 2, 2), num_classes, in_channels)


def resnet34(num_classes=1000, in_channels=3):
    return ResNet(BasicBlock, (3, 4, 6, 3), num_classes, in_channels)


def resnet50(num_classes=1000, in_channels=3):
    return ResNet(Bottleneck, (3, 4, 6, 3), num_classes, in_channels)


class CIFARResNet(nn.Module):
    """The seed's CIFAR-10 ResNet: conv3x3(16) - bn - relu - three stages of BasicBlock-like
    ``ResidualBlock``s (16, 32, 64 channels; stride 2 at the 2nd and 3rd) - AvgPool(8) - fc.
    As in the seed, the projection shortcut is a strided 3x3 conv + BN (not 1x1), and the
    seed's ``ResNet(ResidualBlock, [2, 2, 2, 2])`` builds 2 blocks per stage. Attribute names
    are the seed's (conv, bn, layer1..3, avg_pool, fc) so its state_dict loads as is."""

    def __init__(self, num_classes=10, in_channels=3, blocks_per_stage=(2, 2, 2)):
        super().__init__()
        self.inplanes = 16
        self.conv = conv3x3(in_channels, 16)
        self.bn = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_stage(16, blocks_per_stage[0])
        self.layer2 = self._make_stage(32, blocks_per_stage[1], stride=2)
        self.layer3 = self._make_stage(64, blocks_per_stage[2], stride=2)
        self.avg_pool = nn.AvgPool2d(8)
        self.flatten = nn.Flatten(1)
        self.fc = nn.Linear(64, num_classes)

    def _make_stage(self, channels, num_blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != channels:
            downsample = nn.Sequential(conv3x3(self.inplanes, channels, stride), nn.BatchNorm2d(channels))
        blocks = [BasicBlock(self.inplanes, channels, stride, downsample)]
        self.inplanes = channels
        blocks += [BasicBlock(channels, channels) for _ in range(1, num_blocks)]
        return nn.Sequential(*blocks)

    def forward(self, x):
        x = self.relu(self.bn(self.conv(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(self.flatten(self.avg_pool(x)))


def cifar_resnet(num_classes=10, in_channels=3, blocks_per_stage=(2, 2, 2)):
    """The seed's ResNet for 3x32x32 CIFAR-10 images (195,738 parameters with 10 classes)."""
    return CIFARResNet(num_classes, in_channels, blocks_per_stage)
