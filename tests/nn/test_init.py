import math

import numpy as np
import pytest

import minicnn as mc
from minicnn import nn
from minicnn.nn import init


def _param(xp, *shape, dtype=np.float32):
    return nn.Parameter(xp.zeros(shape, dtype=dtype))


def test_fan_in_and_fan_out_follow_pytorch(xp):
    assert init._calculate_fan_in_and_fan_out(_param(xp, 96, 3, 11, 11)) == (3 * 121, 96 * 121)
    assert init._calculate_fan_in_and_fan_out(_param(xp, 10, 20)) == (20, 10)
    with pytest.raises(ValueError, match=r"at least 2 dimensions, got shape \(5,\)"):
        init._calculate_fan_in_and_fan_out(_param(xp, 5))


def test_calculate_gain_table():
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


@pytest.mark.parametrize("fn,bound", [
    (lambda p: init.kaiming_uniform_(p, nonlinearity="relu"), math.sqrt(2) * math.sqrt(3 / 200)),
    (lambda p: init.kaiming_uniform_(p, mode="fan_out", nonlinearity="relu"), math.sqrt(2) * math.sqrt(3 / 400)),
    (lambda p: init.xavier_uniform_(p, gain=2.0), 2.0 * math.sqrt(6 / 600)),
    (lambda p: init.uniform_(p, -0.3, 0.3), 0.3),
])
def test_uniform_initialisers_fill_the_whole_bound(xp, fn, bound):
    p = fn(_param(xp, 400, 200))
    w = mc.to_numpy(p.data)
    assert p.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    np.testing.assert_allclose(w.std(), bound / math.sqrt(3), rtol=0.02)
    assert abs(w.mean()) < 0.01 * bound


@pytest.mark.parametrize("fn,std", [
    (lambda p: init.kaiming_normal_(p, nonlinearity="relu"), math.sqrt(2 / 200)),
    (lambda p: init.xavier_normal_(p), math.sqrt(2 / 600)),
    (lambda p: init.normal_(p, 0.0, 0.01), 0.01),
])
def test_normal_initialisers_have_the_right_spread(xp, fn, std):
    w = mc.to_numpy(fn(_param(xp, 400, 200)).data)
    np.testing.assert_allclose(w.std(), std, rtol=0.02)
    assert abs(w.mean()) < 0.02 * std


def test_constant_initialisers_and_dtype_preservation(xp):
    b = init.constant_(_param(xp, 5, dtype=np.float64), 1)   # AlexNet's bias 1
    assert b.dtype == np.float64 and mc.to_numpy(b.data).tolist() == [1.0] * 5
    assert mc.to_numpy(init.zeros_(_param(xp, 3)).data).tolist() == [0.0] * 3
    assert mc.to_numpy(init.ones_(_param(xp, 3)).data).tolist() == [1.0] * 3
    shifted = mc.to_numpy(init.normal_(_param(xp, 10000), mean=5.0, std=0.1).data)
    assert abs(shifted.mean() - 5.0) < 0.01


def test_initialisers_draw_from_the_library_rng(xp):
    mc.manual_seed(11)
    a = mc.to_numpy(init.kaiming_uniform_(_param(xp, 4, 4)).data)
    mc.manual_seed(11)
    b = mc.to_numpy(init.kaiming_uniform_(_param(xp, 4, 4)).data)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(TypeError, match="expected a Tensor or Parameter"):
        init.normal_(np.zeros(3))
