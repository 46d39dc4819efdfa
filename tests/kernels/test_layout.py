"""The conv GEMM's layout moves: the Numba versions equal the NumPy references."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minicnn import kernels
from minicnn.kernels import layout, numba_adapters

pytestmark = pytest.mark.skipif(not kernels.NUMBA_AVAILABLE, reason="numba is not installed")
shapes = st.tuples(st.integers(1, 4), st.integers(1, 6), st.integers(1, 5), st.integers(1, 5))   # N, O, Ho, Wo


@settings(max_examples=30, deadline=None)
@given(shape=shapes, dtype=st.sampled_from([np.float32, np.float64]), with_bias=st.booleans(), seed=st.integers(0, 99))
def test_gemm_output_to_nchw_moves_columns_to_samples_and_adds_the_bias(shape, dtype, with_bias, seed):
    N, O, Ho, Wo = shape
    rng = np.random.default_rng(seed)
    y_cols = rng.standard_normal((O, N * Ho * Wo)).astype(dtype)
    bias = rng.standard_normal(O).astype(dtype) if with_bias else None
    before = y_cols.copy()
    expected = layout.gemm_output_to_nchw(y_cols, bias, N)
    assert expected.shape == (N, O, Ho * Wo) and expected.flags.c_contiguous
    np.testing.assert_array_equal(y_cols, before)               # the GEMM buffer is left as it was ...
    assert not np.shares_memory(expected, y_cols)               # ... and never aliased (it is reused)
    np.testing.assert_allclose(expected[1 % N, :, 0] - (0 if bias is None else bias), y_cols[:, (1 % N) * Ho * Wo],
                               rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(numba_adapters.gemm_output_to_nchw(y_cols, bias, N), expected, rtol=1e-6)


@settings(max_examples=30, deadline=None)
@given(shape=shapes, dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 99))
def test_nchw_to_gemm_layout_is_the_inverse_move_and_sums_the_bias_gradient(shape, dtype, seed):
    N, O, Ho, Wo = shape
    gy = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    gY, gb = layout.nchw_to_gemm_layout(gy, np.empty((O, N * Ho * Wo), dtype))
    np.testing.assert_array_equal(layout.gemm_output_to_nchw(gY, None, N).reshape(shape), gy)
    np.testing.assert_allclose(gb, gy.sum(axis=(0, 2, 3)), rtol=1e-5, atol=1e-5)   # float32 sums may cancel
    fast, fast_gb = numba_adapters.nchw_to_gemm_layout(gy, np.empty_like(gY))
    np.testing.assert_array_equal(fast, gY)
    np.testing.assert_allclose(fast_gb, gb, rtol=1e-5, atol=1e-5)
    assert layout.nchw_to_gemm_layout(gy, np.empty_like(gY), with_bias_grad=False)[1] is None
