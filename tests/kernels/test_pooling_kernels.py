"""Pooling kernels: the Numba max-pool equals the NumPy reference (values, arg-max, backward),
ties go to the first element of a window, and PyTorch's average-pool divisor rules."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minicnn import kernels
from minicnn.kernels import pooling as ref
from minicnn.geometry import conv_output_size


@st.composite
def pool_geometries(draw):
    """(x_shape, kernel, stride, padding, dilation, ceil_mode) valid under PyTorch's rules."""
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    span = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    h = draw(st.integers(max(1, span[0] - 2 * padding[0]), span[0] + 6))
    w = draw(st.integers(max(1, span[1] - 2 * padding[1]), span[1] + 6))
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 3)), h, w)
    return shape, kernel, stride, padding, dilation, draw(st.booleans())


def _out_hw(shape, kernel, stride, padding, dilation, ceil_mode):
    return tuple(conv_output_size(s, k, st_, p, d, ceil_mode)
                 for s, k, st_, p, d in zip(shape[2:], kernel, stride, padding, dilation))


@pytest.mark.skipif(not kernels.NUMBA_AVAILABLE, reason="numba not installed")
@settings(max_examples=40, deadline=None)
@given(geometry=pool_geometries(), seed=st.integers(0, 2**16), dtype=st.sampled_from([np.float32, np.float64]))
def test_numba_max_pool_equals_the_reference(geometry, seed, dtype):
    from minicnn.kernels import numba_cpu
    shape, kernel, stride, padding, dilation, ceil_mode = geometry
    out_hw = _out_hw(*geometry)
    rng = np.random.default_rng(seed)
    x = rng.integers(-3, 4, size=shape).astype(dtype)           # small integers: many ties
    y_ref, arg_ref = ref.maxpool_forward(x, kernel, stride, padding, dilation, out_hw)
    y, arg = numba_cpu.maxpool_forward(x, *kernel, *stride, *padding, *dilation, *out_hw)
    assert y.dtype == dtype
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(arg, arg_ref)
    gy = rng.standard_normal(y.shape).astype(dtype)
    np.testing.assert_allclose(numba_cpu.maxpool_backward(gy, arg, *shape[2:]), ref.maxpool_backward(gy, arg_ref, shape),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("impl", ["numpy", "numba"])
def test_max_pool_ties_go_to_the_first_element_in_row_major_order(impl):
    if impl == "numba" and not kernels.NUMBA_AVAILABLE:
        pytest.skip("numba not installed")
    x = np.ones((1, 1, 4, 4))
    if impl == "numba":
        from minicnn.kernels import numba_cpu
        _, arg = numba_cpu.maxpool_forward(x, 2, 2, 2, 2, 0, 0, 1, 1, 2, 2)
    else:
        _, arg = ref.maxpool_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), (2, 2))
    np.testing.assert_array_equal(arg[0, 0], [[0, 2], [8, 10]])


@pytest.mark.parametrize("impl", ["numpy", "numba"])
def test_max_pool_propagates_nan(impl):
    if impl == "numba" and not kernels.NUMBA_AVAILABLE:
        pytest.skip("numba not installed")
    x = np.zeros((1, 1, 2, 2))
    x[0, 0, 1, 0] = np.nan
    if impl == "numba":
        from minicnn.kernels import numba_cpu
        y, arg = numba_cpu.maxpool_forward(x, 2, 2, 2, 2, 0, 0, 1, 1, 1, 1)
    else:
        y, arg = ref.maxpool_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), (1, 1))
    assert np.isnan(y[0, 0, 0, 0]) and arg[0, 0, 0, 0] == 2


def test_avg_divisor_counts_padding_but_not_the_ceil_mode_overhang():
    # size 5, kernel 3, stride 2, padding 1, ceil_mode: windows start at -1, 1, 3 (ends 2, 4, 6 -> clipped to 6)
    with_pad = ref.avg_pool_divisor((5, 5), (3, 3), (2, 2), (1, 1), (3, 3), count_include_pad=True)
    without = ref.avg_pool_divisor((5, 5), (3, 3), (2, 2), (1, 1), (3, 3), count_include_pad=False)
    np.testing.assert_array_equal(with_pad[0], [9, 9, 9])
    np.testing.assert_array_equal(without[0], [4, 6, 4])
    # size 4, kernel 3, stride 2, no padding, ceil_mode: second window [2, 5) hangs past the input
    hang = ref.avg_pool_divisor((4, 4), (3, 3), (2, 2), (0, 0), (2, 2), count_include_pad=True)
    np.testing.assert_array_equal(hang[1], [6, 4])
