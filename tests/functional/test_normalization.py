import numpy as np
import pytest

import minicnn as mc
from minicnn import functional as F
from tests.helpers import randt, try_import_torch

SHAPES = [(5, 3), (4, 3, 5), (3, 3, 2, 4)]


def _torch():
    torch = try_import_torch()
    if torch is None:
        pytest.skip("torch is not installed")
    return torch


# --- batch_norm ----------------------------------------------------------------------
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradients_match_finite_differences(xp, rng, shape, training):
    x, w, b = randt(xp, rng, *shape), randt(xp, rng, 3), randt(xp, rng, 3)
    running_mean, running_var = xp.asarray(rng.standard_normal(3)), xp.asarray(rng.uniform(0.5, 2, 3))

    def bn(x, w, b):
        return F.batch_norm(x, running_mean.copy(), running_var.copy(), w, b, training=training)
    assert mc.gradcheck(bn, [x, w, b])


@pytest.mark.parametrize("shape", SHAPES)
def test_batch_norm_without_affine_parameters_has_correct_gradient(xp, rng, shape):
    x = randt(xp, rng, *shape)
    assert mc.gradcheck(lambda x: F.batch_norm(x, None, None, training=True), [x])


def test_batch_norm_training_normalises_each_channel(xp, rng):
    x = randt(xp, rng, 8, 3, 4, 4, low=-5, high=9, requires_grad=False)
    y = mc.to_numpy(F.batch_norm(x, None, None, training=True).data)
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, rtol=1e-4)


def test_batch_norm_updates_running_stats_with_momentum_and_unbiased_variance(xp, rng):
    x_np = rng.standard_normal((6, 2, 3)) * 2 + 1
    running_mean, running_var = xp.zeros(2), xp.ones(2)
    F.batch_norm(mc.Tensor(xp.asarray(x_np)), running_mean, running_var, training=True, momentum=0.25)
    batch_mean = x_np.mean(axis=(0, 2))
    batch_var_unbiased = x_np.var(axis=(0, 2), ddof=1)
    np.testing.assert_allclose(mc.to_numpy(running_mean), 0.25 * batch_mean, rtol=1e-12)
    np.testing.assert_allclose(mc.to_numpy(running_var), 0.75 + 0.25 * batch_var_unbiased, rtol=1e-12)


def test_batch_norm_eval_uses_running_stats_and_leaves_them_alone(xp, rng):
    x = randt(xp, rng, 4, 2, requires_grad=False)
    running_mean, running_var = xp.asarray([1.0, -1.0]), xp.asarray([4.0, 0.25])
    w, b = mc.Tensor(xp.asarray([2.0, 3.0])), mc.Tensor(xp.asarray([0.5, 0.0]))
    y = F.batch_norm(x, running_mean, running_var, w, b, training=False, eps=0.0)
    expected = (mc.to_numpy(x.data) - [1.0, -1.0]) / [2.0, 0.5] * [2.0, 3.0] + [0.5, 0.0]
    np.testing.assert_allclose(mc.to_numpy(y.data), expected, rtol=1e-12)
    assert mc.to_numpy(running_mean).tolist() == [1.0, -1.0]


def test_batch_norm_keeps_float32(xp, rng):
    x, w, b = randt(xp, rng, 4, 3, 2, 2, dtype=np.float32), randt(xp, rng, 3, dtype=np.float32), randt(xp, rng, 3, dtype=np.float32)
    running_mean, running_var = xp.zeros(3, dtype=np.float32), xp.ones(3, dtype=np.float32)
    y = F.batch_norm(x, running_mean, running_var, w, b, training=True)
    y.sum().backward()
    assert {y.dtype, x.grad.dtype, w.grad.dtype, b.grad.dtype, running_var.dtype} == {np.dtype(np.float32)}


def test_batch_norm_rejects_bad_shapes(xp):
    with pytest.raises(ValueError, match=r"batch_norm: expected input \(N, C\).*got \(3,\)"):
        F.batch_norm(mc.Tensor(xp.zeros(3)), None, None, training=True)
    with pytest.raises(ValueError, match=r"expected weight of shape \(2,\).*got \(3,\)"):
        F.batch_norm(mc.Tensor(xp.zeros((4, 2))), None, None, mc.Tensor(xp.ones(3)), training=True)
    with pytest.raises(ValueError, match=r"more than 1 value per channel"):
        F.batch_norm(mc.Tensor(xp.zeros((1, 2))), None, None, training=True)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (4, 3, 3, 5)])
def test_batch_norm_matches_torch_over_several_steps_then_in_eval(xp, rng, shape):
    torch = _torch()
    w_np, b_np = rng.standard_normal(3), rng.standard_normal(3)
    w, b = mc.Tensor(xp.asarray(w_np), requires_grad=True), mc.Tensor(xp.asarray(b_np), requires_grad=True)
    wt, bt = torch.tensor(w_np, requires_grad=True), torch.tensor(b_np, requires_grad=True)
    rm, rv = xp.zeros(3), xp.ones(3)
    rmt, rvt = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    for step in range(4):
        training = step < 3
        x_np, gy = rng.standard_normal(shape) * 3 + 1, rng.standard_normal(shape)
        x = mc.Tensor(xp.asarray(x_np), requires_grad=True)
        y = F.batch_norm(x, rm, rv, w, b, training=training, momentum=0.2)
        y.backward(xp.asarray(gy))
        xt = torch.tensor(x_np, requires_grad=True)
        yt = torch.nn.functional.batch_norm(xt, rmt, rvt, wt, bt, training=training, momentum=0.2)
        yt.backward(torch.tensor(gy))
        np.testing.assert_allclose(mc.to_numpy(y.data), yt.detach().numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(mc.to_numpy(x.grad.data), xt.grad.numpy(), rtol=1e-8, atol=1e-11)
        np.testing.assert_allclose(mc.to_numpy(rm), rmt.numpy(), rtol=1e-12)
        np.testing.assert_allclose(mc.to_numpy(rv), rvt.numpy(), rtol=1e-12)
    np.testing.assert_allclose(mc.to_numpy(w.grad.data), wt.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(mc.to_numpy(b.grad.data), bt.grad.numpy(), rtol=1e-9)


# --- local_response_norm ---------------------------------------------------------------
def _lrn_by_definition(x, size, alpha, beta, k, alpha_scaling):
    """Straight from the formula, one channel at a time (x: (N, C, ...), NumPy)."""
    a = alpha / size if alpha_scaling == "pytorch" else alpha
    y = np.empty_like(x)
    for c in range(x.shape[1]):
        lo, hi = max(0, c - size // 2), min(x.shape[1] - 1, c + (size - 1) // 2)
        y[:, c] = x[:, c] / (k + a * (x[:, lo:hi + 1] ** 2).sum(axis=1)) ** beta
    return y


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("alpha_scaling", ["pytorch", "paper"])
def test_lrn_forward_follows_the_definition(xp, rng, impl, size, alpha_scaling):
    x = randt(xp, rng, 2, 6, 3, 2, low=-2, high=2, requires_grad=False)
    y = F.local_response_norm(x, size, alpha=0.3, beta=0.75, k=2.0, alpha_scaling=alpha_scaling)
    expected = _lrn_by_definition(mc.to_numpy(x.data), size, 0.3, 0.75, 2.0, alpha_scaling)
    np.testing.assert_allclose(mc.to_numpy(y.data), expected, rtol=1e-12)


@pytest.mark.parametrize("size,shape", [(1, (2, 3, 2)), (2, (2, 4, 3)), (3, (1, 5, 2, 2)),
                                        (4, (2, 5, 2, 3)), (5, (2, 7, 2, 2)), (9, (1, 4, 3))])
@pytest.mark.parametrize("alpha_scaling", ["pytorch", "paper"])
def test_lrn_gradient_matches_finite_differences(xp, rng, impl, size, shape, alpha_scaling):
    x = randt(xp, rng, *shape, low=-2, high=2)
    assert mc.gradcheck(lambda t: F.local_response_norm(t, size, alpha=0.5, beta=0.75, k=1.5,
                                                        alpha_scaling=alpha_scaling), [x])


def test_lrn_paper_scaling_is_pytorch_scaling_with_alpha_times_size(xp, rng):
    x = randt(xp, rng, 2, 8, 3, 3, requires_grad=False)
    paper = F.local_response_norm(x, 5, alpha=1e-4, beta=0.75, k=2.0, alpha_scaling="paper")
    pytorch = F.local_response_norm(x, 5, alpha=5e-4, beta=0.75, k=2.0)
    np.testing.assert_allclose(mc.to_numpy(paper.data), mc.to_numpy(pytorch.data), rtol=1e-14)


def test_lrn_keeps_float32(xp, rng, impl):
    x = randt(xp, rng, 2, 6, 4, 4, dtype=np.float32)
    y = F.local_response_norm(x, 5)
    y.sum().backward()
    assert y.dtype == x.grad.dtype == np.float32


def test_lrn_rejects_bad_arguments(xp):
    x = mc.Tensor(xp.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"local_response_norm: expected input \(N, C, \.\.\.\).*got \(2, 3\)"):
        F.local_response_norm(x, 3)
    with pytest.raises(ValueError, match=r"positive integer size, got 0"):
        F.local_response_norm(mc.Tensor(xp.zeros((2, 3, 4))), 0)
    with pytest.raises(ValueError, match=r"alpha_scaling in .*got 'caffe'"):
        F.local_response_norm(mc.Tensor(xp.zeros((2, 3, 4))), 3, alpha_scaling="caffe")


@pytest.mark.parametrize("size,shape", [(2, (2, 6, 3)), (3, (2, 5, 3, 3)), (5, (2, 9, 4, 3)), (4, (1, 3, 2, 2))])
@pytest.mark.parametrize("beta", [0.75, 1.3])
def test_lrn_matches_torch_forward_and_backward(xp, rng, impl, size, shape, beta):
    torch = _torch()
    x_np, gy = rng.standard_normal(shape) * 3, rng.standard_normal(shape)
    x = mc.Tensor(xp.asarray(x_np), requires_grad=True)
    y = F.local_response_norm(x, size, alpha=0.1, beta=beta, k=2.0)
    y.backward(xp.asarray(gy))
    xt = torch.tensor(x_np, requires_grad=True)
    yt = torch.nn.functional.local_response_norm(xt, size, alpha=0.1, beta=beta, k=2.0)
    yt.backward(torch.tensor(gy))
    np.testing.assert_allclose(mc.to_numpy(y.data), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(mc.to_numpy(x.grad.data), xt.grad.numpy(), rtol=1e-9, atol=1e-12)
