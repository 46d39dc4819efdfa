"""im2col/col2im: the reference is adjoint, the Numba kernels equal the reference, and the
output-size formula counts exactly the windows that fit (PyTorch's rule)."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import minicnn as mc
from minicnn import kernels
from minicnn.kernels import im2col_reference as ref
from minicnn.geometry import conv_output_size
from tests.helpers import try_import_torch

SETTINGS = dict(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def conv_geometries(draw):
    """(x_shape, kernel, stride, padding, dilation) with at least one output position."""
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    span = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    h = draw(st.integers(max(1, span[0] - 2 * padding[0]), span[0] + 6))
    w = draw(st.integers(max(1, span[1] - 2 * padding[1]), span[1] + 6))
    return (n, c, h, w), kernel, stride, padding, dilation


@settings(**SETTINGS)
@given(geometry=conv_geometries(), seed=st.integers(0, 2**16))
def test_im2col_and_col2im_are_adjoint(xp, geometry, seed):
    shape, kernel, stride, padding, dilation = geometry
    rng = np.random.default_rng(seed)
    x = xp.asarray(rng.standard_normal(shape))
    cols = ref.im2col(x, kernel, stride, padding, dilation)
    c = xp.asarray(rng.standard_normal(cols.shape))
    back = ref.col2im(c, shape, kernel, stride, padding, dilation)
    assert back.shape == shape
    np.testing.assert_allclose(float((cols * c).sum()), float((x * back).sum()), rtol=1e-10, atol=1e-10)


@pytest.mark.skipif(not kernels.NUMBA_AVAILABLE, reason="numba not installed")
@settings(**SETTINGS)
@given(geometry=conv_geometries(), seed=st.integers(0, 2**16), dtype=st.sampled_from([np.float32, np.float64]))
def test_numba_im2col_and_col2im_equal_the_reference(geometry, seed, dtype):
    shape, kernel, stride, padding, dilation = geometry
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    expected = ref.im2col(x, kernel, stride, padding, dilation)
    assert kernels.implementation_for(x) == "numba"
    cols = kernels.im2col(x, kernel, stride, padding, dilation)
    assert cols.dtype == dtype
    np.testing.assert_array_equal(cols, expected)
    c = rng.standard_normal(cols.shape).astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(kernels.col2im(c, shape, kernel, stride, padding, dilation),
                               ref.col2im(c, shape, kernel, stride, padding, dilation), rtol=tol, atol=tol)


@pytest.mark.skipif(not kernels.NUMBA_AVAILABLE, reason="numba not installed")
def test_numba_col2im_fills_a_strided_out_and_returns_it():
    rng = np.random.default_rng(0)
    shape, kernel = (2, 3, 5, 6), (3, 3)
    c = rng.standard_normal((3 * 9, 2 * 5 * 6)).astype(np.float32)
    big = np.full((2, 3, 5, 12), 7.0, dtype=np.float32)
    out = big[..., ::2]                                    # every other column: not contiguous
    got = kernels.col2im(c, shape, kernel, padding=(1, 1), out=out)
    assert got is out
    np.testing.assert_allclose(out, ref.col2im(c, shape, kernel, (1, 1), (1, 1)), rtol=1e-5, atol=1e-5)
    assert (big[..., 1::2] == 7.0).all()                   # the columns in between are untouched


def test_im2col_columns_hold_each_receptive_field_in_weight_order():
    x = np.arange(2 * 2 * 4 * 4, dtype=np.float64).reshape(2, 2, 4, 4)
    cols = ref.im2col(x, (2, 3), (1, 1), (1, 0), (1, 1))          # Ho = 5, Wo = 2
    n, oh, ow = 1, 2, 1
    column = cols[:, (n * 5 + oh) * 2 + ow]
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (0, 0)))
    np.testing.assert_array_equal(column, padded[n, :, oh:oh + 2, ow:ow + 3].reshape(-1))


@settings(max_examples=200, deadline=None)
@given(size=st.integers(1, 40), kernel=st.integers(1, 7), stride=st.integers(1, 5), padding=st.integers(0, 3),
       dilation=st.integers(1, 3))
def test_output_size_counts_the_windows_that_fit_in_the_padded_input(size, kernel, stride, padding, dilation):
    span = dilation * (kernel - 1) + 1
    if span > size + 2 * padding:
        return
    fitting = sum(1 for start in range(0, size + 2 * padding) if start % stride == 0
                  and start + span <= size + 2 * padding)
    assert conv_output_size(size, kernel, stride, padding, dilation) == fitting


@settings(max_examples=200, deadline=None)
@given(size=st.integers(1, 40), kernel=st.integers(1, 7), stride=st.integers(1, 5), padding=st.integers(0, 3))
def test_ceil_mode_adds_at_most_one_window_and_never_starts_one_in_the_right_padding(size, kernel, stride, padding):
    if kernel > size + 2 * padding or 2 * padding > kernel:
        return
    floor = conv_output_size(size, kernel, stride, padding)
    ceil = conv_output_size(size, kernel, stride, padding, ceil_mode=True)
    assert floor <= ceil <= floor + 1
    assert (ceil - 1) * stride - padding < size          # last window starts inside the input or left pad
    torch = try_import_torch()
    if torch is not None:
        y = torch.nn.functional.max_pool2d(torch.zeros(1, 1, size, 1), (kernel, 1), (stride, 1), (padding, 0),
                                           ceil_mode=True)
        assert y.shape[2] == ceil
