"""CUDA LRN forward/backward (minicnn/kernels/cupy_gpu.py) against loops, PyTorch, finite
differences and the NumPy reference, for both alpha scalings."""
import numpy as np
import pytest

from minicnn.kernels import cupy_gpu
from tests.helpers import require_torch
from tests.kernels.cuda.conftest import host, reference_module
from tests.kernels.cuda.loops import lrn_loops

REFERENCE = reference_module("lrn")
ALPHA, BETA = 0.5, 0.75     # a large alpha so the normalisation visibly matters


def effective_alpha(alpha, size, alpha_scaling):
    """"pytorch" divides alpha by the window size, "paper" (Krizhevsky 2012) does not."""
    return alpha / size if alpha_scaling == "pytorch" else alpha


@pytest.mark.parametrize("alpha_scaling", ["pytorch", "paper"])
@pytest.mark.parametrize("size", [1, 2, 3, 4, 5])
def test_lrn_forward_matches_plain_loops(dev, rng, size, alpha_scaling):
    x = rng.standard_normal((2, 6, 5))
    a = effective_alpha(ALPHA, size, alpha_scaling)
    y, s = cupy_gpu.lrn_forward(dev.asarray(x), size, a, BETA, 2.0)
    np.testing.assert_allclose(host(y), lrn_loops(x, size, a, BETA, 2.0), rtol=1e-12)
    np.testing.assert_allclose(host(s), (x / host(y)) ** (1 / BETA), rtol=1e-10)


@pytest.mark.parametrize("alpha_scaling", ["pytorch", "paper"])
@pytest.mark.parametrize("size", [2, 5])
def test_lrn_forward_and_backward_match_pytorch(dev, rng, size, alpha_scaling):
    torch = require_torch()
    x = rng.standard_normal((2, 7, 3, 2))
    gy = rng.standard_normal(x.shape)
    a = effective_alpha(ALPHA, size, alpha_scaling)
    xt = torch.tensor(x, requires_grad=True)
    y_t = torch.nn.functional.local_response_norm(xt, size, alpha=a * size, beta=BETA, k=1.5)  # torch divides by size
    y_t.backward(torch.tensor(gy))
    x3 = dev.asarray(x.reshape(2, 7, -1))
    y, s = cupy_gpu.lrn_forward(x3, size, a, BETA, 1.5)
    gx = cupy_gpu.lrn_backward(x3, s, dev.asarray(gy.reshape(2, 7, -1)), size, a, BETA)
    np.testing.assert_allclose(host(y).reshape(x.shape), y_t.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(host(gx).reshape(x.shape), xt.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("size", [3, 4])
def test_lrn_backward_matches_central_differences(dev, rng, size):
    x = rng.standard_normal((1, 5, 3))
    gy = rng.standard_normal(x.shape)
    y, s = cupy_gpu.lrn_forward(dev.asarray(x), size, ALPHA, BETA, 1.0)
    gx = host(cupy_gpu.lrn_backward(dev.asarray(x), s, dev.asarray(gy), size, ALPHA, BETA))
    eps, numeric = 1e-6, np.empty_like(x)
    for index in np.ndindex(x.shape):   # loops, not the kernel: an independent forward
        bump = np.zeros_like(x)
        bump[index] = eps
        numeric[index] = np.sum(gy * (lrn_loops(x + bump, size, ALPHA, BETA, 1.0)
                                      - lrn_loops(x - bump, size, ALPHA, BETA, 1.0))) / (2 * eps)
    np.testing.assert_allclose(gx, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 1e-5), (np.float16, 5e-3)])
def test_lrn_keeps_the_input_dtype(dev, rng, dtype, rtol):
    x = rng.standard_normal((2, 6, 4))
    x_low = x.astype(dtype)
    y, s = cupy_gpu.lrn_forward(dev.asarray(x_low), 5, 1e-2, BETA, 2.0)
    gx = cupy_gpu.lrn_backward(dev.asarray(x_low), s, dev.asarray(np.ones_like(x_low)), 5, 1e-2, BETA)
    assert y.dtype == s.dtype == gx.dtype == dtype
    y64, s64 = cupy_gpu.lrn_forward(dev.asarray(x_low.astype(np.float64)), 5, 1e-2, BETA, 2.0)
    gx64 = cupy_gpu.lrn_backward(dev.asarray(x_low.astype(np.float64)), s64, dev.ones(x.shape), 5, 1e-2, BETA)
    np.testing.assert_allclose(host(y), host(y64), rtol=rtol, atol=rtol)
    np.testing.assert_allclose(host(gx), host(gx64), rtol=rtol, atol=rtol)


def test_lrn_backward_rejects_mismatched_shapes(dev):
    with pytest.raises(ValueError, match=r"x, s and gy must share a shape"):
        cupy_gpu.lrn_backward(dev.ones((1, 3, 2)), dev.ones((1, 3, 2)), dev.ones((1, 3, 3)), 3, 1e-4, 0.75)


@pytest.mark.parametrize("alpha_scaling", ["pytorch", "paper"])
@pytest.mark.parametrize("size, channels", [(5, 7), (4, 3), (1, 2), (6, 4)])
def test_lrn_agrees_with_the_numpy_reference(dev, rng, size, channels, alpha_scaling):
    x = rng.standard_normal((2, channels, 6))
    gy = rng.standard_normal(x.shape)
    a = effective_alpha(ALPHA, size, alpha_scaling)
    y, s = cupy_gpu.lrn_forward(dev.asarray(x), size, a, BETA, 2.0)
    y_ref, s_ref = REFERENCE.lrn_forward_reference(x, size, a, BETA, 2.0)
    np.testing.assert_allclose(host(y), y_ref, rtol=1e-12)
    np.testing.assert_allclose(host(s), s_ref, rtol=1e-12)
    gx = cupy_gpu.lrn_backward(dev.asarray(x), s, dev.asarray(gy), size, a, BETA)
    np.testing.assert_allclose(host(gx), REFERENCE.lrn_backward_reference(x, s_ref, gy, size, a, BETA),
                               rtol=1e-10, atol=1e-12)
