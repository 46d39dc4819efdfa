"""Thin adapters: the Numba loops (``numba_cpu.py``, ``lrn.py``) behind the references' signatures.

The Numba kernels take flattened scalars and preallocated outputs, which is what LLVM needs;
the rest of the library calls every implementation with the reference's signature. Each
adapter makes its input contiguous, takes its output (from the conv workspace for the big
ones), unpacks the (h, w) pairs and calls the loop. Nothing else happens here.
"""
import functools

import numpy as np

from ..geometry import output_hw
from . import lrn, memory, numba_cpu


@functools.lru_cache(maxsize=256)
def _window_index(hw, kernel, stride, padding, dilation):
    """numba_cpu.window_index for one geometry, computed once (a network has a few dozen)."""
    Ho, Wo = output_hw(hw, kernel, stride, padding, dilation)
    index = numba_cpu.window_index(*hw, *kernel, *stride, *padding, *dilation, Ho, Wo)
    index.setflags(write=False)
    return index


def _geometry(hw, kernel, stride, padding, dilation):
    return _window_index(*(tuple(int(v) for v in pair) for pair in (hw, kernel, stride, padding, dilation)))


def im2col(x, kernel, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    N, C, H, W = x.shape
    index = _geometry((H, W), kernel, stride, padding, dilation)
    cols = memory.take(np, (C * index.shape[0], N * index.shape[1]), x.dtype)
    return numba_cpu.im2col(np.ascontiguousarray(x).reshape(N, C, H * W), index, cols)


def col2im(cols, x_shape, kernel, stride=(1, 1), padding=(0, 0), dilation=(1, 1), out=None):
    N, C, H, W = x_shape
    index = _geometry((H, W), kernel, stride, padding, dilation)
    dx = out if out is not None and out.flags.c_contiguous else np.empty(x_shape, dtype=cols.dtype)
    numba_cpu.col2im(cols, index, dx.reshape(N, C, H * W))
    if out is not None and out is not dx:       # a strided out: filled through a contiguous dx
        out[...] = dx
        return out
    return dx


def maxpool_forward(x, kernel, stride, padding, dilation, out_hw):
    return numba_cpu.maxpool_forward(np.ascontiguousarray(x), *kernel, *stride, *padding, *dilation, *out_hw)


def maxpool_backward(gy, argmax, x_shape):
    return numba_cpu.maxpool_backward(np.ascontiguousarray(gy), argmax, *x_shape[2:])


def gemm_output_to_nchw(y_cols, bias, n_samples):
    O = y_cols.shape[0]
    P = y_cols.shape[1] // n_samples if n_samples else 0
    return numba_cpu.gemm_output_to_nchw(y_cols, np.zeros(O, y_cols.dtype) if bias is None else bias,
                                         np.empty((n_samples, O, P), dtype=y_cols.dtype))


def nchw_to_gemm_layout(gy, out, with_bias_grad=True):
    N, O = gy.shape[:2]
    P = out.shape[1] // N if N else 0
    bias_grad = np.empty(O, dtype=gy.dtype)      # the loop sums it anyway, in the same pass
    numba_cpu.nchw_to_gemm_layout(np.ascontiguousarray(gy).reshape(N, O, P), out, bias_grad)
    return out, (bias_grad if with_bias_grad else None)


def lrn_forward(x, size, alpha, beta, k):
    x = np.ascontiguousarray(x)
    y, s = np.empty_like(x), np.empty_like(x)
    cast = x.dtype.type   # scalars in x's dtype: float32 stays float32 inside the kernel
    lrn._lrn_forward_numba(x, size, cast(alpha), cast(beta), cast(k), y, s)
    return y, s


def lrn_backward(x, s, gy, size, alpha, beta):
    x, s = np.ascontiguousarray(x), np.ascontiguousarray(s)
    gy = np.ascontiguousarray(gy, dtype=x.dtype)
    gx = np.empty_like(x)
    cast = x.dtype.type
    lrn._lrn_backward_numba(x, s, gy, size, cast(alpha), cast(beta), gx)
    return gx


def winograd_transform_tiles(x, L, m, pad_h, pad_w, th, tw, out):
    from . import winograd_numba
    return winograd_numba.transform_tiles(np.ascontiguousarray(x), np.ascontiguousarray(L, dtype=x.dtype),
                                          m, pad_h, pad_w, th, tw, out)


def winograd_untransform_tiles(M, L, th, tw, bias, out):
    from . import winograd_numba
    return winograd_numba.untransform_tiles(np.ascontiguousarray(M), np.ascontiguousarray(L, dtype=M.dtype),
                                            th, tw, np.ascontiguousarray(bias, dtype=M.dtype), out)


def batch_norm_stats(x, mean, var):
    from . import batchnorm_numba
    return batchnorm_numba.batch_norm_stats(np.ascontiguousarray(x), mean, var)


def batch_norm_apply(x, mean, inv_std, weight, bias, y):
    from . import batchnorm_numba
    return batchnorm_numba.batch_norm_apply(np.ascontiguousarray(x), mean, inv_std, weight, bias, y)


def batch_norm_backward_sums(gy, x, mean, inv_std, sum_gy, sum_gy_xhat):
    from . import batchnorm_numba
    return batchnorm_numba.batch_norm_backward_sums(np.ascontiguousarray(gy), np.ascontiguousarray(x),
                                                    mean, inv_std, sum_gy, sum_gy_xhat)


def batch_norm_backward_input(gy, x, mean, inv_std, weight, sum_gy, sum_gy_xhat, gx):
    from . import batchnorm_numba
    return batchnorm_numba.batch_norm_backward_input(np.ascontiguousarray(gy), np.ascontiguousarray(x), mean,
                                                     inv_std, weight, sum_gy, sum_gy_xhat, gx)
