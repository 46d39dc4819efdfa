"""The Numba LRN kernels agree with the plain-NumPy reference on random shapes."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minicnn.kernels import NUMBA_AVAILABLE, lrn

pytestmark = pytest.mark.skipif(not NUMBA_AVAILABLE, reason="numba is not installed")

cases = st.tuples(st.integers(1, 3), st.integers(1, 12), st.integers(1, 20),   # N, C, S
                  st.integers(1, 7),                                            # size
                  st.sampled_from([np.float32, np.float64]),
                  st.integers(0, 2 ** 31 - 1),
                  st.sampled_from([0.75, 0.5, 1.3]))                             # beta (0.75 has a fast path)


def _numba_and_reference(n, c, s, size, dtype, seed, beta, alpha=0.05, k=1.0):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((n, c, s)) * 3).astype(dtype)
    gy = rng.standard_normal((n, c, s)).astype(dtype)
    cast = np.dtype(dtype).type
    y, s_fast = np.empty_like(x), np.empty_like(x)
    lrn._lrn_forward_numba(x, size, cast(alpha), cast(beta), cast(k), y, s_fast)
    gx = np.empty_like(x)
    lrn._lrn_backward_numba(x, s_fast, gy, size, cast(alpha), cast(beta), gx)
    y_ref, s_ref = lrn.lrn_forward_reference(x, size, alpha, beta, k)
    gx_ref = lrn.lrn_backward_reference(x, s_ref, gy, size, alpha, beta)
    return (y, s_fast, gx), (y_ref, s_ref, gx_ref)


@settings(max_examples=40, deadline=None)
@given(cases)
def test_numba_lrn_forward_and_backward_equal_the_reference(case):
    fast, reference = _numba_and_reference(*case)
    tol = 2e-5 if case[4] == np.float32 else 1e-12
    for a, b in zip(fast, reference):
        assert a.dtype == b.dtype == case[4]
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def test_window_sum_reference_uses_pytorchs_asymmetric_window_for_even_sizes():
    v = np.arange(1.0, 6.0).reshape(1, 5, 1)          # channels 1..5
    # size 4: window [c - 2, c + 1]
    np.testing.assert_array_equal(lrn.window_sum_reference(v, 2, 1)[0, :, 0], [3, 6, 10, 14, 12])


def test_the_seam_gives_the_same_lrn_with_numba_and_the_reference():
    from minicnn import kernels
    from minicnn.kernels import get_kernels, set_kernels
    x = np.random.default_rng(0).standard_normal((2, 4, 3))
    previous = get_kernels()
    try:
        set_kernels("numpy")
        y_ref, _ = kernels.lrn_forward(x, 3, 0.1, 0.75, 1.0)
        set_kernels("numba")
        y_fast, _ = kernels.lrn_forward(x[:, :, ::-1], 3, 0.1, 0.75, 1.0)   # non-contiguous input is fine
    finally:
        set_kernels(previous)
    np.testing.assert_allclose(y_fast[:, :, ::-1], y_ref, rtol=1e-12)
