import numpy as np
import pytest

import minicnn as mc
from minicnn import functional as F
from tests.helpers import randt, try_import_torch

REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_gradient_matches_finite_differences(xp, rng, reduction):
    logits = randt(xp, rng, 5, 4, low=-3, high=3)
    target = xp.asarray([0, 3, 1, 1, 2])
    assert mc.gradcheck(lambda z: F.cross_entropy(z, target, reduction), [logits])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_and_mse_gradients_match_finite_differences(xp, rng, reduction):
    x, y = randt(xp, rng, 3, 4), randt(xp, rng, 3, 4)
    assert mc.gradcheck(lambda t: F.nll_loss(t, xp.asarray([1, 0, 3]), reduction), [x])
    assert mc.gradcheck(lambda a, b: F.mse_loss(a, b, reduction), [x, y])


def test_cross_entropy_equals_log_softmax_then_nll(xp, rng):
    z = randt(xp, rng, 6, 5, requires_grad=False)
    t = mc.Tensor(xp.asarray([4, 0, 1, 2, 3, 4]))   # a Tensor target works like an array
    fused = F.cross_entropy(z, t, "none").data
    composed = F.nll_loss(F.log_softmax(z, axis=1), t, "none").data
    np.testing.assert_allclose(mc.to_numpy(fused), mc.to_numpy(composed), rtol=1e-12)


def test_cross_entropy_is_finite_for_huge_logits_and_keeps_float32(xp):
    z = mc.Tensor(xp.asarray([[1e4, 0.0], [0.0, 1e4]], dtype=np.float32), requires_grad=True)
    loss = F.cross_entropy(z, xp.asarray([1, 1]))
    loss.backward()
    assert loss.dtype == np.float32 and z.grad.dtype == np.float32
    np.testing.assert_allclose(float(loss.data), 5e3, rtol=1e-6)
    assert np.isfinite(mc.to_numpy(z.grad.data)).all()


def test_cross_entropy_rejects_bad_targets(xp):
    z = mc.Tensor(xp.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"cross_entropy: expected class indices in \[0, 2\], got 3"):
        F.cross_entropy(z, xp.asarray([0, 3]))
    with pytest.raises(ValueError, match=r"got -1"):
        F.cross_entropy(z, xp.asarray([-1, 0]))
    with pytest.raises(TypeError, match=r"expected integer class indices.*got dtype float"):
        F.cross_entropy(z, xp.asarray([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"expected target \(2,\).*got \(3,\)"):
        F.cross_entropy(z, xp.asarray([0, 1, 2]))
    with pytest.raises(ValueError, match=r"expected reduction"):
        F.cross_entropy(z, xp.asarray([0, 1]), reduction="avg")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_matches_torch(xp, rng, reduction):
    torch = try_import_torch()
    if torch is None:
        pytest.skip("torch is not installed")
    z_np, t_np = rng.standard_normal((8, 10)) * 3, rng.integers(0, 10, 8)
    gy = rng.standard_normal(8) if reduction == "none" else np.float64(1.7)
    z = mc.Tensor(xp.asarray(z_np), requires_grad=True)
    loss = F.cross_entropy(z, xp.asarray(t_np), reduction)
    loss.backward(xp.asarray(gy))
    zt = torch.tensor(z_np, requires_grad=True)
    lt = torch.nn.functional.cross_entropy(zt, torch.tensor(t_np), reduction=reduction)
    lt.backward(torch.tensor(gy))
    np.testing.assert_allclose(mc.to_numpy(loss.data), lt.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(mc.to_numpy(z.grad.data), zt.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.int64])
def test_cross_entropy_accepts_any_integer_label_dtype(xp, rng, dtype):
    z = randt(xp, rng, 3, 4, requires_grad=False)
    expected = F.cross_entropy(z, xp.asarray([3, 0, 2], dtype=np.int64)).data
    got = F.cross_entropy(z, xp.asarray([3, 0, 2], dtype=dtype)).data   # e.g. uint8 MNIST labels
    np.testing.assert_allclose(mc.to_numpy(got), mc.to_numpy(expected), rtol=1e-14)
