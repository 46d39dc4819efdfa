"""Settings that pick how an op is computed, not what it computes (the role of torch.backends).

    mc.backends.conv.algorithm = "auto" | "im2col" | "winograd"
    mc.backends.conv.benchmark = False       # True: time the candidates once per shape, keep the winner

See :mod:`minicnn.backends.convolution`.
"""
from .convolution import ConvBackend

conv = ConvBackend()

__all__ = ["conv", "ConvBackend"]
