import numpy as np
import pytest

import minicnn as mc
from minicnn.function import Function
from tests.helpers import randt


class _WrongSquare(Function):
    """y = x^2 with a deliberately wrong backward (3x instead of 2x)."""
    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, gy):
        return gy * 3 * self.x


def test_gradcheck_catches_a_wrong_backward_and_names_the_worst_element(rng):
    x = randt(np, rng, 3, 2, low=1, high=2)
    with pytest.raises(mc.GradcheckError, match=r"input 0 .*index \(\d, \d\).*analytic .*numeric"):
        mc.gradcheck(lambda t: _WrongSquare()(t), [x])


def test_gradcheck_accepts_a_right_backward_with_several_outputs(rng):
    x = randt(np, rng, 4)
    assert mc.gradcheck(lambda t: (t * 2, t.exp()), [x])


def test_gradcheck_refuses_float32_inputs(rng):
    with pytest.raises(TypeError, match="float64.*float32"):
        mc.gradcheck(lambda t: t * 2, [randt(np, rng, 3, dtype=np.float32)])
