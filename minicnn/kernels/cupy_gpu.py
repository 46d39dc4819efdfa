"""GPU kernels for CuPy arrays: im2col, col2im, max-pool and LRN forward/backward.

Same signatures and results as the NumPy references (``kernels/im2col_reference.py``,
``kernels/pooling.py``, ``kernels/lrn.py``); the kernel seam (``kernels/dispatch.py``)
routes CuPy arrays here. GEMMs are not here: ``cupy.matmul`` (cuBLAS) does them.

Why hand-written kernels: the references build each result from kh*kw strided slices
(im2col) or windows of views (pooling), which on a GPU is kh*kw small kernel launches
plus temporaries. One thread per output element does the same work in one launch.

How they run: the device code (``cuda_kernels.py``) is written with ``numba.cuda`` and
launched on CuPy arrays through ``__cuda_array_interface__``, on CuPy's current stream,
so it orders correctly with CuPy's own kernels and cuBLAS calls (no host sync). The
same code runs on NumPy arrays in Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``),
which is how the tests check it on machines without a GPU.

float16 (mixed precision): im2col moves raw 16-bit values (a uint16 view: a pure copy, the
zero padding is +0.0); the kernels that add or compare compute in float32 and round the
result back to float16.
"""
import math

import numpy as np

from ..backend import get_array_module, is_cupy_array
from ..geometry import conv_output_size

# Launch shape of the grid-stride loops. Correct for any values (tests shrink them).
threads_per_block = 256
max_blocks = 1 << 16

_kernels = None
_streams = {}


def _cuda():
    """numba.cuda and the compiled kernels, imported on first use only."""
    global _kernels
    if _kernels is None:
        from . import cuda_kernels
        _kernels = cuda_kernels
    return _kernels


def simulator_enabled():
    """True when Numba's CUDA simulator is on (kernels then run on NumPy arrays)."""
    import os
    return os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")


def _check_device(op, *arrays):
    """CuPy arrays only (NumPy arrays too in the simulator), checked before numba.cuda loads."""
    on_numpy = simulator_enabled()
    for a in arrays:
        if not (is_cupy_array(a) or (on_numpy and isinstance(a, np.ndarray))):
            raise TypeError(f"cupy_gpu.{op}: expected a CuPy array, got {type(a).__module__}."
                            f"{type(a).__name__}; NumPy arrays take the CPU kernels "
                            f"(or set NUMBA_ENABLE_CUDASIM=1 to run these in Numba's simulator)")


def _device_args(arrays):
    """CuPy arrays -> Numba device views, without the stream sync Numba would do by default."""
    if not is_cupy_array(arrays[0]):
        return arrays
    from numba import cuda
    return [cuda.as_cuda_array(a, sync=False) for a in arrays]


def _stream(array):
    """The Numba stream wrapping CuPy's current stream (0 = default, also in the simulator)."""
    if not is_cupy_array(array):
        return 0
    import cupy
    from numba import cuda
    ptr = cupy.cuda.get_current_stream().ptr
    if ptr == 0:
        return 0
    if ptr not in _streams:
        _streams[ptr] = cuda.external_stream(ptr)
    return _streams[ptr]


def _launch(kernel_name, n_items, arrays, scalars):
    if n_items == 0:
        return
    kernel = getattr(_cuda(), kernel_name)
    blocks = max(1, min(math.ceil(n_items / threads_per_block), max_blocks))
    stream = _stream(arrays[0])
    device_arrays = _device_args(arrays)
    if is_cupy_array(arrays[0]) and arrays[0].device.id != 0:
        from numba import cuda
        with cuda.gpus[arrays[0].device.id]:
            kernel[blocks, threads_per_block, stream](*device_arrays, *scalars)
    else:
        kernel[blocks, threads_per_block, stream](*device_arrays, *scalars)


def _pairs(*values):
    return [tuple(int(u) for u in v) if isinstance(v, (tuple, list)) else (int(v), int(v)) for v in values]


def _compute_dtype(dtype):
    """float16 is added and compared in float32; float32/float64 as they are."""
    return np.dtype(np.float32) if dtype == np.float16 else np.dtype(dtype)


def _check_input(op, name, array, ndim):
    _check_device(op, array)
    if array.ndim != ndim:
        raise ValueError(f"cupy_gpu.{op}: expected {name} with {ndim} dims, got shape {tuple(array.shape)}")


# --- convolution: im2col / col2im ----------------------------------------------------
def im2col(x, kernel, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """x (N, C, H, W) -> cols (C*kh*kw, N*Ho*Wo); layout as in ``kernels/im2col_reference.py``."""
    _check_input("im2col", "x", x, 4)
    xp = get_array_module(x)
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = _pairs(kernel, stride, padding, dilation)
    n, c, h, w = x.shape
    out_h, out_w = conv_output_size(h, kh, sh, ph, dh), conv_output_size(w, kw, sw, pw, dw)
    cols = xp.empty((c * kh * kw, n * out_h * out_w), dtype=x.dtype)
    source, target = xp.ascontiguousarray(x), cols
    if x.dtype == np.float16:   # a copy moves bits: do it on uint16, the device has no half loads to worry about
        source, target = source.view(np.uint16), cols.view(np.uint16)
    _launch("im2col_kernel", cols.size, [source, target],
            (kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w))
    return cols


def col2im(cols, x_shape, kernel, stride=(1, 1), padding=(0, 0), dilation=(1, 1), out=None):
    """cols (C*kh*kw, N*Ho*Wo) -> dx (N, C, H, W), the adjoint of :func:`im2col`; written
    into ``out`` (any strides, e.g. one group's channel slice) when given."""
    _check_input("col2im", "cols", cols, 2)
    xp = get_array_module(cols)
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = _pairs(kernel, stride, padding, dilation)
    n, c, h, w = (int(v) for v in x_shape)
    out_h, out_w = conv_output_size(h, kh, sh, ph, dh), conv_output_size(w, kw, sw, pw, dw)
    if cols.shape != (c * kh * kw, n * out_h * out_w):
        raise ValueError(f"cupy_gpu.col2im: expected cols of shape {(c * kh * kw, n * out_h * out_w)} "
                         f"for x_shape {tuple(x_shape)}, got {tuple(cols.shape)}")
    if out is not None and tuple(out.shape) != (n, c, h, w):
        raise ValueError(f"cupy_gpu.col2im: out has shape {tuple(out.shape)}, expected {(n, c, h, w)}")
    dtype = _compute_dtype(cols.dtype)
    cols_c = xp.ascontiguousarray(cols.astype(dtype, copy=False))
    direct = out is not None and out.dtype == dtype and out.flags.c_contiguous
    if direct:
        _check_device("col2im", out)
    dx = out if direct else xp.empty((n, c, h, w), dtype=dtype)
    _launch("col2im_kernel", dx.size, [cols_c, dx],
            (kh, kw, sh, sw, ph, pw, dh, dw, out_h, out_w, dtype.type(0)))
    if direct:
        return out
    if out is not None:
        out[...] = dx
        return out
    return dx.astype(cols.dtype, copy=False)


# --- max pooling -----------------------------------------------------------------------
def maxpool_forward(x, kernel, stride, padding, dilation, out_hw):
    """x (N, C, H, W) -> y (N, C, Ho, Wo), argmax (N, C, Ho, Wo) int32 = h*W + w of the max
    in its unpadded plane (PyTorch's ``return_indices``); ``out_hw`` from the caller's
    output-size rule (ceil_mode included), as in ``kernels/pooling.py``."""
    _check_input("maxpool_forward", "x", x, 4)
    xp = get_array_module(x)
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (out_h, out_w) = _pairs(kernel, stride, padding, dilation, out_hw)
    dtype = _compute_dtype(x.dtype)
    x_c = xp.ascontiguousarray(x.astype(dtype, copy=False))
    y = xp.empty((x.shape[0], x.shape[1], out_h, out_w), dtype=dtype)
    argmax = xp.empty(y.shape, dtype=np.int32)   # h*W + w < 2**31; half the memory of int64
    _launch("maxpool_forward_kernel", y.size, [x_c, y, argmax], (kh, kw, sh, sw, ph, pw, dh, dw))
    return y.astype(x.dtype, copy=False), argmax


def maxpool_backward(gy, argmax, x_shape):
    """gy, argmax (N, C, Ho, Wo) -> gx (N, C, H, W): gx.flat[argmax] += gy per plane."""
    _check_input("maxpool_backward", "gy", gy, 4)
    _check_device("maxpool_backward", argmax)
    if argmax.shape != gy.shape:
        raise ValueError(f"cupy_gpu.maxpool_backward: argmax shape {tuple(argmax.shape)} "
                         f"!= gy shape {tuple(gy.shape)}")
    xp = get_array_module(gy)
    n, c, h, w = (int(v) for v in x_shape)
    dtype = _compute_dtype(gy.dtype)
    gx = xp.zeros((n, c, h * w), dtype=dtype)
    gy_c = xp.ascontiguousarray(gy.astype(dtype, copy=False))
    _launch("maxpool_backward_kernel", gy.size, [gy_c, xp.ascontiguousarray(argmax), gx], ())
    return gx.reshape(n, c, h, w).astype(gy.dtype, copy=False)


# --- local response normalisation --------------------------------------------------------
def lrn_forward(x, size, alpha, beta, k):
    """x (N, C, S) -> (y, s), both (N, C, S); ``alpha`` is the effective alpha
    (alpha/size for alpha_scaling="pytorch", alpha for "paper"), as in ``kernels/lrn.py``."""
    _check_input("lrn_forward", "x", x, 3)
    xp = get_array_module(x)
    dtype = _compute_dtype(x.dtype)
    cast = dtype.type
    x_c = xp.ascontiguousarray(x.astype(dtype, copy=False))
    y, s = xp.empty(x.shape, dtype=dtype), xp.empty(x.shape, dtype=dtype)
    _launch("lrn_forward_kernel", x.size, [x_c, y, s],
            (size // 2, (size - 1) // 2, cast(alpha), cast(-beta), cast(k), cast(0)))
    return y.astype(x.dtype, copy=False), s.astype(x.dtype, copy=False)


def lrn_backward(x, s, gy, size, alpha, beta):
    """gx (N, C, S) from the saved x, s and the output grad gy (formula in ``kernels/lrn.py``)."""
    _check_input("lrn_backward", "x", x, 3)
    if not (x.shape == s.shape == gy.shape):
        raise ValueError(f"cupy_gpu.lrn_backward: x, s and gy must share a shape, got "
                         f"{tuple(x.shape)}, {tuple(s.shape)}, {tuple(gy.shape)}")
    _check_device("lrn_backward", s, gy)
    xp = get_array_module(x)
    dtype = _compute_dtype(x.dtype)
    cast = dtype.type
    x_c, s_c, gy_c = (xp.ascontiguousarray(a.astype(dtype, copy=False)) for a in (x, s, gy))
    gx = xp.empty(x.shape, dtype=dtype)
    _launch("lrn_backward_kernel", x.size, [x_c, s_c, gy_c, gx],
            ((size - 1) // 2, size // 2, cast(2 * beta * alpha), cast(-beta), cast(0)))
    return gx.astype(x.dtype, copy=False)
