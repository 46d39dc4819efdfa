import math

import numpy as np
import pytest

import minicnn as mc
from minicnn import nn
from tests.helpers import randt, try_import_torch


def test_linear_parameters_are_float32_with_pytorch_shapes_and_default_bounds(xp):
    layer = nn.Linear(400, 30)
    assert layer.weight.shape == (30, 400) and layer.bias.shape == (30,)
    assert layer.weight.dtype == layer.bias.dtype == np.float32
    bound = 1 / math.sqrt(400)
    w = mc.to_numpy(layer.weight.data)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    np.testing.assert_allclose(w.std(), bound / math.sqrt(3), rtol=0.05)   # U(-b, b) has std b/sqrt(3)
    assert np.abs(mc.to_numpy(layer.bias.data)).max() <= bound
    assert isinstance(layer.weight.data, xp.ndarray)


def test_linear_init_is_repeatable_with_manual_seed():
    mc.manual_seed(5)
    a = nn.Linear(7, 3).weight.data.copy()
    mc.manual_seed(5)
    np.testing.assert_array_equal(nn.Linear(7, 3).weight.data, a)


def test_linear_without_bias_has_only_a_weight():
    layer = nn.Linear(4, 2, bias=False)
    assert layer.bias is None and list(layer.state_dict()) == ["weight"]
    assert "bias=False" in repr(layer)


def test_linear_forward_backward_on_leading_axes(xp, rng):
    layer = nn.Linear(6, 4)
    x = randt(xp, rng, 2, 3, 6, dtype=np.float32)
    y = layer(x)
    y.sum().backward()
    assert y.shape == (2, 3, 4) and layer.weight.grad.shape == (4, 6) and layer.bias.grad.shape == (4,)
    np.testing.assert_allclose(mc.to_numpy(layer.bias.grad.data), 6.0)


def test_linear_rejects_the_wrong_feature_count_naming_the_layer(xp):
    with pytest.raises(ValueError, match=r"Linear\(6400->4096\): expected input \(\.\.\., 6400\), got \(64, 1024\)"):
        nn.Linear(6400, 4096)(mc.Tensor(xp.zeros((64, 1024), dtype=np.float32)))
    with pytest.raises(ValueError, match=r"positive integer in_features"):
        nn.Linear(0, 3)


@pytest.mark.parametrize("start_dim,end_dim,expected", [(1, -1, (2, 60)), (0, -1, (120,)),
                                                        (1, 2, (2, 12, 5)), (2, 3, (2, 3, 20))])
def test_flatten_merges_the_chosen_axes_like_pytorch(xp, start_dim, end_dim, expected):
    x = mc.Tensor(xp.zeros((2, 3, 4, 5)), requires_grad=True)
    y = nn.Flatten(start_dim, end_dim)(x)
    assert y.shape == expected
    y.sum().backward()
    assert x.grad.shape == (2, 3, 4, 5)


def test_minicnn_state_dict_loads_into_the_equivalent_torch_sequential(rng):
    torch = try_import_torch()
    if torch is None:
        pytest.skip("torch is not installed")
    ours = nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3))
    theirs = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(),
                                 torch.nn.Dropout(0.5), torch.nn.Linear(8, 3))
    ours(mc.Tensor(rng.standard_normal((16, 5)).astype(np.float32)))   # move the running stats
    state = ours.state_dict()
    reference = theirs.state_dict()
    assert sorted(state) == sorted(reference)
    for key, value in reference.items():
        assert tuple(state[key].shape) == tuple(value.shape), key
        assert str(state[key].dtype) == str(value.dtype).replace("torch.", ""), key
    theirs.load_state_dict({k: torch.from_numpy(np.array(mc.to_numpy(v))) for k, v in state.items()})
    ours.eval(), theirs.eval()
    x = rng.standard_normal((4, 5)).astype(np.float32)
    np.testing.assert_allclose(mc.to_numpy(ours(mc.Tensor(x)).data),
                               theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    # and back: a torch state_dict loads into minicnn
    fresh = nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3)).eval()
    fresh.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    np.testing.assert_allclose(mc.to_numpy(fresh(mc.Tensor(x)).data), mc.to_numpy(ours(mc.Tensor(x)).data))
