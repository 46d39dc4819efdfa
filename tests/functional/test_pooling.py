"""Pooling ops: finite-difference gradients, PyTorch parity (padding, ceil_mode,
count_include_pad, adaptive bins), overlapping windows, float32 and errors."""
import numpy as np
import pytest

import minicnn as mc
from minicnn import functional as F, kernels
from tests.helpers import randt, try_import_torch

# (x_shape, kernel, stride, padding, ceil_mode)
POOLS = {
    "2x2": ((2, 2, 6, 4), 2, None, 0, False),
    "overlapping-3/2": ((1, 2, 7, 7), 3, 2, 0, False),
    "3/2-pad1-ceil": ((2, 1, 6, 7), 3, 2, 1, True),
    "nonsquare-ceil": ((1, 2, 7, 6), (3, 2), (2, 1), (1, 0), True),
    "k2-s1-pad1": ((1, 2, 4, 5), 2, 1, 1, False),
    "k5-s4-ceil": ((1, 1, 10, 11), 5, 4, 2, True),
}


def _distinct(xp, rng, shape):
    """Values at least 1e-3 apart, so a finite difference never flips an arg-max."""
    values = rng.permutation(np.prod(shape)).reshape(shape) * 1e-2 + rng.uniform(-1e-3, 1e-3, shape)
    return mc.Tensor(xp.asarray(values), requires_grad=True)


def _torch_check(torch, ours, theirs, x, tx, gy):
    ours.backward(mc.backend.get_array_module(x.data).asarray(gy))
    theirs.backward(torch.tensor(gy))
    np.testing.assert_allclose(mc.to_numpy(ours.data), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(mc.to_numpy(x.grad.data), tx.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", POOLS.values(), ids=POOLS.keys())
def test_max_pool_passes_gradcheck(xp, rng, impl, case):
    shape, kernel, stride, padding, ceil_mode = case
    x = _distinct(xp, rng, shape)
    assert mc.gradcheck(lambda t: F.max_pool2d(t, kernel, stride, padding, ceil_mode), [x])


def test_dilated_max_pool_passes_gradcheck(xp, rng, impl):
    x = _distinct(xp, rng, (1, 2, 7, 6))
    assert mc.gradcheck(lambda t: F.max_pool2d(t, 2, 1, 1, True, dilation=(2, 3)), [x])


@pytest.mark.parametrize("case", POOLS.values(), ids=POOLS.keys())
def test_max_pool_matches_torch_forward_backward_and_indices(xp, rng, impl, case):
    torch = try_import_torch() or pytest.skip("torch not installed")
    shape, kernel, stride, padding, ceil_mode = case
    x = randt(xp, rng, *shape)
    y, indices = F.max_pool2d(x, kernel, stride, padding, ceil_mode, return_indices=True)
    tx = torch.tensor(mc.to_numpy(x.data), requires_grad=True)
    ty, tidx = torch.nn.functional.max_pool2d(tx, kernel, stride, padding, ceil_mode=ceil_mode, return_indices=True)
    np.testing.assert_array_equal(mc.to_numpy(indices.data), tidx.numpy())
    _torch_check(torch, y, ty, x, tx, rng.standard_normal(y.shape))


@pytest.mark.parametrize("impl_name", ["numba", "numpy"])
def test_overlapping_max_pool_sums_grads_where_windows_overlap(xp, impl_name):
    if impl_name == "numba" and not kernels.NUMBA_AVAILABLE:
        pytest.skip("numba not installed")
    kernels.set_kernels(impl_name)
    try:
        x = np.zeros((1, 1, 5, 5))
        x[0, 0, 2, 2] = 10.0                       # the centre is in all four 3x3 windows of stride 2
        x = mc.Tensor(xp.asarray(x), requires_grad=True)
        y = F.max_pool2d(x, 3, 2)
        gy = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
        y.backward(xp.asarray(gy))
        expected = np.zeros((1, 1, 5, 5))
        expected[0, 0, 2, 2] = 10.0
        np.testing.assert_array_equal(mc.to_numpy(x.grad.data), expected)
    finally:
        kernels.set_kernels("numba" if kernels.NUMBA_AVAILABLE else "numpy")


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("case", POOLS.values(), ids=POOLS.keys())
def test_avg_pool_passes_gradcheck_and_matches_torch(xp, rng, case, count_include_pad):
    shape, kernel, stride, padding, ceil_mode = case
    x = randt(xp, rng, *shape)
    assert mc.gradcheck(lambda t: F.avg_pool2d(t, kernel, stride, padding, ceil_mode, count_include_pad), [x])
    torch = try_import_torch()
    if torch is None:
        return
    x.grad = None
    y = F.avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad)
    tx = torch.tensor(mc.to_numpy(x.data), requires_grad=True)
    ty = torch.nn.functional.avg_pool2d(tx, kernel, stride, padding, ceil_mode, count_include_pad)
    _torch_check(torch, y, ty, x, tx, rng.standard_normal(y.shape))


def test_avg_pool_divisor_override_matches_torch(rng):
    torch = try_import_torch() or pytest.skip("torch not installed")
    x = randt(np, rng, 1, 2, 5, 5)
    y = F.avg_pool2d(x, 3, 2, 1, divisor_override=2)
    ty = torch.nn.functional.avg_pool2d(torch.tensor(x.data), 3, 2, 1, divisor_override=2)
    np.testing.assert_allclose(y.data, ty.numpy(), rtol=1e-12)


@pytest.mark.parametrize("in_hw, out", [((5, 7), (3, 4)), ((6, 6), 3), ((7, 5), (None, 2)), ((4, 4), 1)])
def test_adaptive_avg_pool_passes_gradcheck_and_matches_torch(xp, rng, in_hw, out):
    x = randt(xp, rng, 2, 2, *in_hw)
    assert mc.gradcheck(lambda t: F.adaptive_avg_pool2d(t, out), [x])
    torch = try_import_torch()
    if torch is None:
        return
    x.grad = None
    y = F.adaptive_avg_pool2d(x, out)
    tx = torch.tensor(mc.to_numpy(x.data), requires_grad=True)
    _torch_check(torch, y, torch.nn.functional.adaptive_avg_pool2d(tx, out), x, tx, rng.standard_normal(y.shape))


def test_global_avg_pool_is_the_mean_of_each_map_and_passes_gradcheck(xp, rng):
    x = randt(xp, rng, 2, 3, 4, 5)
    y = F.global_avg_pool2d(x)
    assert y.shape == (2, 3, 1, 1)
    np.testing.assert_allclose(mc.to_numpy(y.data), mc.to_numpy(x.data).mean(axis=(2, 3), keepdims=True))
    assert mc.gradcheck(F.global_avg_pool2d, [x])


@pytest.mark.parametrize("op", [
    lambda t: F.max_pool2d(t, 3, 2, 1, True), lambda t: F.avg_pool2d(t, 3, 2, 1, True),
    lambda t: F.adaptive_avg_pool2d(t, (3, 2)), F.global_avg_pool2d])
def test_pools_keep_float32(rng, impl, op):
    x = randt(np, rng, 2, 3, 9, 8, dtype=np.float32)
    y = op(x)
    y.backward(np.ones(y.shape, np.float32))
    assert y.dtype == np.float32 and x.grad.dtype == np.float32


@pytest.mark.parametrize("call, message", [
    (lambda x: F.max_pool2d(x[0], 2), r"max_pool2d: expected a 4-D input \(N, C, H, W\), got shape \(1, 4, 4\)"),
    (lambda x: F.max_pool2d(x, 3, padding=2), r"max_pool2d: padding must be at most half the kernel size"),
    (lambda x: F.max_pool2d(x, 0), r"max_pool2d: kernel_size must be positive, got \(0, 0\)"),
    (lambda x: F.max_pool2d(x, 2, stride=(1, 0)), r"max_pool2d: stride must be positive, got \(1, 0\)"),
    (lambda x: F.max_pool2d(x, 2, padding=-1), r"max_pool2d: padding must be non-negative"),
    (lambda x: F.max_pool2d(x, 6, padding=0), r"max_pool2d: kernel \(6, 6\).*larger than the padded input \(4, 4\)"),
    (lambda x: F.avg_pool2d(x, 3, padding=2), r"avg_pool2d: padding must be at most half the kernel size"),
    (lambda x: F.adaptive_avg_pool2d(x, 0), r"adaptive_avg_pool2d: output_size must be a positive int"),
])
def test_pools_reject_bad_arguments_with_a_clear_message(call, message):
    x = mc.Tensor(np.zeros((1, 1, 4, 4)))
    with pytest.raises(ValueError, match=message):
        call(x)
