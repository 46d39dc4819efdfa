"""Winograd kernels: the Cook–Toom matrices compute correlations exactly (in fractions), the
NumPy references do what their docstrings say, and the Numba kernels equal the references."""
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from minicnn import kernels
from minicnn.kernels import winograd as ref

TILES = [(2, 3), (4, 3), (6, 3), (2, 5), (3, 5)]
SETTINGS = dict(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _matvec(matrix, vector):
    return [sum((a * b for a, b in zip(row, vector)), Fraction(0)) for row in matrix]


@pytest.mark.parametrize("m, r", TILES)
def test_cook_toom_matrices_compute_the_correlation_exactly(m, r):
    AT, G, BT = ref.cook_toom(m, r)
    alpha = m + r - 1
    assert (len(AT), len(AT[0]), len(G), len(G[0]), len(BT), len(BT[0])) == (m, alpha, alpha, r, alpha, alpha)
    rng = np.random.default_rng(m * 10 + r)
    for _ in range(5):
        g = [Fraction(int(v)) for v in rng.integers(-9, 10, r)]
        d = [Fraction(int(v)) for v in rng.integers(-9, 10, alpha)]
        product = [a * b for a, b in zip(_matvec(G, g), _matvec(BT, d))]
        expected = [sum(g[k] * d[i + k] for k in range(r)) for i in range(m)]
        assert _matvec(AT, product) == expected


def test_f23_is_lavin_and_grays_f23_up_to_the_sign_of_the_point_at_infinity():
    AT, G, BT = ref.matrices(2, 3)
    np.testing.assert_array_equal(AT, [[1, 1, 1, 0], [0, 1, -1, 1]])
    np.testing.assert_array_equal(G, [[1, 0, 0], [.5, .5, .5], [.5, -.5, .5], [0, 0, 1]])
    np.testing.assert_array_equal(BT, [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, -1, 0, 1]])


def test_input_transform_matrix_is_integer():
    for m, r in TILES:
        BT = ref.cook_toom(m, r)[2]
        # the Lagrange scaling moves every fraction of points 0, ±1, ±2 into G
        if m + r - 1 <= 6:
            assert all(v.denominator == 1 for row in BT for v in row), (m, r)


@pytest.mark.parametrize("bad", [dict(m=0, r=3), dict(m=2, r=3, points=(0, 1)), dict(m=2, r=3, points=(0, 1, 1))])
def test_cook_toom_rejects_bad_tiles_and_points(bad):
    with pytest.raises(ValueError, match="cook_toom"):
        ref.cook_toom(**bad)


def test_transform_tiles_reference_multiplies_each_tile_on_both_sides():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 7, 6))
    L = rng.standard_normal((4, 4))
    m, pad, th, tw = 2, 1, 3, 3
    out = ref.transform_tiles(x, L, m, pad, pad, th, tw, np.empty((4, 4, 3, 2 * th * tw)))
    padded = np.zeros((2, 3, 20, 20))
    padded[:, :, pad:pad + 7, pad:pad + 6] = x
    n, c, i, j = 1, 2, 2, 1
    tile = padded[n, c, i * m:i * m + 4, j * m:j * m + 4]
    np.testing.assert_allclose(out[:, :, c, (n * th + i) * tw + j], L @ tile @ L.T, atol=1e-12)


def test_batched_gemm_keeps_groups_apart():
    rng = np.random.default_rng(1)
    U, V = rng.standard_normal((3, 3, 4, 2)), rng.standard_normal((3, 3, 4, 5))
    out = ref.batched_gemm(U, V, 2, np.empty((3, 3, 4, 5)))
    np.testing.assert_allclose(out[1, 2, :2], U[1, 2, :2] @ V[1, 2, :2], atol=1e-12)
    np.testing.assert_allclose(out[1, 2, 2:], U[1, 2, 2:] @ V[1, 2, 2:], atol=1e-12)


@st.composite
def tilings(draw):
    """(x shape, L shape, m, pads, th, tw): tiles may start in the padding or past the input."""
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    m = draw(st.integers(1, 4))
    k = draw(st.integers(m, m + 4))
    a = draw(st.integers(k, k + 1))
    pads = (draw(st.integers(-2, 3)), draw(st.integers(-2, 3)))
    return (n, c, h, w), (a, k), m, pads, draw(st.integers(1, 4)), draw(st.integers(1, 4))


@pytest.mark.skipif(not kernels.NUMBA_AVAILABLE, reason="numba not installed")
@settings(**SETTINGS)
@given(tiling=tilings(), seed=st.integers(0, 2**16), dtype=st.sampled_from([np.float32, np.float64]))
def test_numba_transform_tiles_equals_reference(tiling, seed, dtype):
    from minicnn.kernels import winograd_numba
    x_shape, L_shape, m, (ph, pw), th, tw = tiling
    rng = np.random.default_rng(seed)
    x, L = rng.standard_normal(x_shape).astype(dtype), rng.standard_normal(L_shape).astype(dtype)
    shape = (L_shape[0], L_shape[0], x_shape[1], x_shape[0] * th * tw)
    expected = ref.transform_tiles(x, L, m, ph, pw, th, tw, np.empty(shape, dtype))
    got = winograd_numba.transform_tiles(x, L, m, ph, pw, th, tw, np.empty(shape, dtype))
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol * max(1.0, np.abs(expected).max()))


@pytest.mark.skipif(not kernels.NUMBA_AVAILABLE, reason="numba not installed")
@settings(**SETTINGS)
@given(n=st.integers(1, 3), o=st.integers(1, 4), mm=st.integers(1, 4), extra=st.integers(0, 5),
       out_h=st.integers(1, 9), out_w=st.integers(1, 9), seed=st.integers(0, 2**16),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_numba_untransform_tiles_equals_reference(n, o, mm, extra, out_h, out_w, seed, dtype):
    from minicnn.kernels import winograd_numba
    rng = np.random.default_rng(seed)
    a = mm + extra
    th, tw = ref.tile_counts(out_h, out_w, mm)
    M = rng.standard_normal((a, a, o, n * th * tw)).astype(dtype)
    L, bias = rng.standard_normal((mm, a)).astype(dtype), rng.standard_normal(o).astype(dtype)
    expected = ref.untransform_tiles(M, L, th, tw, bias, np.empty((n, o, out_h, out_w), dtype))
    got = winograd_numba.untransform_tiles(M, L, th, tw, bias, np.empty((n, o, out_h, out_w), dtype))
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol * max(1.0, np.abs(expected).max()))


@pytest.mark.skipif(not kernels.NUMBA_AVAILABLE, reason="numba not installed")
def test_the_seam_routes_numpy_arrays_to_numba_and_float16_to_the_reference(impl):
    from minicnn.kernels import numba_adapters
    x = np.zeros((1, 1, 2, 2), np.float32)
    expected = numba_adapters.winograd_transform_tiles if impl == "numba" else ref.transform_tiles
    assert kernels.TABLE["winograd_transform_tiles"][kernels.implementation_for(x)] is expected
    assert kernels.TABLE["winograd_transform_tiles"][kernels.implementation_for(x.astype(np.float16))] is ref.transform_tiles
