"""benchmarks/gpu_check.sh and benchmarks/gpu_record.py, rehearsed on the CPU (--dry-run).

The GPU machine runs the script for real; here every part that needs no GPU runs: the
option checks, the step order and markers, the CUDA-version-to-extra choice, the data check,
the rows and tables, and (slow) the whole rehearsal with the SIGINT-and-resume loop.
"""
import json
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "benchmarks", "gpu_check.sh")
SYSTEM_DATA = "/usr/share/datasets/fashion-mnist"
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

import gpu_record  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("bash") is None or shutil.which("timeout") is None,
                                reason="needs bash and coreutils' timeout")


def gpu_check(*args, tmp_path, timeout=300, **env):
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    environ = dict(os.environ, PYTHONPATH=ROOT, PYTHON=sys.executable, OUT=str(out), **env)
    return subprocess.run(["bash", SCRIPT, "--state", str(tmp_path / "state"), *args], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("args, message", [
    (["--steps", "a,x"], "--steps: expected a comma list of a,b,c,d,e; got 'a,x'"),
    (["--deadline", "soon"], "--deadline: expected whole seconds, got 'soon'"),
    (["--epochs", "0"], "--epochs: expected a positive whole number, got '0'"),
    (["--bogus"], "unknown argument '--bogus'"),
])
def test_bad_options_exit_2_naming_the_option(tmp_path, args, message):
    result = gpu_check(*args, tmp_path=tmp_path)
    assert result.returncode == 2 and message in result.stderr


def test_help_lists_the_steps_and_exit_codes(tmp_path):
    result = gpu_check("--help", tmp_path=tmp_path)
    assert result.returncode == 0
    for text in ("pytest -m gpu", "gpu_step_time.py", "timeout --signal=INT", "75 the training is not finished",
                 "--dry-run"):
        assert text in result.stdout


@pytest.mark.parametrize("cuda, extra", [("12.4", "cuda12"), ("13.0", "cuda13")])
def test_step_a_picks_the_cupy_extra_from_the_cuda_version(tmp_path, cuda, extra):
    smi = f"| NVIDIA-SMI 580.1   Driver Version: 580.1   CUDA Version: {cuda}     |"
    result = gpu_check("--dry-run", "--steps", "a", tmp_path=tmp_path, GPU_CHECK_NVIDIA_SMI_TEXT=smi)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"-e .[{extra}]" in result.stdout
    assert (tmp_path / "state" / "done.a").exists()


def test_an_unknown_cuda_version_fails_step_a_loudly_with_its_exit_code(tmp_path):
    result = gpu_check("--dry-run", "--steps", "a,e", tmp_path=tmp_path,
                       GPU_CHECK_NVIDIA_SMI_TEXT="CUDA Version: 11.8")
    assert result.returncode == 11
    assert "FAILED in step (a)" in result.stderr and "CUDA major version '11'" in result.stderr
    assert not (tmp_path / "state" / "done.a").exists() and not (tmp_path / "state" / "done.e").exists()
    assert (tmp_path / "out" / "gpu_check.log").exists()       # the log comes back even from a failure


def test_missing_data_stops_before_any_step_with_exit_3(tmp_path):
    result = gpu_check("--dry-run", "--data", str(tmp_path / "nowhere"), tmp_path=tmp_path)
    assert result.returncode == 3
    assert "no directory" in result.stderr and "carry the data along" in result.stderr
    assert not list((tmp_path / "state").glob("done.*"))


def test_done_steps_are_skipped_on_the_next_call_and_step_e_rebuilds_the_tables(tmp_path):
    assert gpu_check("--dry-run", "--steps", "a,e", tmp_path=tmp_path).returncode == 0
    again = gpu_check("--dry-run", "--steps", "a,e", tmp_path=tmp_path)
    assert again.returncode == 0 and "(a) done in an earlier call; skipped" in again.stdout
    for name in ("results.jsonl", "RESULTS.md", "GPU.md", "gpu_check.log"):
        assert (tmp_path / "out" / name).exists()
    assert "## GPU" in (tmp_path / "out" / "RESULTS.md").read_text()


def test_a_call_with_too_little_time_left_exits_75_to_be_called_again(tmp_path):
    result = gpu_check("--dry-run", "--steps", "b,e", "--deadline", "3", tmp_path=tmp_path)
    assert result.returncode == 75 and "too little to start step (b); call again" in result.stdout
    assert not (tmp_path / "state" / "done.b").exists() and (tmp_path / "out" / "GPU.md").exists()


@pytest.mark.skipif(__import__("minicnn").cupy_available(), reason="checks the no-GPU case")
def test_the_suite_asked_to_run_on_cupy_fails_without_a_gpu_instead_of_skipping():
    env = dict(os.environ, PYTHONPATH=ROOT, MINICNN_TEST_BACKENDS="cupy")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_amp.py",
                             "-k", "unscale_divides"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stdout[-2000:]
    assert "MINICNN_TEST_BACKENDS=cupy asks for cupy, but CuPy with a usable GPU is not available" in result.stdout


def test_fresh_deletes_only_a_state_dir_the_script_made(tmp_path):
    precious = tmp_path / "state" / "thesis.tex"
    precious.parent.mkdir()
    precious.write_text("years of work")
    result = gpu_check("--dry-run", "--steps", "a", "--fresh", tmp_path=tmp_path)
    assert result.returncode == 2 and "not a gpu_check state dir; not deleting it" in result.stderr
    assert precious.read_text() == "years of work"
    precious.unlink()
    assert gpu_check("--dry-run", "--steps", "a", tmp_path=tmp_path).returncode == 0
    assert gpu_check("--dry-run", "--steps", "a", "--fresh", tmp_path=tmp_path).returncode == 0


# --- gpu_record.py: rows read off the files the runs wrote ---------------------------------------------

JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="1" failures="2"
 skipped="3" tests="20" time="12.5"></testsuite></testsuites>"""


@pytest.fixture
def results_log(tmp_path, monkeypatch):
    monkeypatch.setattr(gpu_record, "RESULTS_LOG", str(tmp_path / "results.jsonl"))
    monkeypatch.setattr(gpu_record, "GPU_MD", str(tmp_path / "GPU.md"))
    return tmp_path


def test_suite_rows_count_passed_failed_errors_skipped_from_the_junit_report(results_log):
    (results_log / "r.xml").write_text(JUNIT)
    gpu_record.main(["suite", "--name", "whole-suite-cupy", "--junit", str(results_log / "r.xml"),
                     "--command", "pytest", "--dry-run"])
    row = json.loads((results_log / "results.jsonl").read_text())
    assert row["kind"] == "gpu_suite" and row["config"] == {"dry_run": True}
    assert {k: row["result"][k] for k in ("passed", "failed", "errors", "skipped")} == \
        {"passed": 14, "failed": 2, "errors": 1, "skipped": 3}
    assert "| DRY RUN on the CPU (not a GPU figure) | whole-suite-cupy | 14 | 2 | 1 | 3 |" in \
        (results_log / "GPU.md").read_text()


def test_train_rows_take_accuracy_epoch_time_and_pool_from_history(results_log):
    history = {"test_acc": [0.85, 0.9, 0.92], "epoch_time": [30.0, 20.0, 21.0], "images_per_s": [2000, 3000, 2900],
               "gpu_pool_used_bytes": [1, 2, 3], "gpu_pool_held_bytes": [2 ** 30, 3 * 2 ** 30, 2 ** 30]}
    (results_log / "history.json").write_text(json.dumps(history))
    gpu_record.main(["train", "--history", str(results_log / "history.json"), "--model", "alexnet", "--epochs", "3",
                     "--batch-size", "256", "--resize", "224", "--lr", "1e-3", "--optimizer", "adam",
                     "--backend", "numpy", "--command", "python examples/alexnet_fashionmnist.py", "--dry-run"])
    result = json.loads((results_log / "results.jsonl").read_text())["result"]
    assert result["final_test_acc"] == 0.92 and result["median_epoch_s"] == 21.0
    assert result["max_gpu_pool_held_bytes"] == 3 * 2 ** 30
    assert "| 3 | 256 | 224 | 21.0 | 2900 | 92.00 % | 92.00 % | 3072 |" in (results_log / "GPU.md").read_text()


def test_record_refuses_a_missing_report_and_a_history_without_test_accuracy(results_log):
    with pytest.raises(FileNotFoundError, match="no JUnit report"):
        gpu_record.junit_counts(str(results_log / "none.xml"))
    (results_log / "h.json").write_text(json.dumps({"test_acc": [], "epoch_time": [], "images_per_s": []}))
    with pytest.raises(ValueError, match="has no test accuracy"):
        gpu_record.train_result(str(results_log / "h.json"))


# --- the whole rehearsal --------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir(SYSTEM_DATA), reason=f"needs Fashion-MNIST in {SYSTEM_DATA}")
def test_dry_run_goes_through_every_step_and_resumes_the_training_after_sigint(tmp_path):
    """Call 1 runs (a)-(c), trains until SIGINT (after epoch 1) and exits 75; call 2 resumes
    mid-epoch, finishes and records; call 3 has nothing left. The repo's results stay as they were."""
    tracked = open(os.path.join(ROOT, "benchmarks", "results.jsonl")).read()
    first = gpu_check("--dry-run", "--data", SYSTEM_DATA, tmp_path=tmp_path, timeout=900)
    assert first.returncode == 75, first.stdout[-4000:] + first.stderr[-2000:]
    assert "interrupted at epoch 2 step" in first.stdout + first.stderr and "call again" in first.stdout
    second = gpu_check("--dry-run", "--data", SYSTEM_DATA, tmp_path=tmp_path, timeout=900)
    assert second.returncode == 0, second.stdout[-4000:] + second.stderr[-2000:]
    assert "resumed from" in second.stdout and "final test accuracy" in second.stdout
    third = gpu_check("--dry-run", "--data", SYSTEM_DATA, tmp_path=tmp_path)
    assert third.returncode == 0 and third.stdout.count("done in an earlier call") == 4   # a, b, c, d

    rows = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    gpu_rows = [r for r in rows if r["kind"].startswith("gpu_")]
    assert sorted(r["kind"] for r in gpu_rows) == ["gpu_step"] * 4 + ["gpu_suite"] * 3 + ["gpu_train"]
    assert all(r["config"]["dry_run"] for r in gpu_rows)
    assert [r["result"]["epochs_done"] for r in gpu_rows if r["kind"] == "gpu_train"] == [2]
    history = json.loads((tmp_path / "out" / "history.json").read_text())
    assert len(history["test_acc"]) == 2
    assert open(os.path.join(ROOT, "benchmarks", "results.jsonl")).read() == tracked
