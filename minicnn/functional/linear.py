"""Fully connected layer: y = x W^T + b, one GEMM forward and one per gradient backward.

Derivations and worked examples: docs/linear.md
"""
from ..function import Function


class LinearFunction(Function):
    """x: (..., in), weight: (out, in), bias: (out,) or absent  ->  y: (..., out).

    The leading axes are flattened to M rows so each product is a single GEMM:
        y  = X W^T + b        X: (M, in)
    Backward (gY: (M, out)):
        gX = gY W             (M, in)
        gW = gY^T X           (out, in)
        gb = sum_rows gY      (out,)
    """
    def __init__(self, name="linear"):
        self.name = name

    def check(self, x, weight, bias=None):
        op = self.name
        if weight.ndim != 2 or x.ndim < 1 or x.shape[-1] != weight.shape[1]:
            expected = weight.shape[-1] if weight.ndim else '?'
            # a layer's label ("Linear(4->2)") already names the weight's shape; the bare op does not
            weight_note = f" for weight (out, in) = {weight.shape}" if op == "linear" else ""
            raise ValueError(f"{op}: expected input (..., {expected}){weight_note}, got {tuple(x.shape)}")
        if bias is not None and bias.shape != (weight.shape[0],):
            raise ValueError(f"{op}: expected bias ({weight.shape[0]},), got {bias.shape}")
        if x.dtype != weight.dtype or (bias is not None and bias.dtype != weight.dtype):
            # no silent promotion: float64 input stays possible with float64 weights (gradcheck)
            raise TypeError(f"{op}: expected input dtype {weight.dtype} (the weight's), got {x.dtype}"
                            + ("" if bias is None or bias.dtype == weight.dtype else f" (bias {bias.dtype})")
                            + f"; cast the input with x.astype({str(weight.dtype)!r})")

    def forward(self, x, weight, bias=None):
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


def linear(x, weight, bias=None, *, name="linear"):
    """y = x @ weight.T + bias; x: (..., in), weight: (out, in), bias: (out,) or None.
    ``name`` labels the error messages (``nn.Linear`` passes e.g. "Linear(4->2)")."""
    f = LinearFunction(name)
    return f(x, weight) if bias is None else f(x, weight, bias)
