"""Crash safety around checkpoints and Ctrl-C; SIGKILL mid-save is in tests/test_checkpoint.py,
SIGKILL mid-training in test_resume.py."""
import os
import re
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import minicnn as mc
from minicnn import checkpoint, nn, optim
from minicnn.checkpoint import load_checkpoint, save_checkpoint
from minicnn.train import fit
from tests.reliability._runs import build

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


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


KILLED_SAVER = """
import sys
import numpy as np
from minicnn import nn
from minicnn.checkpoint import save_checkpoint

class Big(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(np.zeros((4, 4), np.float32))
        self.register_buffer("blob", np.zeros((8, 1024, 1024), np.float32))   # 32 MB: a save takes a while

model = Big()
print("saving", flush=True)
k = 0
while True:
    k += 1
    model.weight.data[...] = k
    model.blob[...] = k
    save_checkpoint(sys.argv[1], model, generation=k)
"""


@pytest.mark.parametrize("delay", [0.0, 0.01, 0.03])
def test_sigkill_while_a_save_is_in_progress_leaves_a_complete_checkpoint(tmp_path, delay):
    """Kill the saver while its temporary file exists (a write in progress): the checkpoint under the
    real name is a whole earlier generation -- every array from the same save -- never a torn mix."""
    path = tmp_path / "last.npz"
    proc = subprocess.Popen([sys.executable, "-c", KILLED_SAVER, str(path)], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == "saving"
        deadline = time.time() + 60
        while time.time() < deadline:   # wait for a second save to be under way
            if path.exists() and any(name.startswith(".tmp-") for name in os.listdir(tmp_path)):
                break
            time.sleep(0.001)
        time.sleep(delay)
        writing = any(name.startswith(".tmp-") for name in os.listdir(tmp_path))
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    state = load_checkpoint(path)
    generation = state["meta"]["generation"]
    assert generation >= 1
    assert (state["model"]["weight"] == generation).all() and (state["model"]["blob"] == generation).all()
    if writing:   # the killed write left its temporary file behind; it never replaces the real one
        assert all(name == "last.npz" or name.startswith(".tmp-") for name in os.listdir(tmp_path))


def test_ctrl_c_in_an_example_saves_exits_130_with_a_hint_and_resume_finishes(tmp_path):
    """End to end through the command line: examples/mnist_cnn.py on tiny MNIST files."""
    from minicnn.data.idx import write_idx
    from tests.examples._run import example_env
    rng = np.random.default_rng(0)
    data = tmp_path / "data" / "mnist"
    data.mkdir(parents=True)
    for prefix, n in (("train", 48), ("t10k", 16)):
        write_idx(data / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(data / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, n).astype(np.uint8))
    env = example_env(MINICNN_DATA=tmp_path / "data")
    out = tmp_path / "run"
    command = [sys.executable, "examples/mnist_cnn.py", "--dataset", "mnist", "--batch-size", "8", "--out", str(out),
               "--no-progress", "--no-verify"]
    proc = subprocess.Popen(command + ["--epochs", "200"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while not (out / "last.npz").exists() and time.time() < deadline and proc.poll() is None:
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert re.search(r"interrupted at epoch \d+ step \d+; checkpoint saved to .*last.npz, continue with --resume", stderr)
    meta = load_checkpoint(out / "last.npz")["meta"]
    finish = meta["epoch"] + 1
    resumed = subprocess.run(command + ["--epochs", str(finish), "--resume"], cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed from {out / 'last.npz'}: epoch {meta['epoch'] + 1}, step {meta['step']}" in resumed.stdout
    assert "final test accuracy" in resumed.stdout
    assert load_checkpoint(out / "last.npz")["meta"]["epoch"] == finish
