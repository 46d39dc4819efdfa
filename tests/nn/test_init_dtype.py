"""nn.init draws in the parameter's dtype: float32 parameters straight from a float32 stream
(no float64 temporaries), repeatable under mc.manual_seed, with the right moments."""
import numpy as np
import pytest

import minicnn as mc
from minicnn import nn


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_draws_come_from_the_library_stream_in_the_parameter_dtype(dtype):
    mc.manual_seed(5)
    w = mc.Tensor(np.empty((40, 30), dtype=dtype))
    nn.init.normal_(w, 0.5, 0.01)
    expected = np.random.default_rng(5).standard_normal((40, 30), dtype=dtype) * dtype(0.01) + dtype(0.5)
    assert w.dtype == dtype
    np.testing.assert_allclose(w.data, expected, rtol=1e-6)
    mc.manual_seed(5)
    again = mc.Tensor(np.empty((40, 30), dtype=dtype))
    np.testing.assert_array_equal(nn.init.normal_(again, 0.5, 0.01).data, w.data)


def test_float32_uniform_and_normal_have_the_asked_moments():
    u = nn.init.uniform_(mc.Tensor(np.empty(200_000, np.float32)), -2.0, 4.0).data
    n = nn.init.normal_(mc.Tensor(np.empty(200_000, np.float32)), 1.0, 3.0).data
    assert u.dtype == n.dtype == np.float32
    assert -2.0 <= u.min() and u.max() < 4.0 and abs(u.mean() - 1.0) < 0.02
    assert abs(n.mean() - 1.0) < 0.03 and abs(n.std() - 3.0) < 0.03


def test_float16_parameters_are_drawn_in_float64_and_rounded_once():
    mc.manual_seed(1)
    h = nn.init.normal_(mc.Tensor(np.empty(1000, np.float16)), 0.0, 1.0).data
    expected = np.random.default_rng(1).standard_normal(1000).astype(np.float16)
    assert h.dtype == np.float16
    np.testing.assert_array_equal(h, expected)
