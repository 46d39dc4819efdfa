import numpy as np
import pytest

import minicnn as mc
from minicnn import functional as F
from tests.helpers import randt


def test_dropout_zeroes_about_p_of_the_elements_and_scales_the_rest(xp):
    x = mc.Tensor(xp.ones((200, 500), dtype=np.float32))
    y = mc.to_numpy(F.dropout(x, p=0.3).data)
    zero_fraction = (y == 0).mean()
    assert abs(zero_fraction - 0.3) < 0.01            # 100k Bernoulli draws: std ~ 0.0015
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / 0.7], rtol=1e-6)
    assert y.dtype == np.float32


def test_dropout_preserves_the_mean_in_expectation(xp, rng):
    x = randt(xp, rng, 400, 500, low=1, high=2, requires_grad=False)
    y = F.dropout(x, p=0.5)
    assert abs(float(y.data.mean()) / float(x.data.mean()) - 1) < 0.01


def test_dropout_is_identity_in_eval_and_for_p_zero(xp, rng):
    x = randt(xp, rng, 3, 4)
    for y in (F.dropout(x, 0.5, training=False), F.dropout(x, 0.0)):
        np.testing.assert_array_equal(mc.to_numpy(y.data), mc.to_numpy(x.data))


def test_dropout_gradient_flows_through_the_same_mask(xp, rng):
    x = randt(xp, rng, 6, 7)
    y = F.dropout(x, p=0.4)
    y.backward(xp.ones(x.shape))
    kept = mc.to_numpy(y.data) != 0
    np.testing.assert_allclose(mc.to_numpy(x.grad.data), kept / 0.6)


def test_dropout_gradient_matches_finite_differences_with_a_fixed_mask(xp, rng):
    x = randt(xp, rng, 4, 5)

    def reseeded_dropout(t):
        mc.manual_seed(7)   # every call (analytic and each difference) draws the same mask
        return F.dropout(t, p=0.5)
    assert mc.gradcheck(reseeded_dropout, [x])


def test_manual_seed_repeats_the_mask(xp):
    x = mc.Tensor(xp.ones((50, 50)))
    mc.manual_seed(3)
    a = mc.to_numpy(F.dropout(x).data)
    b = mc.to_numpy(F.dropout(x).data)
    mc.manual_seed(3)
    c = mc.to_numpy(F.dropout(x).data)
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5, "0.5"])
def test_dropout_rejects_p_outside_zero_one(xp, p):
    with pytest.raises(ValueError, match=r"dropout: expected a probability p in \[0, 1\)"):
        F.dropout(mc.Tensor(xp.ones(3)), p)
