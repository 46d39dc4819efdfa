import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from minicnn import nn
from minicnn.checkpoint import CheckpointError, load_checkpoint, save_checkpoint


class Tiny(nn.Module):
    def __init__(self, fill=1.0, n=4):
        super().__init__()
        self.weight = nn.Parameter(np.full((n, n), fill, dtype=np.float32))
        self.register_buffer("count", np.array(3, dtype=np.int64))


class FakeOptimizer:
    def __init__(self):
        self.loaded = None

    def state_dict(self):
        return {"state": {0: {"step": 5, "exp_avg": np.ones((4, 4), np.float32)}},
                "param_groups": [{"lr": 0.1, "params": [0]}]}

    def load_state_dict(self, state):
        self.loaded = state


def test_save_then_load_round_trips_model_optimizer_and_meta(tmp_path):
    path = tmp_path / "ck.npz"
    save_checkpoint(path, Tiny(2.0), FakeOptimizer(), epoch=3, history={"loss": [1.0, 0.5]})
    state = load_checkpoint(path)
    assert (state["model"]["weight"] == 2.0).all() and state["model"]["count"] == 3
    assert state["meta"] == {"epoch": 3, "history": {"loss": [1.0, 0.5]}}
    opt = state["optimizer"]
    assert opt["state"][0]["step"] == 5 and opt["state"][0]["exp_avg"].shape == (4, 4)
    assert opt["param_groups"] == [{"lr": 0.1, "params": [0]}]
    model = Tiny(0.0)
    model.load_state_dict(state["model"])
    assert (model.weight.data == 2.0).all()
    assert [p for p in os.listdir(tmp_path)] == ["ck.npz"]  # no temp files left behind


def test_a_truncated_checkpoint_raises_checkpoint_error_naming_the_path(tmp_path):
    path = tmp_path / "ck.npz"
    save_checkpoint(path, Tiny())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="ck.npz.*truncated or corrupt"):
        load_checkpoint(path)


def test_a_foreign_npz_is_refused(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, weights=np.zeros(3))
    with pytest.raises(CheckpointError, match="not a minicnn checkpoint.*weights"):
        load_checkpoint(path)


def test_a_missing_checkpoint_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        load_checkpoint(tmp_path / "nope.npz")


def test_killing_a_process_mid_save_leaves_the_previous_checkpoint_loadable(tmp_path):
    """SIGKILL while a big checkpoint is being written: the old file still loads."""
    path = tmp_path / "ck.npz"
    save_checkpoint(path, Tiny(7.0))
    script = textwrap.dedent(f"""
        import numpy as np, sys
        sys.path.insert(0, {os.getcwd()!r})
        from minicnn import nn
        from minicnn.checkpoint import save_checkpoint
        class Big(nn.Module):
            def __init__(self):
                super().__init__()
                self.weight = nn.Parameter(np.full((4, 4), 9.0, dtype=np.float32))
                self.register_buffer("count", np.array(3, dtype=np.int64))
                self.register_buffer("blob", np.random.rand(64, 1024, 1024).astype(np.float32))
        model = Big()
        print("saving", flush=True)
        while True:
            save_checkpoint({str(path)!r}, model)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "saving"
    time.sleep(0.3)  # inside the first big write, or a later one on a fast disk
    proc.kill()
    proc.wait()
    state = load_checkpoint(path)
    # the old checkpoint, or a whole new one -- never a torn file (see also tests/reliability/test_crash_safety.py)
    if not (state["model"]["weight"] == 7.0).all():
        assert (state["model"]["weight"] == 9.0).all() and state["model"]["blob"].shape == (64, 1024, 1024)
