"""``python -m minicnn summary NAME``."""
import subprocess
import sys
from pathlib import Path

import pytest

from minicnn.__main__ import main

ROOT = Path(__file__).resolve().parents[1]


def test_summary_command_prints_the_seed_alexnet_table(capsys):
    assert main(["summary", "alexnet", "--input-shape", "1", "224", "224"]) == 0
    out = capsys.readouterr().out
    assert "Total params: 46,764,746" in out
    assert "Total mult-adds (M): 938.75" in out
    assert "[1, 96, 54, 54]" in out


def test_summary_command_builds_for_the_given_channels_size_classes_and_batch(capsys):
    main(["summary", "alexnet", "--input-shape", "3", "96", "96", "--num-classes", "7", "--batch-size", "2"])
    out = capsys.readouterr().out
    assert "[2, 96, 22, 22]" in out       # 3 channels in, 96 maps of (96 + 2 - 11) // 4 + 1
    assert "[2, 7]" in out


def test_summary_command_defaults_to_the_native_input_shape(capsys):
    main(["summary", "cifar_resnet"])
    out = capsys.readouterr().out
    assert "[1, 16, 32, 32]" in out and "[1, 10]" in out


def test_unknown_model_is_an_argparse_error_listing_the_choices(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["summary", "alexnet2"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'alexnet2'" in err and "resnet50" in err and "mnist_cnn" in err


def test_non_square_input_for_a_fixed_flatten_model_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit):
        main(["summary", "lenet", "--input-shape", "1", "28", "32"])
    assert "square inputs" in capsys.readouterr().err


def test_module_runs_as_a_script():
    result = subprocess.run([sys.executable, "-m", "minicnn", "summary", "lenet"], capture_output=True, text=True, cwd=ROOT,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Total params: 61,706" in result.stdout
