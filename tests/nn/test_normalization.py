import numpy as np
import pytest

import minicnn as mc
from minicnn import nn
from tests.helpers import randt, try_import_torch


def test_batchnorm_has_pytorchs_parameters_and_buffers(xp):
    bn = nn.BatchNorm2d(16)
    state = bn.state_dict()
    assert sorted(state) == ["bias", "num_batches_tracked", "running_mean", "running_var", "weight"]
    assert state["num_batches_tracked"].dtype == np.int64 and state["num_batches_tracked"].shape == ()
    assert state["running_var"].dtype == np.float32
    np.testing.assert_array_equal(mc.to_numpy(state["weight"]), 1)
    np.testing.assert_array_equal(mc.to_numpy(state["running_mean"]), 0)


def test_batchnorm_without_affine_or_tracking_has_no_such_entries():
    assert list(nn.BatchNorm1d(3, affine=False).state_dict()) == ["running_mean", "running_var", "num_batches_tracked"]
    assert list(nn.BatchNorm1d(3, track_running_stats=False).state_dict()) == ["weight", "bias"]


def test_batchnorm_counts_batches_only_in_training(xp, rng):
    bn = nn.BatchNorm1d(3)
    x = randt(xp, rng, 4, 3, dtype=np.float32)
    bn(x), bn(x)
    bn.eval()
    bn(x)
    assert int(bn.num_batches_tracked) == 2


@pytest.mark.parametrize("layer,bad,message", [
    (nn.BatchNorm2d(64), (8, 32, 5, 5), r"BatchNorm2d\(64\): expected input \(N, 64, H, W\), got \(8, 32, 5, 5\)"),
    (nn.BatchNorm2d(64), (8, 64), r"BatchNorm2d\(64\): expected input \(N, 64, H, W\), got \(8, 64\)"),
    (nn.BatchNorm1d(10), (8, 10, 2, 2), r"BatchNorm1d\(10\): expected input \(N, 10\) or \(N, 10, L\), got"),
    (nn.BatchNorm1d(10), (8, 9), r"got \(8, 9\)"),
    (nn.LocalResponseNorm(5), (8, 9), r"LocalResponseNorm\(5\): expected input \(N, C, \.\.\.\)"),
])
def test_normalisation_layers_name_the_expected_and_actual_shapes(xp, layer, bad, message):
    with pytest.raises(ValueError, match=message):
        layer(mc.Tensor(xp.zeros(bad, dtype=np.float32)))


@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("module,shape", [("BatchNorm1d", (8, 4)), ("BatchNorm1d", (6, 4, 3)), ("BatchNorm2d", (5, 4, 3, 3))])
def test_batchnorm_module_matches_torch_in_train_then_eval(xp, rng, module, shape, momentum):
    torch = try_import_torch()
    if torch is None:
        pytest.skip("torch is not installed")
    ours, theirs = getattr(nn, module)(4, momentum=momentum), getattr(torch.nn, module)(4, momentum=momentum)
    w, b = rng.standard_normal(4).astype(np.float32), rng.standard_normal(4).astype(np.float32)
    ours.load_state_dict({"weight": w, "bias": b}, strict=False)
    theirs.load_state_dict({"weight": torch.from_numpy(w), "bias": torch.from_numpy(b)}, strict=False)
    for step in range(4):
        if step == 3:
            ours.eval(), theirs.eval()
        x = (rng.standard_normal(shape) * 2 + 3).astype(np.float32)
        y, yt = ours(mc.Tensor(xp.asarray(x))), theirs(torch.from_numpy(x))
        np.testing.assert_allclose(mc.to_numpy(y.data), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(mc.to_numpy(ours.state_dict()[key]), value.numpy(), rtol=1e-5, err_msg=key)


def test_local_response_norm_layer_uses_the_papers_scaling_when_asked(xp, rng):
    x = randt(xp, rng, 2, 7, 3, 3, low=-5, high=5, requires_grad=False)
    paper = nn.LocalResponseNorm(5, alpha=1e-2, beta=0.75, k=2.0, alpha_scaling="paper")(x)
    pytorch = nn.LocalResponseNorm(5, alpha=5e-2, beta=0.75, k=2.0)(x)
    np.testing.assert_allclose(mc.to_numpy(paper.data), mc.to_numpy(pytorch.data), rtol=1e-12)
    assert "alpha_scaling='paper'" in repr(nn.LocalResponseNorm(5, alpha_scaling="paper"))
    with pytest.raises(ValueError, match="alpha_scaling"):
        nn.LocalResponseNorm(5, alpha_scaling="caffe")
