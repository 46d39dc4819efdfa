"""2-D convolution by im2col + GEMM, and the same convolution written with Tensor ops only.

Shapes: x (N, C, H, W), weight W (O, C/g, kh, kw), bias b (O,), y (N, O, Ho, Wo) with
Ho = floor((H + 2ph - dh*(kh-1) - 1) / sh) + 1 (the same for Wo); P = Ho*Wo, R = C/g*kh*kw.

Forward, per group g (rows R_g of cols, output channels O_g):
    cols = im2col(x)                         (C*kh*kw, N*P)
    Y[O_g] = W_g (O/g, R) @ cols[R_g]        Y (O, N*P), one GEMM per group for the whole batch
    y = Y as (N, O, Ho, Wo) + b              one transposing copy
Backward (gy = dL/dy, in the GEMM layout gY (O, N*P)): Y = W·cols is linear in both, so
    dW_g = gY[O_g] @ cols[R_g]^T             (one GEMM per group)
    db   = gy summed over n, oh, ow
    dx   = col2im(dcols), dcols[R_g] = W_g^T @ gY[O_g]
because col2im is the adjoint of im2col: ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩ for all x, c,
so dL/dx = im2col^T(dL/dcols). The input gradient (a GEMM and a col2im) is skipped when x
needs no grad, as for the first layer of a network.

The kernels (im2col, col2im, the layout moves) come from ``minicnn.kernels``, which picks
CUDA, Numba or the NumPy reference from the array; the big temporaries come from
``kernels.memory`` (reused across steps). Memory is bounded by ``mc.backends.conv.workspace_bytes``:
when the batch's cols would exceed it, they are built a few samples at a time (forward, and
again from x in backward for dW, instead of being kept), and so is dcols. What backward keeps
is bounded by ``mc.backends.conv.saved_columns_bytes``, the columns of all live convs together:
a conv past it keeps x and rebuilds its columns for dW.

``conv2d_reference`` is the plain version: im2col by strided slices, a batched matmul and
a reshape, all Tensor ops, so autograd alone differentiates it. Tests hold the two equal.

Derivations and worked examples: docs/convolution.md
"""
import numbers

from .. import backends, kernels
from ..backend import get_array_module
from ..function import Function
from ..geometry import check_fits, check_window_args, output_hw, pair, window_offsets
from ..kernels import memory


class Conv2dFunction(Function):
    """y = conv(x, W) + b by im2col + GEMM; shapes and the backward in the module docstring."""

    def __init__(self, stride=1, padding=0, dilation=1, groups=1, name="conv2d"):
        self.stride = pair(stride, "stride", name)
        self.padding = pair(padding, "padding", name)
        self.dilation = pair(dilation, "dilation", name)
        if not isinstance(groups, numbers.Integral) or isinstance(groups, bool) or groups < 1:
            raise ValueError(f"{name}: groups must be a positive int, got {groups!r}")
        self.groups, self.name = int(groups), name

    def check(self, x, weight, bias=None):
        op, g = self.name, self.groups
        if weight.ndim != 4:
            raise ValueError(f"{op}: expected a 4-D weight (out_channels, in_channels/groups, kh, kw), "
                             f"got shape {weight.shape}")
        O, Cg, kh, kw = weight.shape
        if x.ndim != 4 or x.shape[1] != Cg * g:
            raise ValueError(f"{op}: expected input (N, {Cg * g}, H, W), got {tuple(x.shape)}")
        check_window_args(op, (kh, kw), self.stride, self.padding, self.dilation)
        if O % g:
            raise ValueError(f"{op}: groups={g} must divide out_channels={O}")
        if bias is not None and bias.shape != (O,):
            raise ValueError(f"{op}: expected bias of shape ({O},), got {tuple(bias.shape)}")
        if x.dtype != weight.dtype or (bias is not None and bias.dtype != weight.dtype):
            raise TypeError(f"{op}: input dtype {x.dtype} must equal weight dtype {weight.dtype}"
                            + ("" if bias is None else f" and bias dtype {bias.dtype}"))
        check_fits(op, x.shape, (kh, kw), self.padding, self.dilation)

    def forward(self, x, weight, bias=None):
        xp = get_array_module(x)
        N, C, H, W = x.shape
        O, Cg, kh, kw = weight.shape
        g, kernel = self.groups, (kh, kw)
        Ho, Wo = output_hw((H, W), kernel, self.stride, self.padding, self.dilation)
        R, Og, P = Cg * kh * kw, O // g, Ho * Wo
        self.x_shape, self.kernel = x.shape, kernel
        self.weight = weight if self.needs_input_grad[0] else None
        # cols of the whole batch when they fit under mc.backends.conv.workspace_bytes (kept for
        # dW); else a few samples at a time, and backward rebuilds them from x chunk by chunk
        self.chunk = backends.conv.chunk(N, C * kh * kw * P * x.itemsize)
        if self.chunk < N:
            y = xp.empty((N, O, P), dtype=x.dtype)
            for n0, n1 in memory.chunk_ranges(N, self.chunk):
                cols = kernels.im2col(x[n0:n1], kernel, self.stride, self.padding, self.dilation)
                y[n0:n1] = self._gemm(cols, weight, bias, n1 - n0)
                memory.give(cols)
            self.x, self.cols = (x if self.needs_input_grad[1] else None), None
            return y.reshape(N, O, Ho, Wo)
        cols = kernels.im2col(x, kernel, self.stride, self.padding, self.dilation)     # (C*kh*kw, N*P)
        y = self._gemm(cols, weight, bias, N)
        # keep only what the requested gradients need: for dW the cols, or x (kh*kw times smaller)
        # when the cols would take all convs' kept columns past mc.backends.conv.saved_columns_bytes
        self.x = self.cols = None
        if self.needs_input_grad[1] and backends.conv.may_keep_columns(cols.nbytes):
            self.cols = cols
            memory.keep(self, cols.nbytes)
        else:
            self.x = x if self.needs_input_grad[1] else None
            memory.give(cols)
        return y.reshape(N, O, Ho, Wo)

    def _gemm(self, cols, weight, bias, n_samples):
        """y (n, O, P) = W @ cols + b, per group. One large GEMM per group over the whole batch
        (or chunk): on few cores a few big BLAS calls beat N per-sample calls (measured 3-4x less
        CPU under load)."""
        xp = get_array_module(cols)
        O, R, g = weight.shape[0], cols.shape[0] // self.groups, self.groups
        Og = O // g
        Y = memory.take(xp, (O, cols.shape[1]), cols.dtype)
        for k in range(g):
            xp.matmul(weight[k * Og:(k + 1) * Og].reshape(Og, R), cols[k * R:(k + 1) * R], out=Y[k * Og:(k + 1) * Og])
        y = kernels.gemm_output_to_nchw(Y, bias, n_samples)                           # (n, O, P) + b
        memory.give(Y)
        return y

    def backward(self, gy):
        xp = get_array_module(gy)
        N, O, Ho, Wo = gy.shape
        C, g = self.x_shape[1], self.groups
        Og, R = O // g, C // g * self.kernel[0] * self.kernel[1]
        needs_x, needs_w = self.needs_input_grad[:2]
        needs_b = len(self.needs_input_grad) > 2 and self.needs_input_grad[2]
        # gY (O, N*P), the layout of cols' columns, so each product below is a plain 2-D GEMM;
        # db = gy summed over n and the positions comes out of the same pass
        gY, gb = kernels.nchw_to_gemm_layout(gy, memory.take(xp, (O, N * Ho * Wo), gy.dtype), with_bias_grad=needs_b)
        gx = gw = None
        if needs_w:
            gw = xp.zeros((g, Og, R), dtype=gy.dtype)
            P = Ho * Wo
            chunks = ([(0, N, self.cols)] if self.cols is not None else
                      [(n0, n1, None) for n0, n1 in memory.chunk_ranges(N, self.chunk)])
            for n0, n1, cols in chunks:
                if cols is None:                               # rebuilt from x, a chunk at a time
                    cols = kernels.im2col(self.x[n0:n1], self.kernel, self.stride, self.padding, self.dilation)
                for k in range(g):
                    # dW_g = gY_g @ cols_g^T, computed as (cols_g @ gY_g^T)^T: the same product, but
                    # OpenBLAS is 1.3x (and for conv1's skinny (96, 121) result 10x) faster this way round
                    gw[k] += xp.matmul(cols[k * R:(k + 1) * R], gY[k * Og:(k + 1) * Og, n0 * P:n1 * P].T).T
                if cols is not self.cols:                      # a chunk rebuilt from x
                    memory.give(cols)
            gw = gw.reshape(O, C // g, *self.kernel)
            if not self.retain_graph:                          # let go before col2im needs memory
                if self.cols is not None:
                    memory.give(self.cols)
                    memory.release(self)
                self.cols = self.x = None
        if needs_x:
            gx = self._input_grad(gY)                          # dx = col2im(W^T @ gY)
        memory.give(gY)
        return (gx, gw) if len(self.needs_input_grad) == 2 else (gx, gw, gb)

    def _input_grad(self, gY):
        """dx = col2im(dcols), dcols[R_g] = W_g^T @ gY[O_g]; a few samples at a time so that
        dcols stays below ``mc.backends.conv.workspace_bytes``."""
        xp = get_array_module(gY)
        N, C, H, W = self.x_shape
        if N == 0:  # an empty batch has an empty gradient
            return xp.zeros(self.x_shape, dtype=gY.dtype)
        g, (kh, kw) = self.groups, self.kernel
        O = self.weight.shape[0]
        Og, R, P = O // g, C // g * kh * kw, gY.shape[1] // N
        weight_t = [xp.ascontiguousarray(self.weight[k * Og:(k + 1) * Og].reshape(Og, R).T) for k in range(g)]
        chunk = backends.conv.chunk(N, C * kh * kw * P * gY.itemsize)
        dcols = memory.take(xp, (C * kh * kw, chunk * P), gY.dtype)
        gx = xp.empty(self.x_shape, dtype=gY.dtype)
        for n0, n1 in memory.chunk_ranges(N, chunk):
            part = dcols[:, :(n1 - n0) * P]
            for k in range(g):
                xp.matmul(weight_t[k], gY[k * Og:(k + 1) * Og, n0 * P:n1 * P], out=part[k * R:(k + 1) * R])
            kernels.col2im(part, (n1 - n0, C, H, W), self.kernel, self.stride, self.padding, self.dilation,
                           out=gx[n0:n1])
        memory.give(dcols)
        return gx


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *, name="conv2d"):
    """2-D convolution (cross-correlation, as PyTorch): x (N, C, H, W), weight (O, C/groups, kh, kw),
    bias (O,) or None -> (N, O, Ho, Wo). ``stride``, ``padding``, ``dilation``: int or (h, w).
    ``name`` labels the error messages (``nn.Conv2d`` passes e.g. "Conv2d(3->16)").
    The algorithm (im2col, or Winograd for stride-1 3×3/5×5 layers where it pays) is chosen per
    call by ``mc.backends.conv`` (minicnn/backends/convolution.py, docs/winograd.md)."""
    fn = Conv2dFunction(stride, padding, dilation, groups, name=name)
    inputs = (x, weight) if bias is None else (x, weight, bias)
    if _algorithm(fn, *inputs) == "winograd":
        from .winograd import WinogradConv2dFunction
        fn = WinogradConv2dFunction(fn.padding, fn.groups, name=name)
    return fn(*inputs)


def _algorithm(fn, x, weight, bias=None):
    """"im2col" or "winograd" for this call, by ``mc.backends.conv`` (the heuristic, a forced
    choice, or the autotuner, which runs each candidate's forward once under no_grad)."""
    from .. import backends
    from ..function import no_grad
    from .winograd import WinogradConv2dFunction
    x_data, w_data = getattr(x, "data", x), getattr(weight, "data", weight)
    if getattr(x_data, "ndim", 0) != 4 or getattr(w_data, "ndim", 0) != 4:
        return "im2col"                               # the Function's check names the problem

    def run(algorithm):
        candidate = (WinogradConv2dFunction(fn.padding, fn.groups, name=fn.name) if algorithm == "winograd"
                     else Conv2dFunction(fn.stride, fn.padding, fn.dilation, fn.groups, name=fn.name))
        with no_grad():
            candidate(x, weight) if bias is None else candidate(x, weight, bias)
    return backends.conv.choose(x_data, w_data.shape, fn.stride, fn.padding, fn.dilation, fn.groups, run=run)


def conv2d_reference(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """The same convolution as :func:`conv2d`, written for reading and differentiated by
    autograd alone (no backward of its own): im2col from strided slices, a matmul, a reshape.

        cols[n] = the kh*kw shifted views of the padded x, stacked   (N, C*kh*kw, P)
        y[n, O_g] = W_g (O/g, R) @ cols[n, R_g]                       (N, O, P) -> (N, O, Ho, Wo)

    Slow and memory-hungry (every op keeps its graph); use it to learn and to check."""
    from . import array, math
    from ..tensor import as_tensor
    x = as_tensor(x, op="conv2d_reference")
    weight = as_tensor(weight, like=x, op="conv2d_reference")
    stride, padding, dilation = (pair(v, what, "conv2d_reference") for v, what in
                                 ((stride, "stride"), (padding, "padding"), (dilation, "dilation")))
    N, C, H, W = x.shape
    O, Cg, kh, kw = weight.shape
    Ho, Wo = output_hw((H, W), (kh, kw), stride, padding, dilation)
    x_padded = array.pad(x, ((0, 0), (0, 0), (padding[0], padding[0]), (padding[1], padding[1])))
    views = [x_padded[:, :, rows, columns] for _, _, rows, columns in window_offsets((kh, kw), stride, dilation, (Ho, Wo))]
    cols = array.stack(views, axis=2).reshape(N, C * kh * kw, Ho * Wo)    # rows ordered (c, i, j)
    Og, R = O // groups, Cg * kh * kw
    per_group = [math.matmul(weight[k * Og:(k + 1) * Og].reshape(Og, R), cols[:, k * R:(k + 1) * R])
                 for k in range(groups)]                                    # each (N, O/g, P)
    y = (array.concatenate(per_group, axis=1) if groups > 1 else per_group[0]).reshape(N, O, Ho, Wo)
    if bias is not None:
        y = y + as_tensor(bias, like=x, op="conv2d_reference").reshape(1, O, 1, 1)
    return y
