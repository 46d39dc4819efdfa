"""Batch-norm passes: the Numba kernels equal the NumPy references on random shapes, and the
references compute the textbook formulas (docs/batchnorm.md)."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from minicnn import kernels
from minicnn.kernels import batchnorm as ref

SETTINGS = dict(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _case(rng, shape, dtype):
    N, C, S = shape
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    gy = rng.standard_normal(shape).astype(dtype)
    weight, bias = rng.standard_normal(C).astype(dtype), rng.standard_normal(C).astype(dtype)
    mean, var = x.astype(np.float64).mean(axis=(0, 2)), x.astype(np.float64).var(axis=(0, 2))
    inv_std = (1 / np.sqrt(var + 1e-5)).astype(dtype)
    return x, gy, weight, bias, mean.astype(dtype), inv_std


def _all_passes(module, x, gy, weight, bias, mean, inv_std):
    C, dtype = x.shape[1], x.dtype
    stats = module.batch_norm_stats(x, np.empty(C, dtype), np.empty(C, dtype))
    y = module.batch_norm_apply(x, mean, inv_std, weight, bias, np.empty_like(x))
    sums = module.batch_norm_backward_sums(gy, x, mean, inv_std, np.empty(C, dtype), np.empty(C, dtype))
    gx = module.batch_norm_backward_input(gy, x, mean, inv_std, weight, *sums, np.empty_like(x))
    return (*stats, y, *sums, gx)


@pytest.mark.skipif(not kernels.NUMBA_AVAILABLE, reason="numba not installed")
@settings(**SETTINGS)
@given(shape=st.tuples(st.integers(1, 4), st.integers(1, 5), st.integers(1, 30)),
       seed=st.integers(0, 2**16), dtype=st.sampled_from([np.float32, np.float64]))
def test_numba_batch_norm_passes_equal_the_references(shape, seed, dtype):
    from minicnn.kernels import batchnorm_numba
    args = _case(np.random.default_rng(seed), shape, dtype)
    tol = 2e-4 if dtype == np.float32 else 1e-10
    names = ("mean", "var", "y", "sum_gy", "sum_gy_xhat", "gx")
    for name, got, expected in zip(names, _all_passes(batchnorm_numba, *args), _all_passes(ref, *args)):
        scale = max(1.0, float(np.abs(expected).max()))
        np.testing.assert_allclose(got, expected, rtol=tol, atol=tol * scale, err_msg=name)


def test_reference_backward_input_is_the_compact_formula():
    rng = np.random.default_rng(0)
    x, gy, weight, bias, mean, inv_std = _case(rng, (3, 2, 5), np.float64)
    xhat = (x - mean[None, :, None]) * inv_std[None, :, None]
    g = gy * weight[None, :, None]
    m = 15
    expected = inv_std[None, :, None] / m * (m * g - g.sum(axis=(0, 2), keepdims=True)
                                             - xhat * (g * xhat).sum(axis=(0, 2), keepdims=True))
    sums = ref.batch_norm_backward_sums(gy, x, mean, inv_std, np.empty(2), np.empty(2))
    got = ref.batch_norm_backward_input(gy, x, mean, inv_std, weight, *sums, np.empty_like(x))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.skipif(not kernels.NUMBA_AVAILABLE, reason="numba not installed")
def test_the_seam_routes_numpy_arrays_to_numba_and_float16_to_the_reference(impl):
    from minicnn.kernels import numba_adapters
    x = np.zeros((1, 1, 2, 2), np.float32)
    expected = numba_adapters.batch_norm_stats if impl == "numba" else ref.batch_norm_stats
    assert kernels.TABLE["batch_norm_stats"][kernels.implementation_for(x)] is expected
    assert kernels.TABLE["batch_norm_stats"][kernels.implementation_for(x.astype(np.float16))] is ref.batch_norm_stats
