"""CUDA max-pool forward/backward (minicnn/kernels/cupy_gpu.py) against loops, PyTorch and
the NumPy reference."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minicnn.kernels import cupy_gpu
from tests.helpers import require_torch, try_import_torch
from tests.kernels.cuda.conftest import host, reference_module
from tests.kernels.cuda.loops import maxpool_loops, out_size

REFERENCE = reference_module("pooling")

CASES = [  # kernel, stride, padding, dilation, ceil_mode
    ((3, 3), (2, 2), (0, 0), (1, 1), False),   # AlexNet's overlapping pool
    ((2, 2), (2, 2), (0, 0), (1, 1), False),
    ((3, 3), (2, 2), (1, 1), (1, 1), True),
    ((3, 2), (1, 2), (1, 1), (2, 1), False),
    ((2, 3), (3, 2), (0, 1), (1, 1), True),
]


def _torch_pool(torch, x, kernel, stride, padding, dilation, ceil_mode):
    xt = torch.tensor(x, requires_grad=True)
    y, idx = torch.nn.functional.max_pool2d(xt, kernel, stride, padding, dilation, ceil_mode=ceil_mode,
                                            return_indices=True)
    return xt, y, idx


@pytest.mark.parametrize("kernel, stride, padding, dilation, ceil_mode", CASES)
def test_maxpool_forward_matches_loops_and_pytorch(dev, rng, kernel, stride, padding, dilation, ceil_mode):
    x = rng.standard_normal((2, 3, 9, 8))
    torch = try_import_torch()
    if torch is not None:   # PyTorch decides the ceil_mode output size independently of us
        _, y_t, idx_t = _torch_pool(torch, x, kernel, stride, padding, dilation, ceil_mode)
        out_hw = tuple(y_t.shape[2:])
    else:
        out_hw = tuple(out_size(s, k, st_, p, d, ceil_mode)
                       for s, k, st_, p, d in zip(x.shape[2:], kernel, stride, padding, dilation))
    y, argmax = cupy_gpu.maxpool_forward(dev.asarray(x), kernel, stride, padding, dilation, out_hw)
    y_loop, argmax_loop = maxpool_loops(x, kernel, stride, padding, dilation, out_hw)
    np.testing.assert_array_equal(host(y), y_loop)
    np.testing.assert_array_equal(host(argmax), argmax_loop)
    if torch is not None:
        np.testing.assert_array_equal(host(y), y_t.detach().numpy())
        np.testing.assert_array_equal(host(argmax), idx_t.numpy())


@pytest.mark.parametrize("kernel, stride, padding, dilation, ceil_mode", CASES)
def test_maxpool_backward_matches_pytorch(dev, rng, kernel, stride, padding, dilation, ceil_mode):
    torch = require_torch()
    x = rng.standard_normal((2, 2, 9, 8))
    xt, y_t, _ = _torch_pool(torch, x, kernel, stride, padding, dilation, ceil_mode)
    gy = rng.standard_normal(tuple(y_t.shape))
    y_t.backward(torch.tensor(gy))
    _, argmax = cupy_gpu.maxpool_forward(dev.asarray(x), kernel, stride, padding, dilation, tuple(y_t.shape[2:]))
    gx = cupy_gpu.maxpool_backward(dev.asarray(gy), argmax, x.shape)
    np.testing.assert_allclose(host(gx), xt.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_overlapping_pool_sums_grads_where_windows_overlap(dev):
    # a single bright pixel at (2, 2) wins all four 3x3/stride-2 windows of a 5x5 plane
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 2, 2] = 1.0
    y, argmax = cupy_gpu.maxpool_forward(dev.asarray(x), (3, 3), (2, 2), (0, 0), (1, 1), (2, 2))
    assert np.all(host(argmax) == 2 * 5 + 2)
    gy = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    gx = host(cupy_gpu.maxpool_backward(dev.asarray(gy), argmax, x.shape))
    expected = np.zeros_like(x)
    expected[0, 0, 2, 2] = 10.0
    np.testing.assert_array_equal(gx, expected)


def test_maxpool_ties_go_to_the_first_pixel_and_padding_never_wins(dev):
    x = np.full((1, 1, 4, 4), -5.0)   # all equal and negative: the -inf padding must still lose
    y, argmax = cupy_gpu.maxpool_forward(dev.asarray(x), (3, 3), (2, 2), (1, 1), (1, 1), (2, 2))
    np.testing.assert_array_equal(host(y), np.full((1, 1, 2, 2), -5.0))
    np.testing.assert_array_equal(host(argmax)[0, 0], [[0, 1], [4, 5]])


def test_maxpool_propagates_nan_like_pytorch(dev):
    x = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)
    x[0, 0, 0, 1] = np.nan
    y, argmax = cupy_gpu.maxpool_forward(dev.asarray(x), (2, 2), (2, 2), (0, 0), (1, 1), (2, 2))
    y = host(y)
    assert np.isnan(y[0, 0, 0, 0]) and host(argmax)[0, 0, 0, 0] == 1
    np.testing.assert_array_equal(y[0, 0, 1], [13.0, 15.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_maxpool_keeps_the_input_dtype(dev, rng, dtype):
    x = rng.standard_normal((2, 2, 6, 6)).astype(dtype)
    y, argmax = cupy_gpu.maxpool_forward(dev.asarray(x), (3, 3), (2, 2), (0, 0), (1, 1), (2, 2))
    assert y.dtype == dtype
    y_loop, argmax_loop = maxpool_loops(x, (3, 3), (2, 2), (0, 0), (1, 1), (2, 2))
    np.testing.assert_array_equal(host(y), y_loop)
    np.testing.assert_array_equal(host(argmax), argmax_loop)
    gx = cupy_gpu.maxpool_backward(dev.asarray(np.ones(y.shape, dtype=dtype)), argmax, x.shape)
    assert gx.dtype == dtype and float(host(gx).sum()) == y.size


def test_maxpool_backward_rejects_mismatched_argmax(dev):
    with pytest.raises(ValueError, match=r"argmax shape \(1, 1, 2, 2\) != gy shape \(1, 1, 3, 3\)"):
        cupy_gpu.maxpool_backward(dev.zeros((1, 1, 3, 3)), dev.zeros((1, 1, 2, 2), dtype=np.int32), (1, 1, 6, 6))


@st.composite
def pool_problems(draw):
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    p = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    hw = [draw(st.integers(k[a], 8)) for a in (0, 1)]
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), *hw)
    out_hw = tuple(out_size(hw[a], k[a], s[a], p[a]) for a in (0, 1))
    return shape, k, s, p, out_hw


@settings(max_examples=15, deadline=None)
@given(problem=pool_problems(), seed=st.integers(0, 2**31 - 1))
def test_maxpool_agrees_with_the_numpy_reference(dev, problem, seed):
    shape, k, s, p, out_hw = problem
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    y, argmax = cupy_gpu.maxpool_forward(dev.asarray(x), k, s, p, (1, 1), out_hw)
    y_ref, argmax_ref = REFERENCE.maxpool_forward(x, k, s, p, (1, 1), out_hw)
    np.testing.assert_array_equal(host(y), y_ref)
    np.testing.assert_array_equal(host(argmax), argmax_ref)
    gy = rng.standard_normal(y.shape)
    np.testing.assert_allclose(host(cupy_gpu.maxpool_backward(dev.asarray(gy), argmax, shape)),
                               REFERENCE.maxpool_backward(gy, argmax_ref, shape), rtol=1e-12, atol=1e-12)
