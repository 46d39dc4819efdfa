"""Ops that move values without computing new ones: reshape, transpose, indexing,
concatenate, stack, pad, broadcast. Each backward puts the gradient back where the value came from."""
import numbers

import numpy as np

from ..backend import get_array_module, scatter_add
from ..function import Function, broadcast_shapes, unbroadcast


class Reshape(Function):
    """y = x viewed with a new shape.  Backward: gy reshaped to x's shape."""
    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        self.x_shape = x.shape
        try:
            return x.reshape(self.shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape an input of shape {x.shape} "
                             f"({x.size} elements) into {self.shape}") from None

    def backward(self, gy):
        return gy.reshape(self.x_shape)


class Transpose(Function):
    """y = x with axes permuted.  Backward: gy with the inverse permutation."""
    def __init__(self, axes):
        self.axes = None if axes is None else tuple(axes)

    def forward(self, x):
        axes = tuple(reversed(range(x.ndim))) if self.axes is None else self.axes
        if sorted(a % max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
            raise ValueError(f"transpose: axes {axes} are not a permutation of an input "
                             f"of shape {x.shape}")
        self.axes = axes
        return x.transpose(axes)

    def backward(self, gy):
        return gy.transpose(tuple(np.argsort([a % gy.ndim for a in self.axes])))


def _is_basic_index(index):
    """Slices, ints, None and Ellipsis select each element at most once."""
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (slice, numbers.Integral, type(None), type(Ellipsis))) for i in items)


class GetItem(Function):
    """y = x[index].  Backward: gy scattered into zeros at ``index`` (summed where an
    advanced index repeats a position)."""
    def __init__(self, index):
        self.index = index

    def forward(self, x):
        self.x_shape, self.x_dtype = x.shape, x.dtype
        try:
            return x[self.index]
        except IndexError as e:
            raise IndexError(f"getitem: index {self.index!r} is invalid for shape {x.shape}: {e}") from None

    def backward(self, gy):
        xp = get_array_module(gy)
        gx = xp.zeros(self.x_shape, dtype=gy.dtype)
        if _is_basic_index(self.index):
            gx[self.index] = gy
        else:
            scatter_add(gx, self.index, gy)
        return gx


class BroadcastTo(Function):
    """y = x repeated to ``shape``.  Backward: gy summed over the repeated axes."""
    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        xp = get_array_module(x)
        self.x_shape = x.shape
        if broadcast_shapes("broadcast_to", x.shape, self.shape) != self.shape:
            raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {self.shape}")
        return xp.broadcast_to(x, self.shape)

    def backward(self, gy):
        return unbroadcast(gy, self.x_shape)


def _check_same_shapes(op, arrays, axis, ignore_axis):
    if not arrays:
        raise ValueError(f"{op}: expected at least one tensor, got none")
    first = arrays[0].shape
    for a in arrays[1:]:
        if len(a.shape) != len(first) or any(
                m != n for i, (m, n) in enumerate(zip(a.shape, first)) if not (ignore_axis and i == axis % len(first))):
            raise ValueError(f"{op}: all inputs must have the same shape"
                             f"{' except along axis %d' % axis if ignore_axis else ''}; "
                             f"got {[x.shape for x in arrays]}")


class Concatenate(Function):
    """y = inputs joined along ``axis``.  Backward: gy split back into the input sizes."""
    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        xp = get_array_module(*xs)
        _check_same_shapes("concatenate", xs, self.axis, ignore_axis=True)
        self.sizes = [x.shape[self.axis] for x in xs]
        return xp.concatenate(xs, axis=self.axis)

    def backward(self, gy):
        xp = get_array_module(gy)
        return tuple(xp.split(gy, np.cumsum(self.sizes)[:-1].tolist(), axis=self.axis))


class Stack(Function):
    """y = inputs stacked along a new ``axis``.  Backward: gy unstacked along it."""
    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        xp = get_array_module(*xs)
        _check_same_shapes("stack", xs, self.axis, ignore_axis=False)
        return xp.stack(xs, axis=self.axis)

    def backward(self, gy):
        xp = get_array_module(gy)
        return tuple(xp.moveaxis(gy, self.axis, 0))


class Pad(Function):
    """y = x with ``constant`` borders; ``pad_width`` as in numpy.pad.  Backward: the
    interior of gy (the borders are constants)."""
    def __init__(self, pad_width, value):
        self.pad_width, self.value = pad_width, value

    def forward(self, x):
        xp = get_array_module(x)
        width = np.zeros((x.ndim, 2), dtype=np.int64)
        try:
            width[:] = np.asarray(self.pad_width, dtype=np.int64)  # int, (lo, hi) or one pair per axis
        except ValueError:
            raise ValueError(f"pad: pad_width {self.pad_width} does not fit an input of shape {x.shape}") from None
        if (width < 0).any():
            raise ValueError(f"pad: pad widths must be >= 0; got {self.pad_width}")
        self.slices = tuple(slice(lo, lo + n) for (lo, _), n in zip(width.tolist(), x.shape))
        return xp.pad(x, width.tolist(), mode="constant", constant_values=self.value)

    def backward(self, gy):
        return gy[self.slices]


def reshape(x, shape): return Reshape(shape)(x)
def transpose(x, axes=None): return Transpose(axes)(x)
def getitem(x, index): return GetItem(index)(x)
def broadcast_to(x, shape): return BroadcastTo(shape)(x)
def concatenate(tensors, axis=0): return Concatenate(axis)(*tensors)
def stack(tensors, axis=0): return Stack(axis)(*tensors)
def pad(x, pad_width, value=0.0): return Pad(pad_width, value)(x)


def flatten(x, start_dim=1):
    """(N, d1, d2, ...) -> (N, d1*d2*...): keeps the first ``start_dim`` axes."""
    return reshape(x, x.shape[:start_dim] + (-1,))
