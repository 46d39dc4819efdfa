import numpy as np
import pytest

import minicnn as mc
from minicnn import functional as F
from tests.helpers import randt, try_import_torch


def _torch():
    torch = try_import_torch()
    if torch is None:
        pytest.skip("torch is not installed")
    return torch


@pytest.mark.parametrize("op", [F.relu, F.sigmoid, F.tanh,
                                lambda x: F.softmax(x, axis=1), lambda x: F.softmax(x),
                                lambda x: F.log_softmax(x, axis=1), lambda x: F.log_softmax(x, axis=-1)])
def test_activation_gradients_match_finite_differences(xp, rng, op):
    x = randt(xp, rng, 3, 4, 5, low=-2, high=2)
    x.data[xp.abs(x.data) < 1e-3] = 0.5  # keep ReLU's kink out of the differences
    assert mc.gradcheck(op, [x])


def test_relu_zeroes_negatives_and_passes_gradient_only_where_positive(xp):
    x = mc.Tensor(xp.asarray([[-2.0, 0.0, 3.0]], dtype=np.float32), requires_grad=True)
    y = F.relu(x)
    y.backward(xp.asarray([[5.0, 5.0, 5.0]], dtype=np.float32))
    assert mc.to_numpy(y.data).tolist() == [[0.0, 0.0, 3.0]]
    assert mc.to_numpy(x.grad.data).tolist() == [[0.0, 0.0, 5.0]]
    assert y.dtype == np.float32 and x.grad.dtype == np.float32


@pytest.mark.parametrize("op", [F.relu, F.sigmoid, F.tanh, F.softmax, F.log_softmax])
def test_activations_keep_float32(xp, rng, op):
    x = randt(xp, rng, 2, 3, dtype=np.float32)
    y = op(x)
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32


def test_softmax_rows_sum_to_one_and_survive_huge_logits(xp):
    x = mc.Tensor(xp.asarray([[1000.0, 0.0, -1000.0], [5.0, 5.0, 5.0]]))
    p = mc.to_numpy(F.softmax(x, axis=1).data)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(p[1], 1 / 3)
    logp = mc.to_numpy(F.log_softmax(x, axis=1).data)
    assert np.isfinite(logp).all()
    np.testing.assert_allclose(logp[0], [0.0, -1000.0, -2000.0])


def test_softmax_rejects_an_axis_out_of_range(xp):
    with pytest.raises(ValueError, match=r"softmax: axis 2 .* shape \(2, 3\)"):
        F.softmax(mc.Tensor(xp.zeros((2, 3))), axis=2)


@pytest.mark.parametrize("name", ["relu", "log_softmax", "softmax", "sigmoid", "tanh"])
def test_activations_match_torch_forward_and_backward(xp, rng, name):
    torch = _torch()
    x_np = rng.standard_normal((4, 7))
    gy = rng.standard_normal((4, 7))
    x = mc.Tensor(xp.asarray(x_np), requires_grad=True)
    kwargs = {"axis": 1} if "softmax" in name else {}
    y = getattr(F, name)(x, **kwargs)
    y.backward(xp.asarray(gy))
    xt = torch.tensor(x_np, requires_grad=True)
    yt = getattr(torch.nn.functional, name)(xt, **({"dim": 1} if kwargs else {}))
    yt.backward(torch.tensor(gy))
    np.testing.assert_allclose(mc.to_numpy(y.data), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(mc.to_numpy(x.grad.data), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
