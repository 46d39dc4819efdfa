"""PyTorch twins of the minicnn models that the benchmarks compare against (torchvision is
not needed: these are the same architectures, written out)."""


def _nn():
    import torch.nn as nn
    return nn


def alexnet_d2l(num_classes=10, in_channels=1, input_size=224):
    nn = _nn()
    side = input_size
    side = (side + 2 - 11) // 4 + 1
    side = (side - 3) // 2 + 1
    side = (side - 3) // 2 + 1
    side = (side - 3) // 2 + 1
    return nn.Sequential(
        nn.Conv2d(in_channels, 96, 11, stride=4, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2), nn.Flatten(),
        nn.Linear(256 * side * side, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, num_classes))


def mnist_cnn(num_classes=10, in_channels=1):
    nn = _nn()

    class SeedCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer1 = nn.Sequential(nn.Conv2d(in_channels, 16, 5, padding=2), nn.BatchNorm2d(16),
                                        nn.ReLU(), nn.MaxPool2d(2))
            self.layer2 = nn.Sequential(nn.Conv2d(16, 32, 5, padding=2), nn.BatchNorm2d(32),
                                        nn.ReLU(), nn.MaxPool2d(2))
            self.fc = nn.Linear(7 * 7 * 32, num_classes)

        def forward(self, x):
            return self.fc(self.layer2(self.layer1(x)).flatten(1))

    return SeedCNN()


def resnet18(num_classes=1000, in_channels=3):
    nn = _nn()

    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU()
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.downsample = None
            if stride != 1 or cin != cout:
                self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            return self.relu(self.bn2(self.conv2(out)) + identity)

    class ResNet18(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU()
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            layers, cin = [], 64
            for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
                layers.append(nn.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)))
                cin = cout
            self.layer1, self.layer2, self.layer3, self.layer4 = layers
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(512, num_classes)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(self.avgpool(x).flatten(1))

    return ResNet18()


def vgg11(num_classes=1000, in_channels=3):
    """torchvision's VGG-11 (configuration A, no BatchNorm), written out."""
    nn = _nn()
    layers = []
    for width in (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"):
        if width == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(in_channels, width, 3, padding=1), nn.ReLU()]
            in_channels = width
    return nn.Sequential(
        nn.Sequential(*layers), nn.AdaptiveAvgPool2d(7), nn.Flatten(),
        nn.Linear(512 * 7 * 7, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4096, num_classes))


TORCH_MODELS = {"alexnet": alexnet_d2l, "mnist_cnn": mnist_cnn, "resnet18": resnet18, "vgg11": vgg11}
