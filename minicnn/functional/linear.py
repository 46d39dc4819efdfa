"""Fully connected layer: y = x W^T + b, one GEMM forward and one per gradient backward.

Derivations and worked examples: docs/linear.md
"""
from ..function import Function


class Linear(Function):
    """x: (..., in), weight: (out, in), bias: (out,) or absent  ->  y: (..., out).

    The leading axes are flattened to M rows so each product is a single GEMM:
        y  = X W^T + b        X: (M, in)
    Backward (gY: (M, out)):
        gX = gY W             (M, in)
        gW = gY^T X           (out, in)
        gb = sum_rows gY      (out,)
    """
    def forward(self, x, weight, bias=None):
        if weight.ndim != 2 or x.ndim < 1 or x.shape[-1] != weight.shape[1]:
            raise ValueError(f"linear: expected input (..., {weight.shape[-1] if weight.ndim else '?'}) "
                             f"for weight (out, in) = {weight.shape}, got {x.shape}")
        if bias is not None and bias.shape != (weight.shape[0],):
            raise ValueError(f"linear: expected bias ({weight.shape[0]},), got {bias.shape}")
        if x.dtype != weight.dtype or (bias is not None and bias.dtype != weight.dtype):
            # no silent promotion: float64 input stays possible with float64 weights (gradcheck)
            raise TypeError(f"linear: expected input dtype {weight.dtype} (the weight's), got {x.dtype}"
                            + ("" if bias is None or bias.dtype == weight.dtype else f" (bias {bias.dtype})"))
        self.x_shape = x.shape
        x2 = x.reshape(-1, x.shape[-1])
        # Save only what the requested gradients need: W for gX, X for gW.
        self.weight = weight if self.needs_input_grad[0] else None
        self.x2 = x2 if self.needs_input_grad[1] else None
        y = x2 @ weight.T
        if bias is not None:
            y += bias
        return y.reshape(x.shape[:-1] + (weight.shape[0],))

    def backward(self, gy):
        gy2 = gy.reshape(-1, gy.shape[-1])
        gx = (gy2 @ self.weight).reshape(self.x_shape) if self.needs_input_grad[0] else None
        gw = gy2.T @ self.x2 if self.needs_input_grad[1] else None
        grads = (gx, gw)
        if len(self.needs_input_grad) == 3:
            grads += (gy2.sum(axis=0) if self.needs_input_grad[2] else None,)
        return grads


def linear(x, weight, bias=None):
    """y = x @ weight.T + bias; x: (..., in), weight: (out, in), bias: (out,) or None."""
    f = Linear()
    return f(x, weight) if bias is None else f(x, weight, bias)
