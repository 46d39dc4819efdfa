"""Numerical safety in the trainer: a non-finite loss or gradient stops the run with
a message naming the step and where it first appeared; --skip-nonfinite skips such steps."""
import numpy as np
import pytest

import minicnn as mc
from minicnn import functional as F, nn, optim
from minicnn.data import DataLoader
from minicnn.train import NonFiniteError, fit
from tests.reliability._runs import blobs


class PoisonFirstFeature(nn.Module):
    """Multiplies feature 0 by NaN (a layer gone wrong in one unit)."""
    def forward(self, x):
        scale = np.ones(x.shape[-1], dtype=x.dtype)
        scale[0] = np.nan
        return x * scale


class DropFirstFeature(nn.Module):
    """x[:, 1:]: the NaN unit is cut away, so the loss stays finite -- but its gradient does not."""
    def forward(self, x):
        return x[:, 1:]


def _loader(data=None):
    return DataLoader(data or blobs(48, seed=0), batch_size=16, shuffle=True, seed=0)


def _fit(model, loader, **kwargs):
    opt = optim.SGD(model.parameters(), lr=0.1)
    return fit(model, opt, loader, None, epochs=1, progress=False, plot=False, **{"log": lambda s: None, **kwargs})


def test_relu_keeps_nan_visible_as_pytorch_does():
    x = mc.Tensor(np.array([np.nan, -1.0, 2.0], np.float32))
    y = F.relu(x)
    assert np.isnan(y.data[0]) and y.data[1:].tolist() == [0.0, 2.0] and y.dtype == np.float32


def test_a_nan_activation_before_relu_is_named_by_its_layer():
    class Diverging(nn.Module):
        def forward(self, x):
            return x * np.float32(np.inf) - x * np.float32(np.inf)   # inf - inf = NaN
    mc.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), Diverging(), nn.ReLU(), nn.Linear(8, 3))
    with pytest.raises(NonFiniteError, match=r"epoch 1 step 1: loss is nan; it first appeared in 2 \(Diverging\)"):
        _fit(model, _loader())


def test_a_finite_loss_with_a_nan_gradient_names_the_parameter_and_the_layer_whose_output_was_nan():
    mc.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), PoisonFirstFeature(), DropFirstFeature(), nn.Linear(7, 3))
    with pytest.raises(NonFiniteError, match=r"epoch 1 step 1: the gradient of 1\.(weight|bias) is not finite "
                                             r"\(loss [0-9.]+\); the forward output of 2 \(PoisonFirstFeature\) was "
                                             r"already non-finite"):
        _fit(model, _loader())


def test_a_nan_gradient_from_the_loss_alone_names_the_parameter_and_skip_nonfinite_skips_that_step():
    calls = {"n": 0}

    def nan_gradient_on_step_2(logits, target):
        calls["n"] += 1
        loss = F.cross_entropy(logits, target)
        if calls["n"] == 2:   # finite value, NaN gradient: d sqrt(u)/du at u = 0 is inf, times 0
            loss = loss + (logits * 0).sum().sqrt() * 0
        return loss

    mc.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    with pytest.raises(NonFiniteError, match=r"epoch 1 step 2: the gradient of 1\.(weight|bias) is not finite "
                                             r"\(loss [0-9.]+\)\. No checkpoint of this run was written"):
        _fit(model, _loader(), loss_fn=nan_gradient_on_step_2)
    calls["n"], messages = 0, []
    mc.manual_seed(0)                      # the stopped run's weights took the NaN step: start afresh
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    before = np.array(model.state_dict()["1.weight"])
    history = _fit(model, _loader(), loss_fn=nan_gradient_on_step_2, skip_nonfinite=True, log=messages.append)
    assert [m for m in messages if "skipped" in m] == [m for m in messages if "step 2: the gradient of 1." in m]
    assert len([m for m in messages if "skipped" in m]) == 1
    after = model.state_dict()["1.weight"]
    assert np.isfinite(after).all() and (after != before).any() and np.isfinite(history["train_loss"][0])


def test_nan_in_the_data_is_blamed_on_the_input_batch():
    data = blobs(48, seed=0)
    data.data[5, 0, 1, 1] = np.nan
    mc.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    with pytest.raises(NonFiniteError, match=r"loss is nan; it first appeared in the input batch itself"):
        _fit(model, DataLoader(data, batch_size=16))


def test_a_skipped_step_leaves_no_trace_in_batchnorm_running_stats():
    data = blobs(48, seed=0)
    data.data[20, 0, 2, 2] = np.nan        # one bad image, in batch 2 (no shuffling)
    mc.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.BatchNorm1d(16), nn.Linear(16, 3))
    messages = []
    _fit(model, DataLoader(data, batch_size=16), skip_nonfinite=True, log=messages.append)
    assert sum("step 2: loss is nan" in m and "skipped" in m for m in messages) == 1
    bn = model[1]
    assert np.isfinite(bn.running_mean).all() and np.isfinite(bn.running_var).all()
    assert int(bn.num_batches_tracked) == 2   # the two good steps only
    model.eval()
    assert np.isfinite(model(mc.Tensor(blobs(8, seed=3).data)).data).all()
