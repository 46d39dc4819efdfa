import numpy as np
import pytest

import minicnn as mc
from minicnn import functional as F
from tests.helpers import randt, try_import_torch


@pytest.mark.parametrize("x_shape", [(4, 6), (1, 6), (2, 3, 6), (6,)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_linear_gradients_match_finite_differences(xp, rng, x_shape, with_bias):
    x, w = randt(xp, rng, *x_shape), randt(xp, rng, 5, 6)
    inputs = [x, w] + ([randt(xp, rng, 5)] if with_bias else [])
    assert mc.gradcheck(lambda *t: F.linear(*t), inputs)


def test_linear_computes_x_times_weight_transposed_plus_bias(xp, rng):
    x, w, b = (randt(xp, rng, *s, requires_grad=False) for s in [(2, 3, 4), (5, 4), (5,)])
    y = F.linear(x, w, b)
    expected = mc.to_numpy(x.data) @ mc.to_numpy(w.data).T + mc.to_numpy(b.data)
    assert y.shape == (2, 3, 5)
    np.testing.assert_allclose(mc.to_numpy(y.data), expected, rtol=1e-12)


def test_linear_skips_weight_gradient_work_when_weight_is_frozen(xp, rng):
    x, w = randt(xp, rng, 3, 4), randt(xp, rng, 2, 4, requires_grad=False)
    F.linear(x, w).sum().backward()
    assert w.grad is None and x.grad.shape == (3, 4)


def test_linear_keeps_float32(xp, rng):
    x, w, b = (randt(xp, rng, *s, dtype=np.float32) for s in [(3, 4), (2, 4), (2,)])
    y = F.linear(x, w, b)
    y.sum().backward()
    assert y.dtype == w.grad.dtype == b.grad.dtype == x.grad.dtype == np.float32


def test_linear_rejects_mismatched_feature_sizes(xp):
    with pytest.raises(ValueError, match=r"linear: expected input \(\.\.\., 4\).*got \(3, 5\)"):
        F.linear(mc.Tensor(xp.zeros((3, 5))), mc.Tensor(xp.zeros((2, 4))))
    with pytest.raises(ValueError, match=r"expected bias \(2,\), got \(3,\)"):
        F.linear(mc.Tensor(xp.zeros((3, 4))), mc.Tensor(xp.zeros((2, 4))), mc.Tensor(xp.zeros(3)))


def test_linear_matches_torch_forward_and_backward(xp, rng):
    torch = try_import_torch()
    if torch is None:
        pytest.skip("torch is not installed")
    arrays = [rng.standard_normal(s) for s in [(3, 2, 6), (4, 6), (4,)]]
    gy = rng.standard_normal((3, 2, 4))
    ours = [mc.Tensor(xp.asarray(a), requires_grad=True) for a in arrays]
    F.linear(*ours).backward(xp.asarray(gy))
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    yt = torch.nn.functional.linear(*theirs)
    yt.backward(torch.tensor(gy))
    np.testing.assert_allclose(mc.to_numpy(F.linear(*ours).data), yt.detach().numpy(), rtol=1e-12)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(mc.to_numpy(o.grad.data), t.grad.numpy(), rtol=1e-10, atol=1e-12)
