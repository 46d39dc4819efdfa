"""2-D convolution by im2col + GEMM.

Shapes: x (N, C, H, W), weight (O, C/g, kh, kw), bias (O,), y (N, O, Ho, Wo) with
Ho = floor((H + 2ph - dh*(kh-1) - 1) / sh) + 1 (the same for W).

Forward, per group g (rows R_g of cols, output channels O_g):
    cols = im2col(x)                         (C*kh*kw, N*Ho*Wo)
    Y[O_g] = W_g (O/g, R) @ cols[R_g]        (O, N*Ho*Wo), one GEMM per group
    y = Y as (N, O, Ho, Wo) + b              one transposing copy
Backward (gy = dL/dy, viewed as gY (O, N*Ho*Wo)): y = W·cols is linear in both, so
    dW_g = gY[O_g] @ cols[R_g]^T             (one GEMM per group)
    db   = gy summed over n, oh, ow
    dx   = col2im(dcols), dcols[R_g] = W_g^T @ gY[O_g]
because col2im is the adjoint of im2col: ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩ for all x, c,
so dL/dx = im2col^T(dL/dcols). The input gradient (a GEMM and a col2im) is skipped when x
needs no grad, as for the first layer of a network.

Speed (NumPy): Numba im2col/col2im, a few large GEMMs rather than one per sample, and the
big temporaries reused across steps through ``workspace`` (see :class:`Workspace`).

Derivations and worked examples: docs/convolution.md
"""
import numbers

import numpy as np

from .. import kernels
from ..backend import get_array_module, is_cupy_array
from ..function import Function
from ..kernels import im2col as ref
from ..kernels.im2col import conv_output_size


CHUNK_BYTES = 256 << 20   # bounds dcols of the input gradient (a few big GEMMs beat many small ones)


class Workspace:
    """Reuses conv2d's big NumPy temporaries (cols, the GEMM output, dcols, gY) across steps.

    glibc hands blocks of more than a few MB back to the OS when they are freed, so a fresh
    100+ MB array is paid again in page faults at first touch, every step; for AlexNet b64
    that was a third of the step time. Arrays come back here after their last use and the
    next take() of the same shape and dtype gets one. Only plain, unshared NumPy arrays of at
    least ``min_bytes`` are kept, at most ``max_bytes`` in all; CuPy has its own pool.
    """

    def __init__(self, max_bytes=2 << 30, min_bytes=1 << 20):
        self.max_bytes, self.min_bytes = max_bytes, min_bytes
        self._free, self._bytes = {}, 0

    def take(self, xp, shape, dtype):
        shape, dtype = tuple(shape), np.dtype(dtype)
        free = self._free.get((shape, dtype.str)) if xp is np else None
        if free:
            array = free.pop()
            self._bytes -= array.nbytes
            return array
        return xp.empty(shape, dtype=dtype)

    def give(self, array):
        if (type(array) is not np.ndarray or array.base is not None or array.nbytes < self.min_bytes
                or self._bytes + array.nbytes > self.max_bytes):
            return
        self._free.setdefault((array.shape, array.dtype.str), []).append(array)
        self._bytes += array.nbytes

    def clear(self):
        """Drop every kept buffer (memory goes back to the OS)."""
        self._free, self._bytes = {}, 0


workspace = Workspace()


def _pair(value, what, op):
    """An int or a pair of ints -> (int, int), else TypeError naming the op."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value):
        return int(value[0]), int(value[1])
    raise TypeError(f"{op}: {what} must be an int or a pair of ints, got {value!r}")


def check_window_args(op, kernel, stride, padding, dilation=(1, 1)):
    for name, value, least in (("kernel_size", kernel, 1), ("stride", stride, 1),
                               ("dilation", dilation, 1), ("padding", padding, 0)):
        if min(value) < least:
            need = "positive" if least else "non-negative"
            raise ValueError(f"{op}: {name} must be {need}, got {value}")


def check_input_4d(op, shape):
    if len(shape) != 4:
        raise ValueError(f"{op}: expected a 4-D input (N, C, H, W), got shape {tuple(shape)}")


def check_fits(op, x_shape, kernel, padding, dilation):
    H, W = x_shape[2:]
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    padded = (H + 2 * padding[0], W + 2 * padding[1])
    if span[0] > padded[0] or span[1] > padded[1]:
        raise ValueError(f"{op}: kernel {tuple(kernel)} (dilation {tuple(dilation)}, span {span}) is larger "
                         f"than the padded input {padded} (input {(H, W)}, padding {tuple(padding)})")


def im2col(x, kernel, stride, padding, dilation):
    """cols (C*kh*kw, N*Ho*Wo) by the kernel for x: CUDA for CuPy, Numba when
    ``kernels.use_numba(x)``, else the NumPy reference."""
    if is_cupy_array(x):
        from ..kernels import cupy_gpu
        return cupy_gpu.im2col(x, kernel, stride, padding, dilation)
    if not kernels.use_numba(x):
        return ref.im2col(x, kernel, stride, padding, dilation)
    from ..kernels import numba_cpu
    N, C, H, W = x.shape
    Ho = conv_output_size(H, kernel[0], stride[0], padding[0], dilation[0])
    Wo = conv_output_size(W, kernel[1], stride[1], padding[1], dilation[1])
    cols = workspace.take(np, (C * kernel[0] * kernel[1], N * Ho * Wo), x.dtype)
    return numba_cpu.im2col(np.ascontiguousarray(x), *kernel, *stride, *padding, *dilation, Ho, Wo, cols)


def col2im(cols, x_shape, kernel, stride, padding, dilation, out=None):
    """The adjoint of :func:`im2col`, by the chosen kernel: dx (N, C, H, W) (into ``out`` if given)."""
    if is_cupy_array(cols):
        from ..kernels import cupy_gpu
        return cupy_gpu.col2im(cols, x_shape, kernel, stride, padding, dilation, out=out)
    if not kernels.use_numba(cols):
        dx = ref.col2im(cols, x_shape, kernel, stride, padding, dilation)
        if out is None:
            return dx
        out[...] = dx
        return out
    from ..kernels import numba_cpu
    N, C, H, W = x_shape
    Ho = conv_output_size(H, kernel[0], stride[0], padding[0], dilation[0])
    Wo = conv_output_size(W, kernel[1], stride[1], padding[1], dilation[1])
    import numpy as np
    dx = np.empty(x_shape, dtype=cols.dtype) if out is None else out
    return numba_cpu.col2im(cols, *kernel, *stride, *padding, *dilation, Ho, Wo, dx)


class Conv2d(Function):
    """y = conv(x, W) + b by im2col + GEMM; see the module docstring for the backward."""

    def __init__(self, stride=1, padding=0, dilation=1, groups=1, name="conv2d"):
        self.stride = _pair(stride, "stride", name)
        self.padding = _pair(padding, "padding", name)
        self.dilation = _pair(dilation, "dilation", name)
        if not isinstance(groups, numbers.Integral) or groups < 1:
            raise ValueError(f"{name}: groups must be a positive int, got {groups!r}")
        self.groups, self.name = int(groups), name

    def _check(self, x, weight, bias):
        op, g = self.name, self.groups
        if weight.ndim != 4:
            raise ValueError(f"{op}: expected a 4-D weight (out_channels, in_channels/groups, kh, kw), "
                             f"got shape {weight.shape}")
        O, Cg, kh, kw = weight.shape
        check_input_4d(op, x.shape)
        check_window_args(op, (kh, kw), self.stride, self.padding, self.dilation)
        if O % g:
            raise ValueError(f"{op}: groups={g} must divide out_channels={O}")
        if x.shape[1] != Cg * g:
            raise ValueError(f"{op}: expected input (N, {Cg * g}, H, W), got {tuple(x.shape)}")
        if bias is not None and bias.shape != (O,):
            raise ValueError(f"{op}: expected bias of shape ({O},), got {tuple(bias.shape)}")
        if x.dtype != weight.dtype or (bias is not None and bias.dtype != weight.dtype):
            raise TypeError(f"{op}: input dtype {x.dtype} must equal weight dtype {weight.dtype}"
                            + ("" if bias is None else f" and bias dtype {bias.dtype}"))
        check_fits(op, x.shape, (kh, kw), self.padding, self.dilation)

    def forward(self, x, weight, bias=None):
        self._check(x, weight, bias)
        xp = get_array_module(x)
        N, C, H, W = x.shape
        O, Cg, kh, kw = weight.shape
        g, kernel = self.groups, (kh, kw)
        Ho = conv_output_size(H, kh, self.stride[0], self.padding[0], self.dilation[0])
        Wo = conv_output_size(W, kw, self.stride[1], self.padding[1], self.dilation[1])
        cols = im2col(x, kernel, self.stride, self.padding, self.dilation)
        R, Og, P = Cg * kh * kw, O // g, Ho * Wo
        # One large GEMM per group into (O, N*Ho*Wo), then one copy to NCHW: on few cores a
        # few big BLAS calls beat N per-sample calls (measured 3-4x less CPU under load).
        y_cols = workspace.take(xp, (O, N * P), x.dtype)
        for k in range(g):
            xp.matmul(weight[k * Og:(k + 1) * Og].reshape(Og, R), cols[k * R:(k + 1) * R], out=y_cols[k * Og:(k + 1) * Og])
        if kernels.use_numba(y_cols):
            from ..kernels import numba_cpu
            y = numba_cpu.gemm_output_to_nchw(y_cols, xp.zeros(O, x.dtype) if bias is None else bias,
                                              xp.empty((N, O, P), dtype=x.dtype))
        else:
            y = xp.ascontiguousarray(y_cols.reshape(O, N, P).transpose(1, 0, 2))
            if bias is not None:
                y += bias.reshape(1, O, 1)
        workspace.give(y_cols)
        needs_x, needs_w = self.needs_input_grad[0], self.needs_input_grad[1]
        self.x_shape, self.kernel = x.shape, kernel
        self.cols = cols if needs_w else None
        if not needs_w:
            workspace.give(cols)
        self.weight = weight if needs_x else None
        return y.reshape(N, O, Ho, Wo)

    def backward(self, gy):
        xp = get_array_module(gy)
        N, O, Ho, Wo = gy.shape
        C, g = self.x_shape[1], self.groups
        Og, R = O // g, C // g * self.kernel[0] * self.kernel[1]
        # gY (O, N*Ho*Wo): the layout of cols' columns, so both GEMMs are plain 2-D products
        gY = workspace.take(xp, (O, N * Ho * Wo), gy.dtype)
        gb = None
        if kernels.use_numba(gy):
            from ..kernels import numba_cpu
            gb = xp.empty(O, dtype=gy.dtype)
            numba_cpu.nchw_to_gemm_layout(np.ascontiguousarray(gy).reshape(N, O, Ho * Wo), gY, gb)
        else:
            gY.reshape(O, N, Ho * Wo)[...] = gy.reshape(N, O, Ho * Wo).transpose(1, 0, 2)
        gx = gw = None
        if self.needs_input_grad[1]:
            gw = xp.empty((g, Og, R), dtype=gy.dtype)
            for k in range(g):
                # dW_g^T = cols_g @ gY_g^T: the same product, but OpenBLAS is 1.3x (and for
                # conv1's skinny (96, 121) result 10x) faster with the long K axis this way
                gw[k] = xp.matmul(self.cols[k * R:(k + 1) * R], gY[k * Og:(k + 1) * Og].T).T
            gw = gw.reshape(O, C // g, *self.kernel)
            workspace.give(self.cols)                          # before col2im needs memory
            self.cols = None
        if len(self.needs_input_grad) > 2 and self.needs_input_grad[2]:
            gb = gY.sum(axis=1) if gb is None else gb
        else:
            gb = None
        if self.needs_input_grad[0]:
            gx = self._input_grad(gY)
        workspace.give(gY)
        return (gx, gw) if len(self.needs_input_grad) == 2 else (gx, gw, gb)

    def _input_grad(self, gY):
        """dx = col2im(W^T @ gY), in chunks of samples so dcols stays below CHUNK_BYTES."""
        xp = get_array_module(gY)
        N, C, H, W = self.x_shape
        if N == 0:  # an empty batch has an empty gradient
            return xp.zeros(self.x_shape, dtype=gY.dtype)
        g, (kh, kw) = self.groups, self.kernel
        O = self.weight.shape[0]
        Og, R, P = O // g, C // g * kh * kw, gY.shape[1] // N
        weight_t = [xp.ascontiguousarray(self.weight[k * Og:(k + 1) * Og].reshape(Og, R).T) for k in range(g)]
        chunk = max(1, min(N, CHUNK_BYTES // (C * kh * kw * P * gY.itemsize)))
        dcols = workspace.take(xp, (C * kh * kw, chunk * P), gY.dtype)
        gx = xp.empty(self.x_shape, dtype=gY.dtype)
        for n0 in range(0, N, chunk):
            n1 = min(N, n0 + chunk)
            part = dcols[:, :(n1 - n0) * P]
            for k in range(g):
                xp.matmul(weight_t[k], gY[k * Og:(k + 1) * Og, n0 * P:n1 * P], out=part[k * R:(k + 1) * R])
            col2im(part, (n1 - n0, C, H, W), self.kernel, self.stride, self.padding, self.dilation, out=gx[n0:n1])
        workspace.give(dcols)
        return gx


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as PyTorch): x (N, C, H, W), weight (O, C/groups, kh, kw),
    bias (O,) or None -> (N, O, Ho, Wo). ``stride``, ``padding``, ``dilation``: int or (h, w)."""
    return _conv2d(x, weight, bias, stride, padding, dilation, groups, "conv2d")


def _conv2d(x, weight, bias, stride, padding, dilation, groups, name):
    fn = Conv2d(stride, padding, dilation, groups, name=name)
    return fn(x, weight) if bias is None else fn(x, weight, bias)
