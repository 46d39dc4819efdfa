"""The conv GEMM's layout moves: the reference (plain NumPy, also runs on CuPy).

The conv GEMM works on Y (O, N*P) (P = Ho*Wo; columns sample-major, as im2col's), while
tensors are NCHW (N, O, P). Forward moves Y to NCHW and adds the bias in the same pass;
backward moves dL/dy the other way and sums the bias gradient on the way.
Numba versions of both (one pass each, no temporaries) are in ``numba_cpu.py``.
"""
from ..backend import get_array_module


def gemm_output_to_nchw(y_cols, bias, n_samples):
    """y_cols (O, N*P), bias (O,) or None -> y (N, O, P) = y_cols as NCHW + bias."""
    xp = get_array_module(y_cols)
    O = y_cols.shape[0]
    P = y_cols.shape[1] // n_samples if n_samples else 0
    # a copy even when the transpose is already contiguous (N = 1 or O = 1): y_cols is a
    # workspace buffer that is reused once this returns, so y must never alias it
    y = y_cols.reshape(O, n_samples, P).transpose(1, 0, 2).copy()
    if bias is not None:
        y += bias.reshape(1, O, 1)
    return y


def nchw_to_gemm_layout(gy, out, with_bias_grad=True):
    """gy (N, O, Ho, Wo) -> (out, bias_grad): out (O, N*P) filled with gy in the GEMM layout,
    bias_grad (O,) = gy summed over n and the positions (None unless ``with_bias_grad``)."""
    N, O = gy.shape[:2]
    P = out.shape[1] // N if N else 0
    out.reshape(O, N, P)[...] = gy.reshape(N, O, P).transpose(1, 0, 2)
    return out, (out.sum(axis=1) if with_bias_grad else None)
