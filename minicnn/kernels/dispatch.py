"""The kernel seam: one table, one decision.

Every hot kernel has up to three implementations with one signature, the reference's:

    "numpy"  the readable reference (``im2col_reference.py``, ``pooling.py``, ``lrn.py``, ``layout.py``);
             plain NumPy, and it runs on CuPy arrays too
    "numba"  the Numba loops (``numba_cpu.py``) behind thin adapters (``numba_adapters.py``)
    "cuda"   the CUDA kernels for CuPy arrays (``cupy_gpu.py``; the reference where there is none)

:func:`implementation_for` picks one from the array: a CuPy array takes "cuda"; a NumPy
array takes "numba" when ``set_kernels("numba")`` is in force (the default) and its dtype is
not float16, else "numpy". ``TABLE[kernel][implementation]`` is the function that runs;
``describe()`` prints it. Ops call ``kernels.<kernel>(...)`` and never choose themselves.
"""
import numpy as np

from .. import backend
from . import cupy_gpu, get_kernels, im2col_reference as _im2col, layout as _layout, lrn as _lrn
from . import numba_adapters as _numba, pooling as _pooling
from . import batchnorm as _bn, winograd as _winograd

IMPLEMENTATIONS = ("cuda", "numba", "numpy")


def _entry(numpy, numba=None, cuda=None):
    """A kernel's row: the reference, and the fast versions where they exist."""
    return {"cuda": cuda or numpy, "numba": numba or numpy, "numpy": numpy}


TABLE = {
    "im2col": _entry(_im2col.im2col, _numba.im2col, cupy_gpu.im2col),
    "col2im": _entry(_im2col.col2im, _numba.col2im, cupy_gpu.col2im),
    "gemm_output_to_nchw": _entry(_layout.gemm_output_to_nchw, _numba.gemm_output_to_nchw),
    "nchw_to_gemm_layout": _entry(_layout.nchw_to_gemm_layout, _numba.nchw_to_gemm_layout),
    "maxpool_forward": _entry(_pooling.maxpool_forward, _numba.maxpool_forward, cupy_gpu.maxpool_forward),
    "maxpool_backward": _entry(_pooling.maxpool_backward, _numba.maxpool_backward, cupy_gpu.maxpool_backward),
    "avgpool_forward": _entry(_pooling.avgpool_forward),
    "avgpool_backward": _entry(_pooling.avgpool_backward),
    "lrn_forward": _entry(_lrn.lrn_forward_reference, _numba.lrn_forward, cupy_gpu.lrn_forward),
    "lrn_backward": _entry(_lrn.lrn_backward_reference, _numba.lrn_backward, cupy_gpu.lrn_backward),
    "winograd_transform_tiles": _entry(_winograd.transform_tiles, _numba.winograd_transform_tiles),
    "winograd_untransform_tiles": _entry(_winograd.untransform_tiles, _numba.winograd_untransform_tiles),
    "batch_norm_stats": _entry(_bn.batch_norm_stats, _numba.batch_norm_stats),
    "batch_norm_apply": _entry(_bn.batch_norm_apply, _numba.batch_norm_apply),
    "batch_norm_backward_sums": _entry(_bn.batch_norm_backward_sums, _numba.batch_norm_backward_sums),
    "batch_norm_backward_input": _entry(_bn.batch_norm_backward_input, _numba.batch_norm_backward_input),
}


def implementation_for(array):
    """"cuda", "numba" or "numpy": the implementation that runs for ``array``."""
    if backend.is_cupy_array(array):
        return "cuda"
    if get_kernels() == "numba" and isinstance(array, np.ndarray) and array.dtype != np.float16:
        return "numba"
    return "numpy"


def register(kernel, numpy, numba=None, cuda=None):
    """Add a kernel to the seam (reference required; the fast versions fall back to it)."""
    TABLE[kernel] = _entry(numpy, numba, cuda)


def describe():
    """{kernel: {implementation: "module.function"}}: what runs where, for reading and tests."""
    return {kernel: {impl: f"{fn.__module__}.{fn.__qualname__}" for impl, fn in row.items()}
            for kernel, row in TABLE.items()}


def run(kernel, array, *args, **kwargs):
    """Call ``kernel``'s implementation for ``array`` with (array, *args): the one dispatch.
    A kernel added with :func:`register` is called this way (or given a wrapper below)."""
    return TABLE[kernel][implementation_for(array)](array, *args, **kwargs)


# --- the seam: one function per kernel, the reference's signature ------------------------------
def im2col(x, kernel, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """x (N, C, H, W) -> cols (C*kh*kw, N*Ho*Wo); layout in ``kernels/im2col_reference.py``."""
    return run("im2col", x, kernel, stride, padding, dilation)


def col2im(cols, x_shape, kernel, stride=(1, 1), padding=(0, 0), dilation=(1, 1), out=None):
    """cols (C*kh*kw, N*Ho*Wo) -> dx (N, C, H, W), the adjoint of im2col (into ``out`` if given)."""
    return run("col2im", cols, x_shape, kernel, stride, padding, dilation, out=out)


def gemm_output_to_nchw(y_cols, bias, n_samples):
    """y_cols (O, N*P) -> y (N, O, P) + bias (bias (O,) or None)."""
    return run("gemm_output_to_nchw", y_cols, bias, n_samples)


def nchw_to_gemm_layout(gy, out, with_bias_grad=True):
    """gy (N, O, Ho, Wo) -> (out (O, N*Ho*Wo), bias_grad (O,) or None)."""
    return run("nchw_to_gemm_layout", gy, out, with_bias_grad)


def maxpool_forward(x, kernel, stride, padding, dilation, out_hw):
    """x (N, C, H, W) -> y (N, C, Ho, Wo), argmax (N, C, Ho, Wo) flat indices into H*W (-1: none)."""
    return run("maxpool_forward", x, kernel, stride, padding, dilation, out_hw)


def maxpool_backward(gy, argmax, x_shape):
    """dx (x_shape): dx[n, c].flat[argmax] += gy."""
    return run("maxpool_backward", gy, argmax, x_shape)


def avgpool_forward(x, kernel, stride, padding, out_hw, divisor):
    """y = (sum of each zero-padded window) / divisor (divisor (Ho, Wo) on x's device)."""
    return run("avgpool_forward", x, kernel, stride, padding, out_hw, divisor)


def avgpool_backward(gy, x_shape, kernel, stride, padding, out_hw, divisor):
    """dx: each window's gy / divisor spread over the window."""
    return run("avgpool_backward", gy, x_shape, kernel, stride, padding, out_hw, divisor)


def lrn_forward(x, size, alpha, beta, k):
    """x (N, C, S) -> (y, s), both (N, C, S); ``alpha`` is the effective alpha'."""
    return run("lrn_forward", x, size, alpha, beta, k)


def lrn_backward(x, s, gy, size, alpha, beta):
    """gx (N, C, S) from the saved x and s and the output gradient gy."""
    return run("lrn_backward", x, s, gy, size, alpha, beta)


def winograd_transform_tiles(x, L, m, pad_h, pad_w, th, tw, out):
    """out (α, α, C, N*th*tw) = L @ tile @ Lᵀ for x's k×k tiles every m pixels; ``kernels/winograd.py``."""
    return run("winograd_transform_tiles", x, L, m, pad_h, pad_w, th, tw, out)


def winograd_untransform_tiles(M, L, th, tw, bias, out):
    """out (N, O, Ho, Wo) = the tiles L @ M[:, :, o, t] @ Lᵀ side by side, cropped, + bias."""
    return run("winograd_untransform_tiles", M, L, th, tw, bias, out)


def batch_norm_stats(x, mean, var):
    """mean, biased var (C,) of x (N, C, S) over n and s; ``kernels/batchnorm.py``."""
    return run("batch_norm_stats", x, mean, var)


def batch_norm_apply(x, mean, inv_std, weight, bias, y):
    """y = (x - mean) * inv_std * weight + bias per channel, x and y (N, C, S)."""
    return run("batch_norm_apply", x, mean, inv_std, weight, bias, y)


def batch_norm_backward_sums(gy, x, mean, inv_std, sum_gy, sum_gy_xhat):
    """Σ gy and Σ gy * xhat per channel (the bias and weight gradients)."""
    return run("batch_norm_backward_sums", gy, x, mean, inv_std, sum_gy, sum_gy_xhat)


def batch_norm_backward_input(gy, x, mean, inv_std, weight, sum_gy, sum_gy_xhat, gx):
    """gx = weight * inv_std * (gy - sum_gy/m - xhat * sum_gy_xhat/m) (training mode)."""
    return run("batch_norm_backward_input", gy, x, mean, inv_std, weight, sum_gy, sum_gy_xhat, gx)
