"""The examples' command line: run directories are never overwritten in silence, every flag is
checked before anything is loaded, and a library error is one line ``error: ...`` with exit 1."""
import contextlib
import importlib.util
import io
import json
import os
import tempfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from minicnn.checkpoint import load_checkpoint
from minicnn.data.idx import write_idx
from tests.examples._run import ROOT, run_example


def load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MNIST_CNN = load("mnist_cnn")


def tiny_mnist(directory, n_train=32, n_test=8):
    rng = np.random.default_rng(0)
    os.makedirs(directory, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(os.path.join(directory, f"{prefix}-images-idx3-ubyte"), rng.integers(0, 256, (n, 28, 28), np.uint8))
        write_idx(os.path.join(directory, f"{prefix}-labels-idx1-ubyte"), rng.integers(0, 10, n).astype(np.uint8))
    return directory


def run_main(module, argv):
    """(exit status, stdout, stderr) of the example's main under main_guard, in this process."""
    from minicnn.cli import main_guard
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main_guard(module.main, argv)
        except SystemExit as e:
            code = e.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def data(tmp_path):
    return tiny_mnist(str(tmp_path / "mnist"))


def base(data, out):
    return ["--dataset", "mnist", "--data-dir", data, "--no-verify", "--batch-size", "16", "--epochs", "1",
            "--no-progress", "--out", str(out)]


def test_a_rerun_with_the_same_out_goes_to_a_fresh_sibling_and_says_so(tmp_path, data):
    out = tmp_path / "runs" / "mnist_cnn"
    assert run_main(MNIST_CNN, base(data, out))[0] == 0
    first = (out / "last.npz").read_bytes()
    code, stdout, _ = run_main(MNIST_CNN, base(data, out))
    assert code == 0 and f"{out} holds an earlier run; writing to {out}-2 instead" in stdout
    assert (out / "last.npz").read_bytes() == first and (tmp_path / "runs" / "mnist_cnn-2" / "last.npz").exists()
    assert run_main(MNIST_CNN, base(data, out))[0] == 0
    assert (tmp_path / "runs" / "mnist_cnn-3" / "last.npz").exists()


def test_overwrite_replaces_and_resume_continues_the_run_in_out(tmp_path, data):
    out = tmp_path / "run"
    run_main(MNIST_CNN, base(data, out))
    code, stdout, _ = run_main(MNIST_CNN, base(data, out) + ["--overwrite"])
    assert code == 0 and "--overwrite: replacing it" in stdout and not (tmp_path / "run-2").exists()
    code, stdout, err = run_main(MNIST_CNN, base(data, out)[:-3] + ["--epochs", "2", "--no-progress", "--out", str(out),
                                                                     "--resume"])
    assert code == 0, err
    assert "resumed from" in stdout and load_checkpoint(out / "last.npz")["meta"]["epoch"] == 2


def test_the_default_out_is_runs_slash_name_in_the_working_directory(tmp_path, data, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = base(data, "x")[:-2]
    assert run_main(MNIST_CNN, argv)[0] == 0 and (tmp_path / "runs" / "mnist_cnn" / "last.npz").exists()


def test_resume_with_changed_flags_names_each_differing_value(tmp_path, data):
    out = tmp_path / "run"
    run_main(MNIST_CNN, base(data, out))
    code, _, err = run_main(MNIST_CNN, base(data, out) + ["--resume", "--lr", "0.01", "--optimizer", "sgd"])
    assert code == 1 and err.count("error:") == 1 and "Traceback" not in err
    assert "lr: saved 0.001, given 0.01" in err and "optimizer: saved 'adam', given 'sgd'" in err
    assert "momentum: saved None, given 0.9" in err


def test_lr_schedule_cosine_anneals_to_zero_over_the_run_and_is_part_of_the_config(tmp_path, data):
    out = tmp_path / "run"
    code, _, err = run_main(MNIST_CNN, base(data, out)[:-5] + ["--epochs", "2", "--no-progress", "--out", str(out),
                                                                "--lr-schedule", "cosine"])
    assert code == 0, err
    meta = load_checkpoint(out / "last.npz")["meta"]
    assert meta["config"]["lr_schedule"] == "cosine"
    assert meta["config"]["scheduler"] == "CosineAnnealingLR(T_max=4) per step"     # 32 images / 16, 2 epochs
    lrs = json.loads((out / "history.json").read_text())["lr"]
    assert lrs[0] == pytest.approx(0.0005) and lrs[1] == pytest.approx(0.0, abs=1e-12)   # half way, then 0
    code, _, err = run_main(MNIST_CNN, base(data, out) + ["--resume"])             # constant now: refused
    assert code == 1 and "lr_schedule: saved 'cosine', given 'constant'" in err


def test_resume_of_an_out_without_a_run_is_refused(tmp_path, data):
    code, _, err = run_main(MNIST_CNN, base(data, tmp_path / "empty") + ["--resume"])
    assert code == 1 and "holds no run to continue" in err


@pytest.mark.parametrize("where", ["file", "under-file"])
def test_an_out_that_is_a_file_fails_before_the_data_is_read(tmp_path, where):
    (tmp_path / "f").write_text("x")
    out = tmp_path / "f" if where == "file" else tmp_path / "f" / "run"
    code, _, err = run_main(MNIST_CNN, base(str(tmp_path / "no-data-here"), out))
    assert code == 1 and err.startswith("error: output directory") and err.count("\n") == 1


@pytest.mark.parametrize("flags, message", [
    (["--limit-train", "-5"], "argument --limit-train: must be a positive integer, got -5"),
    (["--limit-test", "0"], "argument --limit-test: must be a positive integer, got 0"),
    (["--epochs", "2.5"], "argument --epochs: expected a positive integer, got '2.5'"),
    (["--batch-size", "0"], "argument --batch-size: must be a positive integer, got 0"),
    (["--lr", "nan"], "argument --lr: must be a finite number > 0, got nan"),
    (["--lr", "-1"], "argument --lr: must be a finite number > 0, got -1"),
    (["--optimizer", "sgd", "--momentum", "nan"], "argument --momentum: must be a number in [0, 1], got nan"),
    (["--weight-decay", "inf"], "argument --weight-decay: must be a finite number >= 0, got inf"),
    (["--momentum", "0.5"], "--momentum applies to --optimizer sgd only (got --optimizer adam)"),
    (["--resume", "--overwrite"], "argument --overwrite: not allowed with argument --resume"),
    (["--resize", "64"], "unrecognized arguments: --resize 64"),
    (["--dataset", "cifar10"], "argument --dataset: invalid choice: 'cifar10'"),
])
def test_bad_flags_are_one_argparse_error_before_anything_runs(tmp_path, flags, message):
    code, _, err = run_main(MNIST_CNN, ["--out", str(tmp_path / "run")] + flags)
    assert code == 2 and message in err and err.count("error:") == 1
    assert not (tmp_path / "run").exists()


def test_missing_data_in_an_explicit_dir_is_one_error_line_naming_it(tmp_path):
    code, _, err = run_main(MNIST_CNN, base(str(tmp_path / "nothing"), tmp_path / "run"))
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert str(tmp_path / "nothing") in err and "train-images-idx3-ubyte" in err


def test_an_unexpected_bug_keeps_its_traceback(monkeypatch):
    from minicnn import cli

    def buggy():
        raise KeyError("a bug")
    with pytest.raises(KeyError):
        cli.main_guard(buggy)


def test_the_examples_run_as_scripts_without_sys_path_edits(tmp_path):
    assert not any("sys.path" in (ROOT / "examples" / name).read_text()
                   for name in os.listdir(ROOT / "examples") if name.endswith(".py"))
    data = tiny_mnist(str(tmp_path / "mnist"))
    result = run_example("mnist_cnn.py", *base(data, tmp_path / "run"), "--limit-train", "16")
    assert result.returncode == 0, result.stderr
    assert "final test accuracy" in result.stdout
    bad = run_example("mnist_cnn.py", *base(str(tmp_path / "none"), tmp_path / "run2"))
    assert bad.returncode == 1 and bad.stderr.startswith("error: ") and bad.stderr.count("\n") == 1


OPTIONS = st.fixed_dictionaries({}, optional={
    "--epochs": st.sampled_from(["1", "0", "-1", "1.5", "x"]),
    "--batch-size": st.sampled_from(["8", "16", "0", "-3", "64"]),
    "--lr": st.sampled_from(["0.01", "1e-3", "0", "nan", "inf", "-1", "1e9"]),
    "--optimizer": st.sampled_from(["adam", "sgd", "rmsprop"]),
    "--momentum": st.sampled_from(["0.9", "0", "1.5", "nan"]),
    "--weight-decay": st.sampled_from(["0", "1e-4", "-1", "nan"]),
    "--limit-train": st.sampled_from(["8", "16", "0", "-5", "1000"]),
    "--limit-test": st.sampled_from(["4", "0", "-1"]),
    "--seed": st.sampled_from(["0", "3", "-1", "x"]),
    "--dataset": st.sampled_from(["mnist", "fashion-mnist", "cifar10", "imagenet"]),
    "--resize": st.sampled_from(["32"]),
    "--lr-schedule": st.sampled_from(["constant", "cosine", "linear"]),
})
FLAGS = st.lists(st.sampled_from(["--resume", "--overwrite", "--skip-nonfinite", "--no-normalize"]), unique=True)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(options=OPTIONS, flags=FLAGS)
def test_any_combination_of_options_runs_or_fails_with_exactly_one_error_line(options, flags):
    with tempfile.TemporaryDirectory() as tmp:
        data = tiny_mnist(os.path.join(tmp, "mnist"), n_train=24, n_test=8)
        argv = ["--data-dir", data, "--no-verify", "--no-progress", "--out", os.path.join(tmp, "run")]
        argv += [part for key, value in options.items() for part in (key, value)] + flags
        code, stdout, err = run_main(MNIST_CNN, argv)
        assert "Traceback" not in err
        if code == 0:
            assert "final test accuracy" in stdout or "nothing" in stdout
        else:
            assert code in (1, 2) and len([line for line in err.splitlines() if "error:" in line]) == 1, err
            assert err.rstrip().splitlines()[-1].count("error:") == 1


def test_a_multi_line_library_message_becomes_one_error_line(isolated_dirs):
    code, _, err = run_main(MNIST_CNN, ["--dataset", "mnist", "--no-progress", "--out", str(isolated_dirs / "run")])
    assert code == 1 and err.count("\n") == 1 and err.startswith("error: MNIST train split:")
    assert f"Searched: {isolated_dirs / 'cache' / 'mnist'}" in err and "Get them with one of: " in err
