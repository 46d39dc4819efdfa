"""Exact resume: a run that stops -- at an epoch end, on Ctrl-C mid-epoch, on a NaN,
or killed with SIGKILL -- and is resumed ends with the same weights, optimizer and scheduler
state and history as a run that never stopped. Covers ReduceLROnPlateau (with cooldown), StepLR,
BatchNorm's cumulative running averages, dropout masks, and a prefetching loader with random
crops and flips."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import minicnn as mc
from minicnn import functional as F, nn, optim
from minicnn.checkpoint import load_checkpoint
from minicnn.train import NonFiniteError, TrainingInterrupted, fit
from tests.helpers import Exploding
from tests.reliability._runs import RECIPES, build, run

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COMPARED = ("train_loss", "train_acc", "test_loss", "test_acc", "lr")   # not the timings


def assert_same_run(a, b):
    (model_a, opt_a, sched_a, hist_a), (model_b, opt_b, sched_b, hist_b) = a, b
    for key, value in model_a.state_dict().items():
        np.testing.assert_array_equal(np.asarray(model_b.state_dict()[key]), np.asarray(value), err_msg=key)
    state_a, state_b = opt_a.state_dict(), opt_b.state_dict()
    assert state_a["param_groups"] == state_b["param_groups"]
    for index, slots in state_a["state"].items():
        for name, value in slots.items():
            np.testing.assert_array_equal(np.asarray(state_b["state"][index][name]), np.asarray(value))
    assert sched_a.state_dict() == sched_b.state_dict()
    for key in COMPARED:
        assert hist_a[key] == hist_b[key], key


def interrupt_at(train_step):
    """A loss that sends SIGINT (Ctrl-C) to this process during training step ``train_step`` (1-based, over the run)."""
    calls = {"n": 0}

    def loss(logits, target):
        if logits.requires_grad:          # training steps only, not evaluation
            calls["n"] += 1
            if calls["n"] == train_step:
                os.kill(os.getpid(), signal.SIGINT)
        return F.cross_entropy(logits, target)
    return loss


def test_resume_with_reduce_lr_on_plateau_continues_identically(tmp_path):
    straight = run("plateau", tmp_path / "a", epochs=5)
    assert len(set(straight[3]["lr"])) > 2   # the plateau rule did cut the lr, more than once
    run("plateau", tmp_path / "b", epochs=2)
    mc.manual_seed(99)                       # disturb the library RNG: resume must restore it
    resumed = run("plateau", tmp_path / "b", epochs=5, resume=True)
    assert_same_run(straight, resumed)
    assert int(resumed[0][2].num_batches_tracked) == 5 * 6


@pytest.mark.parametrize("recipe", RECIPES)
def test_ctrl_c_mid_epoch_then_resume_equals_the_straight_run(tmp_path, recipe):
    straight = run(recipe, tmp_path / "a", epochs=3)
    with pytest.raises(TrainingInterrupted, match=r"epoch 2 step 4; checkpoint saved to .*last.npz, continue with --resume"):
        run(recipe, tmp_path / "b", epochs=3, loss_fn=interrupt_at(6 + 4))   # 6 steps an epoch
    meta = load_checkpoint(tmp_path / "b" / "last.npz")["meta"]
    assert (meta["epoch"], meta["step"]) == (1, 4)
    resumed = run(recipe, tmp_path / "b", epochs=3, resume=True)
    assert_same_run(straight, resumed)


def test_two_interruptions_and_two_resumes_still_equal_the_straight_run(tmp_path):
    straight = run("augment", tmp_path / "a", epochs=4)
    with pytest.raises(TrainingInterrupted, match="epoch 1 step 2"):
        run("augment", tmp_path / "b", epochs=4, loss_fn=interrupt_at(2))
    with pytest.raises(TrainingInterrupted, match="epoch 3 step 6"):   # the last step of an epoch
        run("augment", tmp_path / "b", epochs=4, resume=True, loss_fn=interrupt_at(4 + 6 + 6))
    resumed = run("augment", tmp_path / "b", epochs=4, resume=True)
    assert_same_run(straight, resumed)


def test_resuming_a_finished_run_trains_nothing_and_keeps_the_history(tmp_path):
    finished = run("augment", tmp_path, epochs=2)
    again = run("augment", tmp_path, epochs=2, resume=True)
    assert_same_run(finished, again)


def _nan_run(out_dir, from_call, resume=False):
    mc.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), Exploding(from_call), nn.ReLU(), nn.Linear(8, 3))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    _, _, _, train, test = build("augment")
    fit(model, opt, train, test, epochs=3, out_dir=out_dir, resume=resume, progress=False, log=lambda s: None,
        plot=False)
    return model


def test_a_nan_stop_keeps_the_last_good_checkpoint_and_the_run_resumes_from_it(tmp_path):
    straight = _nan_run(tmp_path / "a", from_call=10 ** 9)
    with pytest.raises(NonFiniteError, match=r"epoch 2 step 3: loss is nan; it first appeared in 2 \(Exploding\).*"
                                             r"last good checkpoint is left as it was \(.*last.npz\)"):
        _nan_run(tmp_path / "b", from_call=6 + 3 + 3)   # 6 train steps, 3 eval batches, then epoch 2 step 3
    assert load_checkpoint(tmp_path / "b" / "last.npz")["meta"]["epoch"] == 1
    resumed = _nan_run(tmp_path / "b", from_call=10 ** 9, resume=True)   # e.g. after lowering the lr
    for key, value in straight.state_dict().items():
        np.testing.assert_array_equal(resumed.state_dict()[key], value, err_msg=key)


def test_sigkill_during_training_then_resume_equals_the_straight_run(tmp_path):
    """A real crash: the training process is killed at a random point (maybe mid-save)."""
    epochs = 12
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "tests.reliability._runs", "augment", str(out), str(epochs)],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "training"
        deadline = time.time() + 60
        while not (out / "last.npz").exists() and time.time() < deadline and proc.poll() is None:
            time.sleep(0.01)
        time.sleep(0.15)   # into epoch 2 or 3, perhaps in the middle of writing last.npz again
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    saved_epoch = load_checkpoint(out / "last.npz")["meta"]["epoch"]
    assert 1 <= saved_epoch < epochs
    straight = run("augment", tmp_path / "straight", epochs=epochs)
    resumed = run("augment", out, epochs=epochs, resume=True)
    assert_same_run(straight, resumed)
