"""CUDA im2col/col2im (minicnn/kernels/cupy_gpu.py) against plain loops and the REFERENCE."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minicnn.kernels import cupy_gpu
from tests.kernels.cuda.conftest import host, reference_module
from tests.kernels.cuda.loops import im2col_loops, out_size

REFERENCE = reference_module("im2col_reference")

CASES = [  # kernel, stride, padding, dilation
    ((3, 3), (1, 1), (1, 1), (1, 1)),
    ((2, 3), (2, 1), (0, 2), (1, 1)),
    ((3, 2), (1, 2), (1, 0), (2, 1)),
    ((11, 11), (4, 4), (1, 1), (1, 1)),   # AlexNet conv1's window on a small image
]


@pytest.mark.parametrize("kernel, stride, padding, dilation", CASES)
def test_im2col_matches_plain_loops(dev, rng, kernel, stride, padding, dilation):
    x = rng.standard_normal((2, 2, 15, 13))
    cols = cupy_gpu.im2col(dev.asarray(x), kernel, stride, padding, dilation)
    np.testing.assert_array_equal(host(cols), im2col_loops(x, kernel, stride, padding, dilation))


@pytest.mark.parametrize("kernel, stride, padding, dilation", CASES)
def test_col2im_is_the_adjoint_of_im2col(dev, rng, kernel, stride, padding, dilation):
    x = rng.standard_normal((2, 2, 15, 13))
    cols_shape = im2col_loops(x, kernel, stride, padding, dilation).shape
    c = rng.standard_normal(cols_shape)
    lhs = np.sum(host(cupy_gpu.im2col(dev.asarray(x), kernel, stride, padding, dilation)) * c)
    rhs = np.sum(x * host(cupy_gpu.col2im(dev.asarray(c), x.shape, kernel, stride, padding, dilation)))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12)


def test_col2im_sums_a_pixel_over_every_window_that_saw_it(dev):
    # all-ones cols: dx counts how many windows cover each pixel (3x3, stride 1, no pad)
    dx = host(cupy_gpu.col2im(dev.ones((9, 9)), (1, 1, 5, 5), (3, 3)))
    count_1d = np.array([1, 2, 3, 2, 1])
    np.testing.assert_array_equal(dx[0, 0], np.outer(count_1d, count_1d))


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_im2col_and_col2im_keep_the_input_dtype(dev, rng, dtype):
    x = rng.standard_normal((1, 2, 6, 6)).astype(dtype)
    cols = cupy_gpu.im2col(dev.asarray(x), (3, 3), (1, 1), (1, 1))
    assert cols.dtype == dtype
    np.testing.assert_array_equal(host(cols), im2col_loops(x, (3, 3), (1, 1), (1, 1), (1, 1)))
    dx = cupy_gpu.col2im(cols, x.shape, (3, 3), (1, 1), (1, 1))
    assert dx.dtype == dtype
    exact = host(cupy_gpu.col2im(dev.asarray(host(cols).astype(np.float64)), x.shape, (3, 3), (1, 1), (1, 1)))
    np.testing.assert_allclose(host(dx), exact, rtol=2e-3 if dtype == np.float16 else 1e-6, atol=1e-3)


def test_col2im_rejects_cols_of_the_wrong_shape(dev):
    with pytest.raises(ValueError, match=r"col2im: expected cols of shape \(9, 9\).*got \(9, 8\)"):
        cupy_gpu.col2im(dev.zeros((9, 8)), (1, 1, 5, 5), (3, 3))


def test_im2col_rejects_a_3d_input(dev):
    with pytest.raises(ValueError, match=r"im2col: expected x with 4 dims, got shape \(2, 5, 5\)"):
        cupy_gpu.im2col(dev.zeros((2, 5, 5)), (3, 3))


@st.composite
def conv_problems(draw):
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    p = (draw(st.integers(0, k[0] // 2 + 1)), draw(st.integers(0, k[1] // 2 + 1)))
    hw = [draw(st.integers(max(1, d[a] * (k[a] - 1) + 1 - 2 * p[a]), 9)) for a in (0, 1)]
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), *hw)
    return shape, k, s, p, d


@settings(max_examples=15, deadline=None)
@given(problem=conv_problems(), seed=st.integers(0, 2**31 - 1))
def test_im2col_and_col2im_agree_with_the_numpy_reference(dev, problem, seed):
    shape, k, s, p, d = problem
    assert out_size(shape[2], k[0], s[0], p[0], d[0]) >= 1
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    cols = cupy_gpu.im2col(dev.asarray(x), k, s, p, d)
    np.testing.assert_array_equal(host(cols), REFERENCE.im2col(x, k, s, p, d))
    c = rng.standard_normal(cols.shape)
    np.testing.assert_allclose(host(cupy_gpu.col2im(dev.asarray(c), shape, k, s, p, d)),
                               REFERENCE.col2im(c, shape, k, s, p, d), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float16])
def test_col2im_writes_into_a_strided_out_slice(dev, rng, dtype):
    # one group's channels of a wider gradient, as a grouped convolution's backward uses it
    x_shape = (2, 2, 5, 4)
    cols = rng.standard_normal((2 * 9, 2 * 5 * 4)).astype(dtype)
    whole = dev.full((2, 6, 5, 4), 7.0, dtype=dtype)
    result = cupy_gpu.col2im(dev.asarray(cols), x_shape, (3, 3), (1, 1), (1, 1), out=whole[:, 2:4])
    expected = host(cupy_gpu.col2im(dev.asarray(cols), x_shape, (3, 3), (1, 1), (1, 1)))
    np.testing.assert_array_equal(host(whole)[:, 2:4], expected)
    np.testing.assert_array_equal(host(result), expected)
    assert np.all(host(whole)[:, :2] == 7.0) and np.all(host(whole)[:, 4:] == 7.0)
    with pytest.raises(ValueError, match=r"out has shape \(2, 6, 5, 4\), expected \(2, 2, 5, 4\)"):
        cupy_gpu.col2im(dev.asarray(cols), x_shape, (3, 3), (1, 1), (1, 1), out=whole)


def test_kernels_accept_non_contiguous_inputs(dev, rng):
    x = rng.standard_normal((2, 3, 6, 5))
    x_view = dev.asarray(x).transpose(0, 1, 3, 2)          # (2, 3, 5, 6), strided
    np.testing.assert_array_equal(host(cupy_gpu.im2col(x_view, (2, 2))),
                                  im2col_loops(x.transpose(0, 1, 3, 2), (2, 2), (1, 1), (0, 0), (1, 1)))
    cols = rng.standard_normal((3 * 2 * 2, 2 * 4 * 5))
    cols_view = dev.asarray(np.asfortranarray(cols))
    np.testing.assert_array_equal(host(cupy_gpu.col2im(cols_view, (2, 3, 5, 6), (2, 2))),
                                  host(cupy_gpu.col2im(dev.asarray(cols), (2, 3, 5, 6), (2, 2))))
