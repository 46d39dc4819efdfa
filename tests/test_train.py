import json
import os
import signal

import numpy as np
import pytest

import minicnn as mc
from minicnn import functional as F, nn, optim
from minicnn.checkpoint import load_checkpoint
from minicnn.data import ArrayDataset, DataLoader
from minicnn.train import NonFiniteError, TrainingInterrupted, evaluate, fit
from tests.helpers import Exploding


def blobs(n=96, seed=0):
    """Three separable Gaussian blobs as 1x4x4 'images'."""
    centers = np.random.default_rng(42).standard_normal((3, 16)) * 3
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = (centers[y] + rng.standard_normal((n, 16))).astype(np.float32).reshape(n, 1, 4, 4)
    return ArrayDataset(x, y)


def mlp(dropout=0.0):
    mc.manual_seed(0)
    layers = [nn.Flatten(), nn.Linear(16, 32), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers, nn.Linear(32, 3))


def loaders(seed=0):
    return DataLoader(blobs(), batch_size=16, shuffle=True, seed=seed), DataLoader(blobs(48, seed=1), batch_size=32)


def weights(model):
    return {k: np.array(v) for k, v in model.state_dict().items()}


def test_fit_learns_and_writes_checkpoints_history_and_curves(tmp_path):
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    train, test = loaders()
    history = fit(model, opt, train, test, epochs=4, out_dir=tmp_path, progress=False, log=lambda s: None)
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert history["test_acc"][-1] > 0.9
    assert evaluate(model, test)["accuracy"] == pytest.approx(history["test_acc"][-1])
    assert {"last.npz", "best.npz", "history.json", "curves.png"} <= set(os.listdir(tmp_path))
    assert json.load(open(tmp_path / "history.json"))["test_acc"] == history["test_acc"]
    assert load_checkpoint(tmp_path / "last.npz")["meta"]["epoch"] == 4


def _run(tmp_path, epochs, resume=False, loss_fn=None):
    model = mlp(dropout=0.3)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    train, test = loaders()
    fit(model, opt, train, test, epochs=epochs, scheduler=sched, out_dir=tmp_path, resume=resume,
        progress=False, log=lambda s: None, loss_fn=loss_fn)
    return model, opt


def test_stopping_and_resuming_gives_the_same_weights_as_one_run(tmp_path):
    straight, opt_a = _run(tmp_path / "a", epochs=3)
    _run(tmp_path / "b", epochs=1)
    mc.manual_seed(123)  # a different library RNG state: resume must restore it
    resumed, opt_b = _run(tmp_path / "b", epochs=3, resume=True)
    for key, value in weights(straight).items():
        np.testing.assert_array_equal(weights(resumed)[key], value, err_msg=key)
    assert opt_a.param_groups[0]["lr"] == opt_b.param_groups[0]["lr"]


def test_ctrl_c_saves_at_the_end_of_the_step_and_resume_finishes_identically(tmp_path):
    straight, _ = _run(tmp_path / "a", epochs=2)
    calls = {"n": 0}

    def interrupting_loss(logits, target):
        calls["n"] += 1
        if calls["n"] == 10:  # 6 train + 2 eval calls in epoch 1, then epoch 2 step 2
            os.kill(os.getpid(), signal.SIGINT)
        return F.cross_entropy(logits, target)

    with pytest.raises(TrainingInterrupted, match="epoch 2 step 2.*--resume") as err:
        _run(tmp_path / "b", epochs=2, loss_fn=interrupting_loss)
    meta = load_checkpoint(err.value.checkpoint)["meta"]
    assert (meta["epoch"], meta["step"]) == (1, 2)
    resumed, _ = _run(tmp_path / "b", epochs=2, resume=True)
    for key, value in weights(straight).items():
        np.testing.assert_array_equal(weights(resumed)[key], value, err_msg=key)


def test_a_nan_loss_stops_with_the_step_and_layer_and_keeps_the_last_checkpoint(tmp_path):
    mc.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), Exploding(from_call=9), nn.Linear(8, 3))
    opt = optim.SGD(model.parameters(), lr=0.1)
    train, test = loaders()
    with pytest.raises(NonFiniteError, match=r"epoch 2 step 3: loss is nan; it first appeared in 2 \(Exploding\)"):
        fit(model, opt, train, None, epochs=3, out_dir=tmp_path, progress=False, log=lambda s: None)
    assert load_checkpoint(tmp_path / "last.npz")["meta"]["epoch"] == 1  # the good one from epoch 1


def test_skip_nonfinite_skips_bad_steps_and_goes_on():
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    train, _ = loaders()
    messages, calls = [], {"n": 0}

    def nan_on_third(logits, target):
        calls["n"] += 1
        loss = F.cross_entropy(logits, target)
        return loss * float("nan") if calls["n"] == 3 else loss

    history = fit(model, opt, train, None, epochs=1, progress=False, log=messages.append,
                  skip_nonfinite=True, loss_fn=nan_on_third)
    assert any("step 3: loss is nan" in m and "step skipped" in m for m in messages)
    assert np.isfinite(history["train_loss"][-1])


class _LrLog:
    """A callback that notes the lr each kept step ran with (read after the step, before the scheduler's next)."""

    def __init__(self, opt):
        self.opt, self.lrs = opt, []

    def on_step_end(self, model, step, value):
        self.lrs.append(self.opt.param_groups[0]["lr"])


def test_a_per_step_schedule_is_stepped_after_every_kept_step():
    model = mlp()
    opt = optim.Adam(model.parameters(), lr=0.01)
    train, test = loaders()
    steps = 2 * len(train)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    log = _LrLog(opt)
    fit(model, opt, train, test, epochs=2, scheduler=sched, scheduler_interval="step", progress=False,
        log=lambda s: None, callbacks=[log])
    seen = log.lrs
    # after step t (1-based) the scheduler has stepped t times: lr = 0.01 * (1 + cos(pi t / T)) / 2
    expected = [0.01 * (1 + np.cos(np.pi * t / steps)) / 2 for t in range(1, steps + 1)]
    np.testing.assert_allclose(seen, expected, rtol=1e-12, atol=1e-15)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-15)   # annealed to eta_min at the end


@pytest.mark.parametrize("interval, scheduler, message", [
    ("batch", None, "scheduler_interval must be 'epoch' or 'step', got 'batch'"),
    ("step", None, "scheduler_interval='step' needs a scheduler"),
    ("step", "plateau", "ReduceLROnPlateau needs an epoch's metric"),
])
def test_bad_scheduler_interval_is_refused_before_training(interval, scheduler, message):
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    sched = optim.lr_scheduler.ReduceLROnPlateau(opt) if scheduler == "plateau" else None
    before = weights(model)
    with pytest.raises(ValueError, match=message):
        fit(model, opt, *loaders(), epochs=1, scheduler=sched, scheduler_interval=interval, progress=False,
            log=lambda s: None)
    for key, value in weights(model).items():
        np.testing.assert_array_equal(value, before[key])
