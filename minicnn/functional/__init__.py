"""Differentiable ops: each is a Function (forward + backward side by side) and a
lowercase wrapper, which is what users call."""
from .array import broadcast_to, concatenate, flatten, getitem, pad, reshape, stack, transpose
from .math import (add, cast, clip, div, exp, log, matmul, max, mean, mul, neg, pow, sqrt, sub,
                   sum)
from .activation import log_softmax, relu, sigmoid, softmax, tanh
from .dropout import dropout
from .linear import linear
from .loss import cross_entropy, mse_loss, nll_loss
from .normalization import batch_norm, local_response_norm
from .conv import conv2d, conv2d_reference
from .pooling import adaptive_avg_pool2d, avg_pool2d, global_avg_pool2d, max_pool2d
