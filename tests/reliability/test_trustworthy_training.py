"""fit keeps only finite weights, refuses epochs that train nothing, checks its run directory
and its resume, and calls its callbacks; every failure is a typed error saying what and where."""
import copy
import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minicnn as mc
from minicnn import nn, optim
from minicnn.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from minicnn.data import ArrayDataset, DataLoader
from minicnn.nonfinite import all_finite
from minicnn.run_dir import ResumeMismatchError, RunDirectoryError, check_resume_config, config_differences
from minicnn.train import NonFiniteError, TrainingInterrupted, fit
from tests.reliability._runs import blobs

STEPS = 3   # batches of 16 in blobs(48)


def _model():
    mc.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))


def _fit(model, opt, out_dir=None, epochs=1, **kwargs):
    loader = DataLoader(blobs(48, seed=0), batch_size=16, shuffle=True, seed=0)
    return fit(model, opt, loader, DataLoader(blobs(16, seed=1), batch_size=16), epochs=epochs, out_dir=out_dir,
               progress=False, plot=False, **{"log": lambda s: None, **kwargs})


class InfiniteLrAt:
    """A callback that makes the lr infinite for step ``at`` of epoch ``epoch`` (1-based) only."""

    def __init__(self, opt, at, epoch=1):
        self.opt, self.at, self.epoch, self.seen, self.snapshot = opt, at, epoch, 0, None
        self.lr = opt.param_groups[0]["lr"]

    def on_step_end(self, model, step, loss_value):
        self.seen += 1
        self.opt.param_groups[0]["lr"] = self.lr
        if self.seen == (self.epoch - 1) * STEPS + self.at - 1:
            self.snapshot = (copy.deepcopy({k: np.array(v) for k, v in model.state_dict().items()}),
                             copy.deepcopy(self.opt.state_dict()))
            self.opt.param_groups[0]["lr"] = float("inf")


def test_weights_that_turn_nonfinite_on_the_last_step_of_an_epoch_are_never_saved(tmp_path):
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    with pytest.raises(NonFiniteError, match=r"epoch 2 step 3: .* became non-finite in the optimizer step.*"
                                             r"The last good checkpoint is left as it was \(.*last.npz\)"):
        _fit(model, opt, tmp_path, epochs=2, callbacks=[InfiniteLrAt(opt, at=STEPS, epoch=2)])
    for name in ("last.npz", "best.npz"):
        state = load_checkpoint(tmp_path / name)
        assert state["meta"]["epoch"] == 1
        assert all(np.isfinite(v).all() for v in state["model"].values())
    assert len(json.load(open(tmp_path / "history.json"))["train_loss"]) == 1


def test_a_stop_before_any_checkpoint_says_none_was_written(tmp_path):
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(NonFiniteError, match=r"epoch 1 step 2: .*No checkpoint of this run was written to "):
        _fit(model, opt, tmp_path / "run", callbacks=[InfiniteLrAt(opt, at=2)])
    assert not (tmp_path / "run" / "last.npz").exists()


def test_skip_nonfinite_puts_weights_optimizer_state_and_buffers_back_as_they_were():
    model = _model()
    opt = optim.Adam(model.parameters(), lr=0.01)
    spy, messages = InfiniteLrAt(opt, at=STEPS), []
    history = _fit(model, opt, skip_nonfinite=True, callbacks=[spy], log=messages.append)
    weights, opt_state = spy.snapshot
    for key, value in model.state_dict().items():        # the last step was undone: as after step 2
        np.testing.assert_array_equal(np.asarray(value), weights[key], err_msg=key)
    for index, slots in opt.state_dict()["state"].items():
        for name, value in slots.items():
            np.testing.assert_array_equal(np.asarray(value), np.asarray(opt_state["state"][index][name]))
    assert len(history["step_loss"]) == STEPS - 1 and np.isfinite(history["train_loss"][0])
    assert sum("step 3:" in m and "step skipped" in m for m in messages) == 1


def test_an_epoch_whose_every_step_was_skipped_is_an_error_not_a_row_of_zeros():
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    opt.param_groups[0]["lr"] = float("inf")      # changed after construction, which checks it
    with pytest.raises(NonFiniteError, match=r"epoch 1: all 3 steps were skipped \(non-finite\)"):
        _fit(model, opt, skip_nonfinite=True)


def test_an_empty_training_loader_is_a_value_error():
    model = _model()
    empty = DataLoader(ArrayDataset(np.zeros((3, 1, 4, 4), np.float32), np.zeros(3, int)), batch_size=4, drop_last=True)
    with pytest.raises(ValueError, match=r"training loader gave no batches in epoch 1"):
        fit(model, optim.SGD(model.parameters(), lr=0.1), empty, epochs=1, progress=False, log=lambda s: None)


def test_all_finite_sees_nan_and_inf_anywhere():
    good = [np.ones(3, np.float32), np.zeros((2, 2))]
    assert all_finite(good) and all_finite([])
    assert not all_finite(good + [np.array([1.0, np.inf])]) and not all_finite([np.array([[np.nan]])])


@pytest.mark.parametrize("epochs, error, message", [(2.5, TypeError, r"epochs must be an int, got 2\.5 \(float\)"),
                                                    (True, TypeError, r"epochs must be an int, got True"),
                                                    (-1, ValueError, r"epochs must be >= 0, got -1")])
def test_epochs_must_be_a_nonnegative_int(epochs, error, message):
    model = _model()
    with pytest.raises(error, match=message):
        _fit(model, optim.SGD(model.parameters(), lr=0.1), epochs=epochs)


def test_resuming_from_a_weights_only_checkpoint_says_so(tmp_path):
    model = _model()
    save_checkpoint(tmp_path / "last.npz", model)
    with pytest.raises(CheckpointError, match=r"holds weights only .*load_state_dict"):
        _fit(model, optim.SGD(model.parameters(), lr=0.1), tmp_path, resume=True)


@pytest.mark.parametrize("where", ["file", "under-file"])
def test_an_out_dir_that_is_a_file_fails_before_any_step(tmp_path, where):
    (tmp_path / "f").write_text("not a directory")
    out = tmp_path / "f" if where == "file" else tmp_path / "f" / "run"
    calls = []
    model = _model()
    with pytest.raises(RunDirectoryError, match="is a file" if where == "file" else "lies under the file"):
        _fit(model, optim.SGD(model.parameters(), lr=0.1), out, loss_fn=lambda *a: calls.append(1))
    assert calls == []


def test_an_out_dir_holding_a_run_is_not_replaced_unless_asked(tmp_path):
    model = _model()
    _fit(model, optim.SGD(model.parameters(), lr=0.1), tmp_path)
    before = (tmp_path / "last.npz").read_bytes()
    model = _model()
    with pytest.raises(RunDirectoryError, match="already holds a run.*resume=True.*overwrite=True"):
        _fit(model, optim.SGD(model.parameters(), lr=0.1), tmp_path)
    assert (tmp_path / "last.npz").read_bytes() == before
    _fit(model, optim.SGD(model.parameters(), lr=0.1), tmp_path, overwrite=True)


class Recorder:
    """Every callback method; adds its own history key."""

    def __init__(self):
        self.calls = []

    def on_fit_start(self, model):
        self.calls.append("start")

    def on_step_end(self, model, step, loss_value):
        assert all(p.grad is not None for p in model.parameters())
        self.calls.append(("step", step, loss_value))

    def on_epoch_end(self, model, epoch, history):
        self.calls.append(("epoch", epoch))
        history.setdefault("weight_norm", []).append(float(np.linalg.norm(np.asarray(model[1].weight.data))))


def test_callbacks_see_each_step_and_epoch_and_their_history_keys_survive_resume(tmp_path):
    model, recorder = _model(), Recorder()
    opt = optim.SGD(model.parameters(), lr=0.1)
    history = _fit(model, opt, tmp_path, epochs=1, callbacks=[recorder])
    assert recorder.calls[0] == "start" and recorder.calls[-1] == ("epoch", 0)
    assert [c[1] for c in recorder.calls[1:-1]] == [1, 2, 3]
    assert history["step_loss"] == [c[2] for c in recorder.calls[1:-1]]
    assert json.load(open(tmp_path / "history.json"))["weight_norm"] == history["weight_norm"]
    resumed = _fit(model, opt, tmp_path, epochs=2, resume=True, callbacks=[Recorder()])
    assert len(resumed["weight_norm"]) == 2 and len(resumed["step_loss"]) == 2 * STEPS
    assert load_checkpoint(tmp_path / "last.npz")["meta"]["history"]["weight_norm"] == resumed["weight_norm"]


def test_step_losses_of_an_interrupted_and_resumed_run_equal_the_straight_run(tmp_path):
    import os
    import signal

    def run(out, resume=False, interrupt=None):
        class Stop:
            def on_step_end(self, model, step, value):
                if interrupt and step == interrupt:
                    os.kill(os.getpid(), signal.SIGINT)
        model = _model()
        return _fit(model, optim.SGD(model.parameters(), lr=0.1, momentum=0.9), out, epochs=2, resume=resume,
                    callbacks=[Stop()])
    straight = run(tmp_path / "a")
    with pytest.raises(TrainingInterrupted):
        run(tmp_path / "b", interrupt=2)
    assert run(tmp_path / "b", resume=True)["step_loss"] == straight["step_loss"]


CONFIG = {"model": "mnist_cnn", "dataset": "mnist", "batch_size": 16, "optimizer": "SGD", "lr": 0.1, "seed": 0}


def test_resume_with_a_different_configuration_names_each_differing_key(tmp_path):
    model = _model()
    _fit(model, optim.SGD(model.parameters(), lr=0.1), tmp_path, config=CONFIG)
    given = {**CONFIG, "lr": 0.5, "batch_size": 32}
    with pytest.raises(ResumeMismatchError, match=r"batch_size: saved 16, given 32; lr: saved 0\.1, given 0\.5"):
        _fit(model, optim.SGD(model.parameters(), lr=0.1), tmp_path, epochs=2, resume=True, config=given)
    _fit(model, optim.SGD(model.parameters(), lr=0.1), tmp_path, epochs=2, resume=True, config=dict(CONFIG))


values = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from([0.1, 1e-3, 2.5]),
                   st.sampled_from(["adam", "sgd", "mnist"]), st.lists(st.integers(0, 3), max_size=3))
configs = st.dictionaries(st.sampled_from(["model", "dataset", "lr", "batch_size", "seed", "resize", "limits"]), values)


@settings(max_examples=200, deadline=None)
@given(saved=configs, given_config=configs)
def test_the_resume_check_refuses_exactly_the_keys_that_differ(saved, given_config):
    differing = {k for k in set(saved) | set(given_config) if saved.get(k) != given_config.get(k)}
    assert {k for k, _, _ in config_differences(saved, given_config)} == differing
    if differing and saved and given_config:
        with pytest.raises(ResumeMismatchError) as info:
            check_resume_config(saved, given_config, "last.npz")
        for key in differing:
            assert f"{key}: saved {saved.get(key)!r}, given {given_config.get(key)!r}" in str(info.value)
    else:
        check_resume_config(saved, given_config, "last.npz")
    roundtrip = json.loads(json.dumps(saved))   # tuples become lists, int keys strings: still the same run
    assert config_differences(saved, roundtrip) == []


def test_mixed_precision_trains_and_its_loss_scale_is_saved_and_restored(tmp_path):
    from minicnn.amp import DynamicLossScaler, MixedPrecision
    model = _model()
    opt = optim.Adam(model.parameters(), lr=0.01)
    amp = MixedPrecision(model, DynamicLossScaler(init_scale=2.0 ** 40, growth_interval=2))   # overflows at first
    history = _fit(model, opt, tmp_path, amp=amp)
    assert np.isfinite(history["train_loss"][0]) and len(history["step_loss"]) == STEPS
    assert amp.loss_scaler.skipped_steps >= 1                 # overflow steps are the scaler's, not errors
    saved = load_checkpoint(tmp_path / "last.npz")["meta"]["amp"]
    assert saved == amp.loss_scaler.state_dict()
    fresh = MixedPrecision(model)
    _fit(model, opt, tmp_path, epochs=1, resume=True, amp=fresh)
    assert fresh.loss_scaler.state_dict() == saved
    assert all(p.dtype == np.float32 for p in model.parameters())


def test_the_finite_check_is_one_fused_reduction_per_step_whatever_the_number_of_arrays(monkeypatch):
    from minicnn import nonfinite

    class CountingNumpy:
        """NumPy, counting the reductions whose result crosses to the host (one per stack)."""
        stacks = 0

        def __getattr__(self, name):
            return getattr(np, name)

        def stack(self, flags):
            CountingNumpy.stacks += 1
            return np.stack(flags)

    monkeypatch.setattr(nonfinite, "get_array_module", lambda *arrays: CountingNumpy())
    model = _model()
    opt = optim.Adam(model.parameters(), lr=0.01)
    loader = DataLoader(blobs(48, seed=0), batch_size=16)
    fit(model, opt, loader, epochs=1, progress=False, plot=False, log=lambda s: None)
    arrays = len(nonfinite._arrays(model, opt))
    assert arrays > 10 and CountingNumpy.stacks == STEPS
