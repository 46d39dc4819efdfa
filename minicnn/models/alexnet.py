"""AlexNet, two ways: d2l's single-tower version (the seed's) and the 2012 paper's.

d2l (``variant="d2l"``), a flat Sequential so keys are "0.weight", "3.weight", ..., "20.bias":

    0 Conv(C,96,11,s4,p1) 1 ReLU 2 MaxPool(3,2)          224 -> 54 -> 26
    3 Conv(96,256,5,p2)   4 ReLU 5 MaxPool(3,2)          26 -> 12
    6 Conv(256,384,3,p1)  7 ReLU 8 Conv(384,384,3,p1) 9 ReLU
    10 Conv(384,256,3,p1) 11 ReLU 12 MaxPool(3,2)        12 -> 5
    13 Flatten 14 Linear(6400,4096) 15 ReLU 16 Dropout(0.5)
    17 Linear(4096,4096) 18 ReLU 19 Dropout(0.5) 20 Linear(4096,K)

46,764,746 parameters for 1x224x224 and 10 classes; 938.75 M mult-adds.

Paper (``variant="paper"``, Krizhevsky, Sutskever & Hinton 2012): local response
normalisation (paper scaling, k=2, n=5, alpha=1e-4, beta=0.75) after the ReLU of conv1 and
conv2, each followed by overlapping max-pooling (z=3, s=2); the two-GPU split as
``groups=2`` in conv2, conv4 and conv5 (conv3 and the FC layers see both halves); dropout
0.5 on the outputs of the two hidden FC layers ("setting to zero the output of each hidden
neuron"); weights N(0, 0.01), biases 1 in conv2/4/5 and the hidden FC layers, 0 elsewhere.
Conv1 uses padding 2 so a 224 input gives the paper's 55x55 maps (as a 227 input would).

``input_size`` (the side of a square input) sets the flatten size, so reduced resolutions
such as 64, 96 or 112 work.
"""
from .. import nn
from ..geometry import conv_output_size


class AlexNet(nn.Sequential):
    """AlexNet as a flat Sequential (see the module docstring for the two variants)."""

    def __init__(self, num_classes=10, in_channels=1, input_size=224, variant="d2l"):
        if variant not in _VARIANTS:
            raise ValueError(f"alexnet: variant must be 'd2l' or 'paper', got {variant!r}")
        build_layers, final_side = _VARIANTS[variant]
        side = final_side(input_size)
        if side < 1:
            smallest = next(n for n in range(input_size, 1024) if final_side(n) >= 1)
            raise ValueError(f"alexnet({variant}): input_size {input_size} is too small: nothing is left after "
                             f"the last max-pool; the smallest that works is {smallest}")
        layers = build_layers(in_channels)
        layers += [nn.Flatten(),
                   nn.Linear(256 * side * side, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
                   nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
                   nn.Linear(4096, num_classes)]
        super().__init__(*layers)
        self.variant = variant
        if variant == "paper":
            _paper_init(self)

    def extra_repr(self):
        return f"variant={self.variant!r}"


def _final_side(input_size, conv1_padding):
    """Side of the last pooled map: conv1 (11x11, stride 4), then three 3x3/2 max-pools
    (conv2..conv5 keep the size)."""
    side = conv_output_size(input_size, 11, 4, conv1_padding)
    for _ in range(3):
        side = conv_output_size(side, 3, 2)
    return side


def _d2l_layers(in_channels):
    return [nn.Conv2d(in_channels, 96, 11, stride=4, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, stride=2),
            nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, stride=2),
            nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, stride=2)]


def _lrn():
    return nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0, alpha_scaling="paper")


def _paper_layers(in_channels):
    return [nn.Conv2d(in_channels, 96, 11, stride=4, padding=2), nn.ReLU(inplace=True), _lrn(), nn.MaxPool2d(3, stride=2),
            nn.Conv2d(96, 256, 5, padding=2, groups=2), nn.ReLU(inplace=True), _lrn(), nn.MaxPool2d(3, stride=2),
            nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 384, 3, padding=1, groups=2), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, 3, padding=1, groups=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, stride=2)]


_VARIANTS = {"d2l": (_d2l_layers, lambda size: _final_side(size, conv1_padding=1)),
             "paper": (_paper_layers, lambda size: _final_side(size, conv1_padding=2))}


def _paper_init(model):
    """N(0, 0.01) weights; bias 1 in conv2, conv4, conv5 and the two hidden FC layers (it gives
    the ReLUs positive inputs early on), 0 in conv1, conv3 and the output layer."""
    convs = [m for m in model if isinstance(m, nn.Conv2d)]
    linears = [m for m in model if isinstance(m, nn.Linear)]
    ones = {id(convs[1]), id(convs[3]), id(convs[4]), id(linears[0]), id(linears[1])}
    for m in convs + linears:
        nn.init.normal_(m.weight, 0.0, 0.01)
        nn.init.constant_(m.bias, 1.0 if id(m) in ones else 0.0)


def alexnet(num_classes=10, in_channels=1, input_size=224, variant="d2l"):
    """AlexNet; ``variant="d2l"`` is the seed's network, ``"paper"`` the 2012 one."""
    return AlexNet(num_classes, in_channels, input_size, variant)
