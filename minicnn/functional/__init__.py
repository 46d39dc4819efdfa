"""Differentiable ops: each is a Function (forward + backward side by side) and a
lowercase wrapper, which is what users call."""
from .array import broadcast_to, concatenate, flatten, getitem, pad, reshape, stack, transpose
from .math import (add, cast, clip, div, exp, log, matmul, max, mean, mul, neg, pow, sqrt, sub,
                   sum)
from .conv import conv2d
from .pooling import adaptive_avg_pool2d, avg_pool2d, global_avg_pool2d, max_pool2d
