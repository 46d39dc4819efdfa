"""Crash safety around checkpoints and Ctrl-C (issue 9); SIGKILL mid-save is in tests/test_checkpoint.py,
SIGKILL mid-training in test_resume.py."""
import os
import signal
import threading

import numpy as np
import pytest

import minicnn as mc
from minicnn import checkpoint, nn, optim
from minicnn.checkpoint import load_checkpoint, save_checkpoint
from minicnn.train import fit
from tests.reliability._runs import build


def test_a_failing_save_leaves_the_previous_checkpoint_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "last.npz"
    save_checkpoint(path, nn.Linear(3, 2), epoch=1)

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(checkpoint.np, "savez", disk_full)
    with pytest.raises(OSError, match="No space left"):
        save_checkpoint(path, nn.Linear(3, 2), epoch=2)
    assert os.listdir(tmp_path) == ["last.npz"]
    assert load_checkpoint(path)["meta"]["epoch"] == 1


def test_fit_restores_the_previous_sigint_handler(tmp_path):
    before = signal.getsignal(signal.SIGINT)
    model, opt, sched, train, test = build("augment")
    fit(model, opt, train, None, epochs=1, progress=False, log=lambda s: None)
    assert signal.getsignal(signal.SIGINT) is before


def test_fit_runs_outside_the_main_thread_without_touching_sigint():
    model, opt, sched, train, test = build("augment")
    errors = []

    def work():
        try:
            fit(model, opt, train, None, epochs=1, progress=False, log=lambda s: None)
        except BaseException as e:   # reported below
            errors.append(e)
    thread = threading.Thread(target=work)
    thread.start()
    thread.join(60)
    assert not errors


def test_resume_without_a_place_to_resume_from_says_what_is_needed(tmp_path):
    model, opt, sched, train, test = build("augment")
    with pytest.raises(ValueError, match=r"fit\(resume=True\) needs out_dir"):
        fit(model, opt, train, None, epochs=1, resume=True, progress=False, log=lambda s: None)
    with pytest.raises(FileNotFoundError, match=r"checkpoint '.*nothing.npz' does not exist"):
        fit(model, opt, train, None, epochs=1, resume=tmp_path / "nothing.npz", progress=False, log=lambda s: None)


def test_a_best_checkpoint_is_written_only_when_test_accuracy_improves(tmp_path):
    model, opt, sched, train, test = build("augment")
    history = fit(model, opt, train, test, epochs=3, scheduler=sched, out_dir=tmp_path, progress=False,
                  log=lambda s: None, plot=False)
    best_epoch = int(np.argmax(history["test_acc"])) + 1   # first epoch with the best accuracy
    assert load_checkpoint(tmp_path / "best.npz")["meta"]["epoch"] == best_epoch
    assert load_checkpoint(tmp_path / "last.npz")["meta"]["epoch"] == 3
    assert sorted(os.listdir(tmp_path)) == ["best.npz", "history.json", "last.npz"]   # no temporary files
