"""The study examples run end to end on a checkpoint trained in the test itself (the seed's
small MNIST CNN, a few steps on synthetic Fashion-MNIST-format IDX files) and write PNGs."""
import gzip
import importlib.util
import os
import struct
from pathlib import Path

import numpy as np
import pytest

import minicnn as mc
from tests.examples._run import run_example

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
STUDY = ["visualize_filters", "feature_maps", "feature_retrieval", "training_curves"]


def write_idx_gz(path, array):
    """The standard IDX layout: magic 0x00000803 (images) / 0x00000801 (labels) = two zero
    bytes, type 0x08 (uint8), the number of dimensions; then big-endian uint32 dims and the data."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">I", 0x0800 | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())


def synthetic_images(rng, labels):
    """28x28 uint8 images whose class is a bright bar at a class-dependent row."""
    images = rng.integers(0, 40, size=(len(labels), 28, 28)).astype(np.uint8)
    for i, label in enumerate(labels):
        images[i, 2 + 2 * label:4 + 2 * label, 4:24] = 220
    return images


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(data dir, checkpoint path) of a mnist_cnn trained for two short epochs."""
    from minicnn import data, models, optim
    from minicnn.train import fit
    root = tmp_path_factory.mktemp("study")
    rng = np.random.default_rng(0)
    for split, n in (("train", 96), ("t10k", 24)):
        labels = np.arange(n) % 10
        write_idx_gz(root / f"{split}-images-idx3-ubyte.gz", synthetic_images(rng, labels))
        write_idx_gz(root / f"{split}-labels-idx1-ubyte.gz", labels)
    mc.manual_seed(0)
    model = models.mnist_cnn()
    train_set = data.FashionMNIST(root=str(root), train=True, verify=False)
    test_set = data.FashionMNIST(root=str(root), train=False, verify=False)
    fit(model, optim.Adam(model.parameters(), lr=3e-3), data.DataLoader(train_set, batch_size=32, shuffle=True, seed=0),
        data.DataLoader(test_set, batch_size=24), epochs=2, out_dir=str(root / "run"), progress=False,
        log=lambda *a, **k: None, plot=False)
    return root, root / "run" / "last.npz"


def load_example(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def is_png(path):
    with open(path, "rb") as f:
        return f.read(8) == b"\x89PNG\r\n\x1a\n"


def model_args(root, checkpoint):
    return ["--checkpoint", str(checkpoint), "--model", "mnist_cnn", "--data-dir", str(root), "--no-verify"]


@pytest.mark.parametrize("name", STUDY)
def test_example_help_runs_as_a_script(name):
    result = run_example(f"{name}.py", "--help")
    assert result.returncode == 0, result.stderr
    assert "--checkpoint" in result.stdout and "--out" in result.stdout


def test_the_synthetic_files_are_standard_idx(trained):
    from minicnn.data import read_idx
    root, _ = trained
    images = read_idx(root / "t10k-images-idx3-ubyte.gz")
    assert images.shape == (24, 28, 28) and images.dtype == np.uint8
    assert read_idx(root / "t10k-labels-idx1-ubyte.gz").tolist() == [i % 10 for i in range(24)]


def test_visualize_filters_writes_the_conv1_grid(trained, tmp_path, capsys):
    _, checkpoint = trained
    out = tmp_path / "filters.png"
    load_example("visualize_filters").main(["--checkpoint", str(checkpoint), "--out", str(out)])
    assert is_png(out)
    assert "conv1.0.weight: 16 kernels of 5x5x1" in capsys.readouterr().out


def test_visualize_filters_rejects_a_layer_that_is_not_a_conv_weight(trained, tmp_path, capsys):
    _, checkpoint = trained
    with pytest.raises(SystemExit):
        load_example("visualize_filters").main(["--checkpoint", str(checkpoint), "--layer", "fc.weight",
                                                "--out", str(tmp_path / "x.png")])
    assert "conv weights: conv1.0.weight, conv2.0.weight" in capsys.readouterr().err


def test_feature_maps_writes_maps_and_deconv_projections(trained, tmp_path):
    root, checkpoint = trained
    out, deconv = tmp_path / "maps.png", tmp_path / "deconv.png"
    load_example("feature_maps").main(model_args(root, checkpoint) + ["--index", "3", "--out", str(out),
                                                                      "--deconv-out", str(deconv), "--top", "2"])
    assert is_png(out) and is_png(deconv)


def test_feature_maps_names_the_valid_range_of_index(trained, tmp_path, capsys):
    root, checkpoint = trained
    with pytest.raises(SystemExit):
        load_example("feature_maps").main(model_args(root, checkpoint) + ["--index", "24", "--out", str(tmp_path / "m.png")])
    assert "the split has 24 images (0 to 23)" in capsys.readouterr().err


def test_feature_retrieval_writes_the_grid_of_nearest_training_images(trained, tmp_path, capsys):
    root, checkpoint = trained
    out = tmp_path / "retrieval.png"
    load_example("feature_retrieval").main(model_args(root, checkpoint) + ["--queries", "0", "5", "--limit", "60",
                                                                           "--batch-size", "25", "--out", str(out)])
    assert is_png(out)
    assert "of the neighbours share the query's label" in capsys.readouterr().out


def test_training_curves_plot_the_checkpoint_history(trained, tmp_path, capsys):
    _, checkpoint = trained
    out = tmp_path / "curves.png"
    load_example("training_curves").main(["--checkpoint", str(checkpoint), "--out", str(out)])
    assert is_png(out) and "(2 epochs)" in capsys.readouterr().out


def test_a_checkpoint_of_another_model_gets_a_clear_error(trained):
    root, checkpoint = trained
    with pytest.raises(ValueError, match="does not fit lenet"):
        load_example("feature_maps").main(["--checkpoint", str(checkpoint), "--model", "lenet",
                                           "--data-dir", str(root), "--no-verify"])
