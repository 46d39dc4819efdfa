"""Window geometry, in one place: output sizes, (h, w) pairs, window checks, window enumeration.

Convolution and pooling slide a kh×kw window (dilated by d, stepped by s) over an input
padded by p. Everything about where those windows fall is here, used by the conv and
pooling ops, their kernels' NumPy references, the model builders and ``summary``.

    Ho = floor((H + 2p - d*(k-1) - 1) / s) + 1        (PyTorch's rule; ceil with ceil_mode,
                                                        never a window that starts in the right padding)

Derivations and worked examples: docs/convolution.md, docs/pooling.md
"""
import numbers

import numpy as np


def pair(value, what="value", op="op"):
    """An int or a pair of ints -> (int, int), else a TypeError naming the op and argument."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value):
        return int(value[0]), int(value[1])
    raise TypeError(f"{op}: {what} must be an int or a pair of ints, got {value!r}")


def shape_tuple(value, what="shape", op="op", example="(1, 28, 28)"):
    """A tuple/list of positive ints -> tuple of ints, else TypeError (not a sequence of ints)
    or ValueError (a size below 1), naming the op, the argument, an example and what came."""
    if not isinstance(value, (tuple, list)) or not all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value):
        raise TypeError(f"{op}: expected {what} as a tuple of ints such as {example}, "
                        f"got {type(value).__name__} {value!r}")
    shape = tuple(int(v) for v in value)
    if not shape or min(shape) < 1:
        raise ValueError(f"{op}: expected {what} of positive sizes such as {example}, got {shape}")
    return shape


def conv_output_size(size, kernel, stride=1, padding=0, dilation=1, ceil_mode=False):
    """The number of windows along one axis: floor((size + 2p - d*(k-1) - 1) / s) + 1.

    With ``ceil_mode`` the division rounds up, but a window may not start in the right
    padding: if the last window would start at or past ``size + padding`` it is dropped.
    A window larger than the padded input gives 0.
    """
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if span < 0:
        return 0
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    if (out - 1) * stride >= size + padding:
        out -= 1
    return out


def output_hw(x_hw, kernel, stride, padding, dilation=(1, 1), ceil_mode=False):
    """(Ho, Wo) for an (H, W) input and (h, w) pairs of window arguments."""
    return tuple(conv_output_size(size, k, s, p, d, ceil_mode)
                 for size, k, s, p, d in zip(x_hw, kernel, stride, padding, dilation))


def window_offsets(kernel, stride, dilation, out_hw):
    """(i, j, rows, cols) for each kernel offset (i, j), in row-major (i, j) order: the strided
    slices of the *padded* input that this offset sees across all Ho×Wo windows.

    This one enumeration is im2col (``cols[c, i, j] = x_padded[:, c, rows, cols]``) and, with a
    max or a sum over (i, j), pooling.
    """
    (kh, kw), (sh, sw), (dh, dw), (Ho, Wo) = kernel, stride, dilation, out_hw
    for i in range(kh):
        for j in range(kw):
            yield (i, j, slice(i * dh, i * dh + sh * (Ho - 1) + 1, sh),
                   slice(j * dw, j * dw + sw * (Wo - 1) + 1, sw))


# --- checks (the messages name the op, what was expected and what came) -----------------------
def check_window_args(op, kernel, stride, padding, dilation=(1, 1)):
    """kernel, stride and dilation positive, padding non-negative (each an (h, w) pair)."""
    for name, value, least in (("kernel_size", kernel, 1), ("stride", stride, 1),
                               ("dilation", dilation, 1), ("padding", padding, 0)):
        if min(value) < least:
            need = "positive" if least else "non-negative"
            raise ValueError(f"{op}: {name} must be {need}, got {tuple(value)}")


def check_input_4d(op, shape):
    if len(shape) != 4:
        raise ValueError(f"{op}: expected a 4-D input (N, C, H, W), got shape {tuple(shape)}")


def check_pool_padding(op, kernel, padding):
    """Pooling pads at most half a window (PyTorch's rule: otherwise a window could see only padding)."""
    if any(2 * p > k for k, p in zip(kernel, padding)):
        raise ValueError(f"{op}: padding must be at most half the kernel size, got padding "
                         f"{tuple(padding)} for kernel {tuple(kernel)}")


def check_fits(op, x_shape, kernel, padding, dilation=(1, 1)):
    """The dilated window fits in the padded input (else there is no output position)."""
    H, W = x_shape[2:]
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    padded = (H + 2 * padding[0], W + 2 * padding[1])
    if span[0] > padded[0] or span[1] > padded[1]:
        raise ValueError(f"{op}: kernel {tuple(kernel)} (dilation {tuple(dilation)}, span {span}) is larger "
                         f"than the padded input {padded} (input {(H, W)}, padding {tuple(padding)})")


def pool_output_hw(op, x_shape, kernel, stride, padding, dilation=(1, 1), ceil_mode=False):
    """Check a pooling window against a 4-D input shape and return (Ho, Wo)."""
    check_input_4d(op, x_shape)
    check_window_args(op, kernel, stride, padding, dilation)
    check_pool_padding(op, kernel, padding)
    check_fits(op, x_shape, kernel, padding, dilation)
    return output_hw(x_shape[2:], kernel, stride, padding, dilation, ceil_mode)


def adaptive_bins(size, out):
    """PyTorch's adaptive bins: [floor(i*size/out), ceil((i+1)*size/out)) for i < out."""
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


def avg_pool_divisor(x_hw, kernel, stride, padding, out_hw, count_include_pad, divisor_override=None):
    """(Ho, Wo) NumPy array of the number each window's sum is divided by (PyTorch's rule).

    A window is first clipped to the padded input [−p, size + p) — the ceil_mode overhang
    never counts — giving the size with padding; ``count_include_pad=False`` clips it
    further to the input [0, size).
    """
    if divisor_override is not None:
        return np.full(out_hw, float(divisor_override))
    lengths = []
    for size, k, s, p, out in zip(x_hw, kernel, stride, padding, out_hw):
        start = np.arange(out) * s - p
        end = np.minimum(start + k, size + p)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, size)
        lengths.append(end - start)
    return np.outer(lengths[0], lengths[1]).astype(np.float64)
