"""Winograd minimal filtering F(m×m, r×r): the transform matrices and the plain-NumPy references.

A stride-1 correlation of an α×α input tile d (α = m + r - 1) with an r×r filter g gives an
m×m output tile with α² multiplications instead of m²r² (Lavin & Gray 2015)::

    Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A          Aᵀ (m, α), G (α, r), Bᵀ (α, α)

Summed over the input channels the elementwise product becomes, for each of the α² positions
(ξ, ν) of a tile, one matrix product over channels: M[ξ,ν] = U[ξ,ν] (O, C) @ V[ξ,ν] (C, tiles).

The matrices are not typed in: :func:`cook_toom` builds them, in exact fractions, from
α - 1 interpolation points (0, 1, -1, 2, -2, 1/2, -1/2, ...) and the point at infinity.
Linear convolution of polynomials is "evaluate at α points, multiply, interpolate"; the
correlation we need is its transpose, which swaps the roles of evaluation and interpolation.

Layouts (shared with the Numba kernels in ``winograd_numba.py``)::

    V[ξ, ν, c, t]   t = (n*th + i)*tw + j: tile (i, j) of sample n, th × tw tiles of m × m outputs
    U[ξ, ν, o, c]   the transformed filters
    M[ξ, ν, o, t]   U[ξ,ν] @ V[ξ,ν], one GEMM per (ξ, ν) and group

Derivation, worked example and the error analysis: docs/winograd.md
"""
import functools
from fractions import Fraction

import numpy as np

from ..backend import get_array_module

# Points in the order that keeps the transforms' entries small: the error of Winograd grows
# with the largest power of the largest point, so small integers and their reciprocals first.
POINTS = (Fraction(0), Fraction(1), Fraction(-1), Fraction(2), Fraction(-2), Fraction(1, 2),
          Fraction(-1, 2), Fraction(3), Fraction(-3), Fraction(1, 3), Fraction(-1, 3))


def _evaluation(points, k):
    """(α, k): row i evaluates a polynomial of degree k-1 (coefficients low to high) at point i;
    the last row is the point at infinity and picks the leading coefficient."""
    rows = [[p ** j for j in range(k)] for p in points]
    rows.append([Fraction(0)] * (k - 1) + [Fraction(1)])
    return rows


def _inverse(matrix):
    """Exact inverse of a square matrix of Fractions (Gauss-Jordan)."""
    n = len(matrix)
    aug = [list(row) + [Fraction(int(i == j)) for j in range(n)] for i, row in enumerate(matrix)]
    for col in range(n):
        pivot = next(r for r in range(col, n) if aug[r][col] != 0)
        aug[col], aug[pivot] = aug[pivot], aug[col]
        scale = aug[col][col]
        aug[col] = [v / scale for v in aug[col]]
        for r in range(n):
            if r != col and aug[r][col] != 0:
                factor = aug[r][col]
                aug[r] = [a - factor * b for a, b in zip(aug[r], aug[col])]
    return [row[n:] for row in aug]


def _transpose(matrix):
    return [list(col) for col in zip(*matrix)]


@functools.lru_cache(maxsize=None)
def cook_toom(m, r, points=None):
    """Aᵀ (m, α), G (α, r), Bᵀ (α, α) of F(m, r) as tuples of Fractions (exact).

    With E_k the (α, k) evaluation matrix of degree-(k-1) polynomials at the α - 1 points
    and infinity, linear convolution is s = E_α⁻¹ [(E_r g) ⊙ (E_m h)], so the correlation
    y = (conv matrix of g)ᵀ d is  y = E_mᵀ [(E_r g) ⊙ (E_α⁻ᵀ d)]:
    Aᵀ = E_mᵀ, G = E_r, Bᵀ = E_α⁻ᵀ. Row i of Bᵀ is then scaled by the Lagrange denominator
    |Π_{j≠i}(p_i - p_j)| and row i of G divided by it (the product is unchanged), which makes
    Bᵀ integer and moves the fractions into the filter transform, computed once per step.
    """
    if m < 1 or r < 1:
        raise ValueError(f"cook_toom: m and r must be positive, got F({m}, {r})")
    alpha = m + r - 1
    points = POINTS[:alpha - 1] if points is None else tuple(Fraction(p) for p in points)
    if len(points) != alpha - 1 or len(set(points)) != len(points):
        raise ValueError(f"cook_toom: F({m}, {r}) needs {alpha - 1} distinct points, got {points}")
    AT = _transpose(_evaluation(points, m))
    G = _evaluation(points, r)
    BT = _transpose(_inverse(_evaluation(points, alpha)))
    for i, p in enumerate(points):
        scale = Fraction(1)
        for q in points:
            if q != p:
                scale *= p - q
        scale = abs(scale)   # the sign is free; Lavin & Gray's F(2, 3) up to the infinity row's
        BT[i] = [v * scale for v in BT[i]]
        G[i] = [v / scale for v in G[i]]
    return tuple(map(tuple, AT)), tuple(map(tuple, G)), tuple(map(tuple, BT))


@functools.lru_cache(maxsize=None)
def _float_matrices(m, r, dtype_str):
    return tuple(np.array([[float(v) for v in row] for row in mat], dtype=np.dtype(dtype_str))
                 for mat in cook_toom(m, r))


def matrices(m, r, dtype=np.float64, xp=np):
    """Aᵀ, G, Bᵀ of F(m, r) cast to ``dtype`` (rounded once, from the exact fractions)."""
    AT, G, BT = _float_matrices(m, r, np.dtype(dtype).str)
    return (AT, G, BT) if xp is np else tuple(xp.asarray(a) for a in (AT, G, BT))


def tile_counts(out_h, out_w, m):
    """(th, tw): tiles of m × m outputs needed to cover an out_h × out_w output."""
    return -(-out_h // m), -(-out_w // m)


def _window(x, top, left, height, width):
    """x[:, :, top:top+height, left:left+width] with zeros outside x (top/left may be negative)."""
    xp = get_array_module(x)
    N, C, H, W = x.shape
    out = xp.zeros((N, C, height, width), dtype=x.dtype)
    h0, h1 = max(top, 0), min(top + height, H)
    w0, w1 = max(left, 0), min(left + width, W)
    if h0 < h1 and w0 < w1:
        out[:, :, h0 - top:h1 - top, w0 - left:w1 - left] = x[:, :, h0:h1, w0:w1]
    return out


def transform_tiles(x, L, m, pad_h, pad_w, th, tw, out):
    """out[:, :, c, t] = L @ tile @ Lᵀ for the k×k tiles of x (k = L.shape[1]) that start at
    (i*m - pad_h, j*m - pad_w), zeros outside x. x (N, C, H, W), out (a, a, C, N*th*tw).

    The input transform is L = Bᵀ, k = α (tiles overlap by r - 1); the weight gradient
    transforms the output gradient's m×m tiles with L = A (they do not overlap)."""
    xp = get_array_module(x)
    N, C = x.shape[:2]
    a, k = L.shape
    padded = _window(x, -pad_h, -pad_w, (th - 1) * m + k, (tw - 1) * m + k)
    # every tile as a strided view (N, C, th, tw, k, k), no copy
    s = padded.strides
    tiles = xp.lib.stride_tricks.as_strided(
        padded, (N, C, th, tw, k, k), (s[0], s[1], s[2] * m, s[3] * m, s[2], s[3]))
    V = xp.einsum("pu,nchwuv,qv->pqcnhw", L, tiles, L)
    out[...] = V.reshape(a, a, C, N * th * tw)
    return out


def untransform_tiles(M, L, th, tw, bias, out):
    """out[n, o] = the m×m tiles Y = L @ M[:, :, o, t] @ Lᵀ (L = Aᵀ, m = L.shape[0]) laid side
    by side and cropped to out's (Ho, Wo), plus bias[o]. M (α, α, O, N*th*tw), out (N, O, Ho, Wo)."""
    xp = get_array_module(M)
    N, O, Ho, Wo = out.shape
    mm = L.shape[0]
    Y = xp.einsum("pu,uvot,qv->otpq", L, M, L).reshape(O, N, th, tw, mm, mm)
    Y = Y.transpose(1, 0, 2, 4, 3, 5).reshape(N, O, th * mm, tw * mm)
    out[...] = Y[:, :, :Ho, :Wo] + bias.reshape(1, O, 1, 1)
    return out


def transform_filters(weight, G):
    """U[ξ, ν, o, c] = (G g Gᵀ)[ξ, ν] for every filter g = weight[o, c] (r × r)."""
    xp = get_array_module(weight)
    # as two GEMMs (tensordot), not one three-operand einsum, which loops over all 7 indices
    right = xp.tensordot(weight, G, axes=([3], [1]))                 # (O, C, r, α): Σ_j g[.., j] G[q, j]
    return xp.ascontiguousarray(xp.tensordot(G, right, axes=([1], [2])).transpose(0, 3, 1, 2))


def untransform_filters(Mw, G):
    """The weight gradient's last step: dW[o, c] = Gᵀ Mw[:, :, o, c] G, Mw (α, α, O, C/g)."""
    xp = get_array_module(Mw)
    left = xp.tensordot(G, Mw, axes=([0], [0]))                      # (r, α, O, C): Σ_p G[p, i] Mw[p, ..]
    return xp.ascontiguousarray(xp.tensordot(left, G, axes=([1], [0])).transpose(1, 2, 0, 3))


def batched_gemm(U, V, groups, out):
    """out[ξ,ν, group rows] = U[ξ,ν, group rows] @ V[ξ,ν, group channels]: α² GEMMs per group.
    U (α, α, O, C/g), V (α, α, C, T) -> out (α, α, O, T)."""
    xp = get_array_module(U)
    a, _, O, Cg = U.shape
    Og = O // groups
    U2, V2, out2 = (z.reshape(a * a, *z.shape[2:]) for z in (U, V, out))
    for k in range(groups):
        xp.matmul(U2[:, k * Og:(k + 1) * Og], V2[:, k * Cg:(k + 1) * Cg], out=out2[:, k * Og:(k + 1) * Og])
    return out

