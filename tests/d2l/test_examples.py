"""examples/d2l/: each chapter script trains a few batches of a tiny Fashion-MNIST subset."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

import minicnn as mc

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ["lenet", "alexnet", "vgg", "nin", "googlenet", "batchnorm", "resnet", "densenet"]
SLOW = {"alexnet", "vgg", "nin", "googlenet", "resnet", "densenet"}   # 15-45 s each on a loaded CPU


def fashion_mnist_available():
    try:
        mc.data.FashionMNIST(train=False)
        return True
    except (FileNotFoundError, ValueError):
        return False


@pytest.mark.skipif(not fashion_mnist_available(), reason="Fashion-MNIST is not on this machine")
@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in SCRIPTS])
def test_chapter_script_trains_a_few_batches(name):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "d2l" / f"{name}.py"), "--epochs", "1", "--max-batches", "2",
         "--batch-size", "8", "--limit", "16", "--test-limit", "8"],
        capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert "parameters, 16 training images" in lines[0]
    assert lines[1].startswith("epoch 1: loss ") and "test acc" in lines[1]


def test_a_bad_option_is_one_line_of_usage_error():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "d2l" / "lenet.py"), "--limit", "0"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 2 and "--limit must be >= 1, got 0" in result.stderr
