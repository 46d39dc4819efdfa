"""2-D convolution by Winograd minimal filtering F(m×m, r×r) (Lavin & Gray 2015).

Stride 1, dilation 1, square r×r kernels, any padding and groups. Shapes as conv2d:
x (N, C, H, W), weight (O, C/g, r, r), bias (O,), y (N, O, Ho, Wo), Ho = H + 2p - r + 1.

Forward, per chunk of samples (at most ``mc.backends.conv.workspace_bytes`` of buffers):
    U[ξ,ν] = (G g Gᵀ)[ξ,ν]                         filters, (α, α, O, C/g), α = m + r - 1
    V[ξ,ν] = (Bᵀ d B)[ξ,ν] for every α×α tile d     (α, α, C, tiles), tiles overlap by r - 1
    M[ξ,ν] = U[ξ,ν] @ V[ξ,ν]                        α² GEMMs over channels, per group
    y      = Aᵀ M A per tile, + b                   m×m outputs per tile, cropped to Ho×Wo
Backward (gy = dL/dy):
    dx: a stride-1 correlation of gy, padded by r-1-p (cropped where negative), with the
        filters rotated by 180° and in/out channels swapped per group: Winograd again.
    dW: Winograd. y is bilinear in (g, d), so for one tile dL/dg = Gᵀ [(A gy_t Aᵀ) ⊙ (Bᵀ d_t B)] G,
        and the sum over tiles and samples moves inside: α² GEMMs (O, tiles) @ (tiles, C/g),
        the forward's saving again, on the same tiles. im2col is never used here: when Winograd
        does not pay (few channels, a strided or dilated conv), conv2d runs im2col for all three.
    db = gy summed over n, h, w.
Nothing big is kept between forward and backward: x and W are held by the graph anyway, and
backward recomputes V chunk by chunk (one transform, cheap next to the GEMMs).

The matrices, layouts and NumPy references: minicnn/kernels/winograd.py; derivation, worked
example and accuracy: docs/winograd.md
"""
from .. import backends, kernels
from ..backend import get_array_module
from ..kernels import memory, winograd
from .conv import Conv2dFunction


def correlate(x, weight, bias, padding, groups, m, out=None):
    """y = Winograd F(m, r) stride-1 correlation of x with weight (+ bias); ``padding`` (ph, pw)
    may be negative (rows and columns cropped), as the input gradient needs."""
    xp = get_array_module(x)
    x = xp.ascontiguousarray(x)
    N, C, H, W = x.shape
    O, Cg, r, _ = weight.shape
    Ho, Wo = H + 2 * padding[0] - r + 1, W + 2 * padding[1] - r + 1
    AT, G, BT = winograd.matrices(m, r, x.dtype, xp)
    a, (th, tw) = m + r - 1, winograd.tile_counts(Ho, Wo, m)
    U = winograd.transform_filters(weight, G)
    bias = xp.zeros(O, dtype=x.dtype) if bias is None else bias
    y = xp.empty((N, O, Ho, Wo), dtype=x.dtype) if out is None else out
    chunk = backends.conv.chunk(N, a * a * (C + O) * th * tw * x.itemsize)
    V_buffer = memory.take(xp, (a * a * C * chunk * th * tw,), x.dtype)
    M_buffer = memory.take(xp, (a * a * O * chunk * th * tw,), x.dtype)
    for n0, n1 in memory.chunk_ranges(N, chunk):
        T = (n1 - n0) * th * tw
        V = kernels.winograd_transform_tiles(x[n0:n1], BT, m, padding[0], padding[1], th, tw,
                        V_buffer[:a * a * C * T].reshape(a, a, C, T))
        M = winograd.batched_gemm(U, V, groups, M_buffer[:a * a * O * T].reshape(a, a, O, T))
        kernels.winograd_untransform_tiles(M, AT, th, tw, bias, y[n0:n1])
    memory.give(V_buffer)
    memory.give(M_buffer)
    return y


def weight_grad(x, gy, padding, groups, m, r):
    """dW (O, C/g, r, r) = Gᵀ [Σ_tiles (A gy_t Aᵀ) ⊙ (Bᵀ x_t B)] G, chunk by chunk of samples."""
    xp = get_array_module(x)
    x, gy = xp.ascontiguousarray(x), xp.ascontiguousarray(gy)
    N, C = x.shape[:2]
    O, Ho, Wo = gy.shape[1:]
    AT, G, BT = winograd.matrices(m, r, x.dtype, xp)
    A = xp.ascontiguousarray(AT.T)
    a, (th, tw) = m + r - 1, winograd.tile_counts(Ho, Wo, m)
    Cg, Og = C // groups, O // groups
    Mw = xp.zeros((a * a, O, Cg), dtype=x.dtype)
    chunk = backends.conv.chunk(N, a * a * (C + O) * th * tw * x.itemsize)
    V_buffer = memory.take(xp, (a * a * C * chunk * th * tw,), x.dtype)
    Gy_buffer = memory.take(xp, (a * a * O * chunk * th * tw,), x.dtype)
    for n0, n1 in memory.chunk_ranges(N, chunk):
        T = (n1 - n0) * th * tw
        V = kernels.winograd_transform_tiles(x[n0:n1], BT, m, padding[0], padding[1], th, tw,
                        V_buffer[:a * a * C * T].reshape(a, a, C, T)).reshape(a * a, C, T)
        # the output gradient's m×m tiles do not overlap: the transform with L = A (α×m), no padding
        Gy = kernels.winograd_transform_tiles(gy[n0:n1], A, m, 0, 0, th, tw,
                         Gy_buffer[:a * a * O * T].reshape(a, a, O, T)).reshape(a * a, O, T)
        for k in range(groups):
            Mw[:, k * Og:(k + 1) * Og] += xp.matmul(Gy[:, k * Og:(k + 1) * Og],
                                                    V[:, k * Cg:(k + 1) * Cg].transpose(0, 2, 1))
    memory.give(V_buffer)
    memory.give(Gy_buffer)
    return winograd.untransform_filters(Mw.reshape(a, a, O, Cg), G)


def flipped_filters(weight, groups):
    """W'[c, o] = W[o, c] rotated by 180°, per group: (O, C/g, r, r) -> (C, O/g, r, r)."""
    xp = get_array_module(weight)
    O, Cg, r, s = weight.shape
    w = weight.reshape(groups, O // groups, Cg, r, s).transpose(0, 2, 1, 3, 4)[..., ::-1, ::-1]
    return xp.ascontiguousarray(w).reshape(groups * Cg, O // groups, r, s)


class WinogradConv2dFunction(Conv2dFunction):
    """y = conv(x, W) + b by Winograd F(m×m, r×r); stride 1, dilation 1, square kernel.
    Checks as conv2d's; the forward and backward formulas are in the module docstring."""

    def __init__(self, padding=0, groups=1, m=None, name="conv2d"):
        super().__init__(1, padding, 1, groups, name=name)
        self.m = m

    def check(self, x, weight, bias=None):
        super().check(x, weight, bias)
        kh, kw = weight.shape[2:]
        if kh != kw or (self.m or backends.conv.winograd_tiles.get(kh)) is None:
            raise ValueError(f"{self.name}: Winograd needs a square r×r kernel with a tile size "
                             f"(mc.backends.conv.winograd_tiles has r in {sorted(backends.conv.winograd_tiles)}), "
                             f"got kernel {(kh, kw)}")

    def forward(self, x, weight, bias=None):
        r = weight.shape[2]
        m = self.m or backends.conv.winograd_tiles[r]
        self.m, self.r = m, r
        y = correlate(x, weight, bias, self.padding, self.groups, m)
        self.x = x if self.needs_input_grad[1] else None
        self.weight = weight if self.needs_input_grad[0] else None
        return y

    def backward(self, gy):
        r, g = self.r, self.groups
        gx = gw = gb = None
        if self.needs_input_grad[0]:
            crop = (r - 1 - self.padding[0], r - 1 - self.padding[1])
            gx = correlate(gy, flipped_filters(self.weight, g), None, crop, g, self.m)
        if self.needs_input_grad[1]:
            gw = weight_grad(self.x, gy, self.padding, g, self.m, r)
        if len(self.needs_input_grad) > 2 and self.needs_input_grad[2]:
            gb = gy.sum(axis=(0, 2, 3))
        if not self.retain_graph:                  # a second backward would need them
            self.x = self.weight = None
        return (gx, gw) if len(self.needs_input_grad) == 2 else (gx, gw, gb)


def winograd_conv2d(x, weight, bias=None, padding=0, groups=1, m=None):
    """conv2d with stride 1 and dilation 1 by Winograd F(m×m, r×r) (m from
    ``mc.backends.conv.winograd_tiles`` when None). Same shapes and results as conv2d."""
    fn = WinogradConv2dFunction(padding, groups, m, name="winograd_conv2d")
    return fn(x, weight) if bias is None else fn(x, weight, bias)
