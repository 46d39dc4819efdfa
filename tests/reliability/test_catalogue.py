"""The bad-input catalogue: every entry raises a clear exception of the right type,
and its message names what was expected and what came (or, for files, the path and the fix).

One test (or one parametrized test) per catalogue entry, numbered as the sections below.
"""
import gzip
import os
import re
import struct
import subprocess
import sys

import numpy as np
import pytest

import minicnn as mc
from minicnn import backend, functional as F, nn, optim
from minicnn.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from minicnn.data import FashionMNIST
from minicnn.data.download import ChecksumError
from minicnn.data.idx import read_idx, write_idx
from tests.reliability.conftest import FakeCupyArray

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def zeros(*shape, dtype=np.float32):
    return mc.Tensor(np.zeros(shape, dtype=dtype))


def layer(name, *args, **kwargs):
    return getattr(nn, name)(*args, **kwargs)


# --- 1. wrong input rank / shape / channel count ---------------------------------------------

@pytest.mark.parametrize("make, shape, message", [
    (lambda: layer("Conv2d", 96, 256, 5), (64, 3, 224, 224),
     r"Conv2d\(96->256\): expected input \(N, 96, H, W\), got \(64, 3, 224, 224\)"),
    (lambda: layer("Conv2d", 3, 8, 3), (3, 32, 32), r"Conv2d\(3->8\): expected input \(N, 3, H, W\), got \(3, 32, 32\)"),
    (lambda: nn.Linear(6400, 4096), (64, 1024), r"Linear\(6400->4096\): expected input \(\.\.\., 6400\), got \(64, 1024\)"),
    (lambda: nn.Linear(4, 2), (), r"Linear\(4->2\): expected input \(\.\.\., 4\), got \(\)"),
    (lambda: nn.BatchNorm2d(64), (8, 32, 5, 5), r"BatchNorm2d\(64\): expected input \(N, 64, H, W\), got \(8, 32, 5, 5\)"),
    (lambda: nn.BatchNorm2d(64), (8, 64), r"BatchNorm2d\(64\): expected input \(N, 64, H, W\), got \(8, 64\)"),
    (lambda: nn.BatchNorm1d(10), (8, 10, 2, 2), r"BatchNorm1d\(10\): expected input \(N, 10\) or \(N, 10, L\), got \(8, 10, 2, 2\)"),
    (lambda: layer("MaxPool2d", 3, 2), (3, 8, 8), r"MaxPool2d: expected .*\(N, C, H, W\), got .*\(3, 8, 8\)"),
    (lambda: layer("AvgPool2d", 2), (8, 8), r"AvgPool2d: expected .*\(N, C, H, W\), got .*\(8, 8\)"),
    (lambda: layer("AdaptiveAvgPool2d", 1), (2, 3, 4, 4, 1), r"AdaptiveAvgPool2d: expected .*\(N, C, H, W\), got .*\(2, 3, 4, 4, 1\)"),
    (lambda: nn.LocalResponseNorm(5), (8, 9), r"LocalResponseNorm\(5\): expected input \(N, C, \.\.\.\).*got \(8, 9\)"),
], ids=["conv-channels", "conv-rank", "linear-features", "linear-0d", "bn2d-channels", "bn2d-rank",
        "bn1d-rank", "maxpool-rank", "avgpool-rank", "adaptive-rank", "lrn-rank"])
def test_wrong_input_rank_shape_or_channels_names_the_layer_expected_and_got(make, shape, message):
    module = make()
    with pytest.raises(ValueError, match=message):
        module(zeros(*shape))


def test_functional_ops_name_the_op_and_both_shapes():
    with pytest.raises(ValueError, match=r"linear: expected input \(\.\.\., 4\) for weight \(out, in\) = \(2, 4\), got \(3, 5\)"):
        F.linear(zeros(3, 5), zeros(2, 4))
    with pytest.raises(ValueError, match=r"conv2d: expected input \(N, 6, H, W\), got \(1, 5, 8, 8\)"):
        F.conv2d(zeros(1, 5, 8, 8), zeros(8, 6, 3, 3))
    with pytest.raises(ValueError, match=r"batch_norm: expected weight of shape \(4,\) for input \(2, 4, 3\), got \(3,\)"):
        F.batch_norm(zeros(2, 4, 3), None, None, weight=zeros(3), training=True)


# --- 2. kernel larger than the padded input ------------------------------------------------

@pytest.mark.parametrize("make", [lambda: layer("Conv2d", 3, 8, 7), lambda: layer("MaxPool2d", 7),
                                  lambda: layer("AvgPool2d", 7, padding=1)], ids=["conv", "maxpool", "avgpool"])
def test_kernel_larger_than_the_padded_input_names_kernel_and_padded_size(make):
    with pytest.raises(ValueError, match=r"kernel \(7, 7\).*larger than the padded input \((4|6), \1\)") as info:
        make()(zeros(1, 3, 4, 4))
    assert "(4, 4)" in str(info.value)   # the input size itself is named as well


# --- 3. stride or kernel <= 0 ------------------------------------------------------------

@pytest.mark.parametrize("bad", [0, -1])
@pytest.mark.parametrize("make, what", [
    (lambda v: layer("Conv2d", 3, 8, v), "kernel_size"),
    (lambda v: layer("Conv2d", 3, 8, 3, stride=v), "stride"),
    (lambda v: layer("MaxPool2d", v), "kernel_size"),
    (lambda v: layer("MaxPool2d", 2, stride=v), "stride"),
    (lambda v: layer("AvgPool2d", v), "kernel_size"),
    (lambda v: layer("AvgPool2d", 2, stride=v), "stride"),
], ids=["conv-kernel", "conv-stride", "maxpool-kernel", "maxpool-stride", "avgpool-kernel", "avgpool-stride"])
def test_non_positive_stride_or_kernel_is_a_value_error_naming_the_argument_and_value(make, what, bad):
    with pytest.raises(ValueError, match=rf"{what} must be positive, got \({bad}, {bad}\)"):
        make(bad)(zeros(1, 3, 8, 8))


def test_functional_conv_and_pool_refuse_non_positive_stride_too():
    with pytest.raises(ValueError, match=r"conv2d: stride must be positive, got \(0, 0\)"):
        F.conv2d(zeros(1, 3, 8, 8), zeros(4, 3, 3, 3), stride=0)
    with pytest.raises(ValueError, match=r"max_pool2d: stride must be positive, got \(0, 0\)"):
        F.max_pool2d(zeros(1, 3, 8, 8), 2, 0)


# --- 4. negative padding -----------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda: layer("Conv2d", 3, 8, 3, padding=-1), lambda: layer("MaxPool2d", 3, 2, padding=-1),
                                  lambda: layer("AvgPool2d", 3, 2, padding=-1)], ids=["conv", "maxpool", "avgpool"])
def test_negative_padding_is_a_value_error_naming_the_value(make):
    with pytest.raises(ValueError, match=r"padding must be non-negative, got \(-1, -1\)"):
        make()(zeros(1, 3, 8, 8))


def test_pool_padding_over_half_the_kernel_names_both():
    with pytest.raises(ValueError, match=r"padding must be at most half the kernel size, got padding \(2, 2\) "
                                         r"for kernel \(3, 3\)"):
        layer("MaxPool2d", 3, 2, padding=2)(zeros(1, 3, 8, 8))


# --- 5. groups not dividing the channels -------------------------------------------------------

def test_groups_not_dividing_the_channels_names_groups_and_channels():
    with pytest.raises(ValueError, match=r"Conv2d\(6->8\): groups=4 must divide in_channels=6 and out_channels=8"):
        layer("Conv2d", 6, 8, 3, groups=4)
    with pytest.raises(ValueError, match=r"conv2d: groups=4 must divide out_channels=6"):
        F.conv2d(zeros(1, 8, 5, 5), zeros(6, 2, 3, 3), groups=4)
    with pytest.raises(ValueError, match=r"groups must be a positive int, got 0"):
        layer("Conv2d", 6, 8, 3, groups=0)


# --- 6. float64 / int input where float32 is required ------------------------------------------
# The policy: a layer with parameters takes input of its parameters' dtype and refuses any other
# with a TypeError naming both (no silent float64 promotion, no silent int conversion). Float64
# parameters take float64 input, which keeps float64 gradchecks possible.

def _to_float64(module):
    for p in module.parameters():
        p.data = p.data.astype(np.float64)
    return module


PARAMETRISED = {
    "Linear": (lambda: nn.Linear(4, 2), (3, 4)),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(3), (2, 3, 2, 2)),
    "Conv2d": (lambda: layer("Conv2d", 3, 2, 3), (1, 3, 5, 5)),
}


@pytest.mark.parametrize("dtype", [np.float64, np.int64, np.uint8])
@pytest.mark.parametrize("name", list(PARAMETRISED))
def test_input_of_another_dtype_than_the_parameters_is_a_type_error_naming_both(name, dtype):
    make, shape = PARAMETRISED[name]
    module = make()
    with pytest.raises(TypeError) as info:
        module(zeros(*shape, dtype=dtype))
    message = str(info.value)
    assert name in message and "float32" in message and np.dtype(dtype).name in message


@pytest.mark.parametrize("name", list(PARAMETRISED))
def test_float64_parameters_take_float64_input_so_gradchecks_stay_possible(name):
    make, shape = PARAMETRISED[name]
    module = _to_float64(make())
    x = mc.Tensor(np.random.default_rng(0).standard_normal(shape), requires_grad=True)
    y = module(x)
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float64


@pytest.mark.parametrize("make", [
    lambda: nn.LocalResponseNorm(3),
    lambda: layer("AvgPool2d", 2),
], ids=["lrn", "avgpool"])
def test_layers_without_parameters_refuse_integer_input_naming_the_dtype(make):
    module = make()
    with pytest.raises(TypeError, match=r"expected a floating-point input, got dtype int64"):
        module(zeros(1, 4, 4, 4, dtype=np.int64))
    assert module(zeros(1, 4, 4, 4, dtype=np.float64)).dtype == np.float64   # float64 stays float64


def test_functional_ops_refuse_mixed_dtypes_naming_both():
    with pytest.raises(TypeError, match=r"linear: expected input dtype float32 \(the weight's\), got float64"):
        F.linear(zeros(2, 3, dtype=np.float64), zeros(4, 3))
    with pytest.raises(TypeError, match=r"batch_norm: expected input dtype float32 \(the weight's\), got float64"):
        F.batch_norm(zeros(4, 3, dtype=np.float64), None, None, weight=zeros(3), training=True)
    with pytest.raises(TypeError, match=r"batch_norm: expected a floating-point input, got dtype int64"):
        F.batch_norm(zeros(4, 3, dtype=np.int64), None, None, training=True)
    with pytest.raises(TypeError, match=r"conv2d: input dtype float64 must equal weight dtype float32"):
        F.conv2d(zeros(1, 3, 5, 5, dtype=np.float64), zeros(2, 3, 3, 3))


def test_float32_stays_float32_through_every_parametrised_layer():
    for make, shape in PARAMETRISED.values():
        assert make()(zeros(*shape)).dtype == np.float32


# --- 7. labels out of range or of float dtype in cross_entropy -----------------------------------

@pytest.mark.parametrize("target, error, message", [
    (np.array([0, 1, 4]), ValueError, r"cross_entropy: expected class indices in \[0, 3\], got 4"),
    (np.array([0, -1, 2]), ValueError, r"cross_entropy: expected class indices in \[0, 3\], got -1"),
    (np.array([0.0, 1.0, 2.0]), TypeError, r"cross_entropy: expected integer class indices as target, got dtype float64"),
    (np.array([0, 1]), ValueError, r"cross_entropy: expected target \(3,\) for input \(3, 4\), got \(2,\)"),
], ids=["too-big", "negative", "float", "wrong-length"])
def test_bad_labels_in_cross_entropy_name_the_valid_range_or_dtype_and_what_came(target, error, message):
    with pytest.raises(error, match=message):
        F.cross_entropy(zeros(3, 4), target)
    with pytest.raises(error, match=message):
        nn.CrossEntropyLoss()(zeros(3, 4), mc.Tensor(target))


# --- 8. a NumPy array mixed with a CuPy array ----------------------------------------------------

def test_numpy_mixed_with_cupy_in_an_op_is_a_type_error_naming_both_and_the_fix(fake_cupy):
    on_gpu = np.ones((2, 3), np.float32).view(FakeCupyArray)
    with pytest.raises(TypeError, match=r"NumPy array \(shape \(3,\)\) and a CuPy array \(shape \(2, 3\)\).*to_device"):
        mc.Tensor(np.ones(3, np.float32)) + mc.Tensor(on_gpu)
    with pytest.raises(TypeError, match=r"NumPy array \(shape \(.*\)\) and a CuPy array \(shape \(5, 3\)\).*model.to\('cupy'\)"):
        nn.Linear(3, 2)(mc.Tensor(np.ones((5, 3), np.float32).view(FakeCupyArray)))


@pytest.mark.gpu
@pytest.mark.skipif(not mc.cupy_available(), reason="needs CuPy and a GPU")
def test_real_numpy_and_cupy_arrays_do_not_mix():
    import cupy
    with pytest.raises(TypeError, match="NumPy array.*CuPy array"):
        nn.Linear(3, 2)(mc.Tensor(cupy.ones((5, 3), np.float32)))


# --- 9. set_backend("cupy") without CuPy or without a GPU -------------------------------------------

def test_cupy_backend_without_cupy_installed_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(backend, "_cupy", None)
    with pytest.raises(RuntimeError, match=r"backend 'cupy' asked for, but CuPy is not installed.*pip install"):
        mc.set_backend("cupy")
    assert mc.get_backend() == "numpy"


def test_cupy_backend_without_a_gpu_says_so_and_what_to_use(fake_cupy):
    with pytest.raises(RuntimeError, match=r"CuPy finds no usable CUDA GPU.*nvidia-smi.*set_backend\('numpy'\)"):
        mc.set_backend("cupy")
    assert mc.get_backend() == "numpy"


def test_unknown_backend_lists_the_choices():
    with pytest.raises(ValueError, match=r"unknown backend 'tpu'; expected one of \('numpy', 'cupy'\)"):
        mc.set_backend("tpu")


# --- 10. backward() twice through a freed graph --------------------------------------------------

def test_backward_twice_through_a_freed_graph_names_the_op_and_retain_graph():
    x = mc.Tensor(np.ones(3), requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"backward through \w+ a second time.*retain_graph=True"):
        y.backward()


# --- 11. backward() on a non-scalar without grad -----------------------------------------------------

def test_backward_on_a_non_scalar_without_grad_names_the_shape_and_grad():
    x = mc.Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"only for a scalar output; this tensor has shape \(2, 3\): pass grad="):
        (x * 2).backward()
    with pytest.raises(ValueError, match=r"expected grad of shape \(2, 3\), got \(3,\)"):
        (x * 2).backward(np.ones(3))


# --- 12. an optimizer given no parameters or a non-positive lr ----------------------------------------

@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, lr=0.1), lambda p: optim.Adam(p)], ids=["SGD", "Adam"])
def test_an_optimizer_without_parameters_says_the_list_is_empty_and_what_it_expected(make):
    with pytest.raises(ValueError, match=r"^(SGD|Adam): optimizer got an empty parameter list; expected at least one Parameter"):
        make(nn.ReLU().parameters())   # a model without parameters
    with pytest.raises(ValueError, match=r"empty parameter list in a param group; expected at least one Parameter"):
        make([{"params": []}])


@pytest.mark.parametrize("lr", [0, -0.1, float("nan"), float("inf")])
@pytest.mark.parametrize("cls", [optim.SGD, optim.Adam])
def test_a_non_positive_or_non_finite_lr_names_the_optimizer_and_the_value(cls, lr):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: invalid learning rate lr={re.escape(repr(lr))}; expected a number > 0"):
        cls(nn.Linear(2, 2).parameters(), lr=lr)


# --- 13. a truncated, wrong-magic or wrong-size IDX file -----------------------------------------------

def _idx(tmp_path, name="train-labels-idx1-ubyte"):
    path = tmp_path / name
    write_idx(path, np.arange(6, dtype=np.uint8))
    return path


def test_a_truncated_idx_file_names_path_expected_and_actual_size(tmp_path):
    path = _idx(tmp_path)
    path.write_bytes(path.read_bytes()[:-2])
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte: expected 14 bytes for 6 uint8, got 12 "
                                         r"\(truncated: delete it and fetch it again\)"):
        read_idx(path)


def test_a_truncated_gzip_idx_file_names_the_path_and_the_fix(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(struct.pack(">HBBIII", 0, 8, 3, 10, 28, 28) + bytes(7840))[:40])
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte.gz: corrupt or truncated gzip file.*fetch it again"):
        read_idx(path)


def test_a_wrong_magic_names_the_expected_magic_and_the_bytes_found(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(b"PK\x03\x04" + bytes(20))   # a zip, not an IDX file
    with pytest.raises(ValueError, match=r"labels: not an IDX file: expected magic 0x0000 \+ type code in .*0x8.*got 0x504b0304"):
        read_idx(path)


def test_a_wrong_size_idx_file_names_expected_and_actual_size(tmp_path):
    path = _idx(tmp_path)
    path.write_bytes(path.read_bytes() + b"\x00\x00\x00")
    with pytest.raises(ValueError, match=r"expected 14 bytes for 6 uint8, got 17"):
        read_idx(path)


# --- 14. a wrong checksum ---------------------------------------------------------------------

def _write_split(directory, n=4):
    directory.mkdir(parents=True, exist_ok=True)
    write_idx(directory / "train-images-idx3-ubyte.gz", np.zeros((n, 2, 2), np.uint8))
    write_idx(directory / "train-labels-idx1-ubyte.gz", np.zeros(n, np.uint8))


def test_a_wrong_checksum_names_path_both_digests_and_how_to_refetch(isolated_dirs):
    _write_split(isolated_dirs / "mine")
    with pytest.raises(ChecksumError) as info:
        FashionMNIST(root=isolated_dirs / "mine")
    message = str(info.value)
    assert str(isolated_dirs / "mine" / "train-images-idx3-ubyte.gz") in message
    assert re.search(r"SHA256 mismatch: expected c59f468a\w{56}, got [0-9a-f]{64}", message)
    assert "FashionMNIST(download=True)" in message and "verify=False" in message
    assert isinstance(info.value, ValueError)


# --- 15. a missing dataset ---------------------------------------------------------------------

def test_a_missing_dataset_lists_every_place_searched_and_how_to_get_it(isolated_dirs, monkeypatch):
    monkeypatch.setenv("MINICNN_DATA", str(isolated_dirs / "env"))
    with pytest.raises(FileNotFoundError) as info:
        FashionMNIST(train=False)
    message = str(info.value)
    assert "t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz] not found" in message
    searched = message.split("Searched:")[1].split("Get them")[0]
    for place in ["env/fashion-mnist", "env", "cache/fashion-mnist", "system/fashion-mnist"]:
        assert str(isolated_dirs / place) in searched, place
    assert "download=True" in message and "MINICNN_DATA" in message


def test_a_dataset_missing_from_an_explicit_root_names_only_that_root_and_the_missing_files(isolated_dirs, monkeypatch):
    monkeypatch.setenv("MINICNN_DATA", str(isolated_dirs / "env"))
    with pytest.raises(FileNotFoundError) as info:
        FashionMNIST(root=isolated_dirs / "root", train=False)
    message = str(info.value)
    assert (f"FashionMNIST test split: {isolated_dirs / 'root'} lacks t10k-images-idx3-ubyte[.gz] and "
            f"t10k-labels-idx1-ubyte[.gz] (also looked in {isolated_dirs / 'root' / 'fashion-mnist'}") in message
    assert str(isolated_dirs / "env") not in message and "download=True" in message


# --- 16. a truncated or foreign checkpoint -----------------------------------------------------

def test_a_truncated_checkpoint_names_the_path_and_what_to_do(tmp_path):
    path = tmp_path / "last.npz"
    save_checkpoint(path, nn.Linear(8, 8), epoch=1)
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(CheckpointError, match=r"last.npz' is truncated or corrupt.*use an earlier checkpoint or retrain"):
        load_checkpoint(path)


def test_a_checkpoint_of_random_bytes_is_a_checkpoint_error(tmp_path):
    path = tmp_path / "noise.npz"
    path.write_bytes(np.random.default_rng(0).bytes(500))
    with pytest.raises(CheckpointError, match="noise.npz"):
        load_checkpoint(path)


def test_a_foreign_npz_names_the_expected_entry_and_the_keys_found(tmp_path):
    path = tmp_path / "weights.npz"
    np.savez(path, conv1=np.zeros(3), fc=np.zeros(2))
    with pytest.raises(CheckpointError, match=r"weights.npz' is not a minicnn checkpoint: expected a '__record__' "
                                              r"entry, found keys \['conv1', 'fc'\]"):
        load_checkpoint(path)


def test_a_checkpoint_of_another_model_names_every_mismatch_on_resume(tmp_path):
    from minicnn.data import ArrayDataset, DataLoader
    from minicnn.train import fit
    save_checkpoint(tmp_path / "last.npz", nn.Sequential(nn.Flatten(), nn.Linear(4, 3)), epoch=1, step=0,
                    rng=mc.get_rng_state(), history={})
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 5))
    loader = DataLoader(ArrayDataset(np.zeros((4, 1, 2, 2), np.float32), np.zeros(4, int)), batch_size=2)
    with pytest.raises(ValueError, match=r"1.weight: expected shape \(5, 4\), got \(3, 4\); 1.bias: expected "
                                         r"shape \(5,\), got \(3,\)"):
        fit(model, optim.SGD(model.parameters(), lr=0.1), loader, epochs=2, out_dir=tmp_path, resume=True,
            progress=False, log=lambda s: None, plot=False)


# --- 17. load_state_dict with missing/unexpected keys or shape mismatches --------------------------

def test_load_state_dict_lists_every_missing_unexpected_and_mismatched_key_in_one_message():
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Linear(3, 2))
    state = {k: np.asarray(v) for k, v in model.state_dict().items()}
    state["0.weight"] = np.zeros((3, 5), np.float32)       # shape mismatch
    del state["2.bias"], state["1.running_var"]             # missing
    state["3.weight"] = np.zeros(2, np.float32)             # unexpected
    with pytest.raises(ValueError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    assert "0.weight: expected shape (3, 4), got (3, 5)" in message
    assert re.search(r"missing keys: .*1\.running_var.*2\.bias|missing keys: .*2\.bias.*1\.running_var", message)
    assert "unexpected keys: 3.weight" in message
    assert (np.asarray(model.state_dict()["0.weight"]) != 0).any()   # nothing was loaded
    with pytest.raises(ValueError, match=r"0.weight: expected shape \(3, 4\), got \(3, 5\)"):
        model.load_state_dict(state, strict=False)                  # shapes are checked even then


# --- 18. an unknown model name or backend on the command line -----------------------------------------

def _cli(*args):
    from tests.examples._run import example_env
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=example_env(), capture_output=True, text=True,
                          timeout=120)


def _training_examples():
    """The example scripts built on cli.training_parser (the ones with --backend)."""
    folder = os.path.join(ROOT, "examples")
    return sorted(f"examples/{name}" for name in os.listdir(folder)
                  if name.endswith(".py") and "training_parser" in open(os.path.join(folder, name)).read())


EXAMPLES = _training_examples()


@pytest.mark.parametrize("script", EXAMPLES)
def test_an_unknown_backend_on_an_example_command_line_is_an_argparse_error_listing_the_choices(script):
    assert "examples/alexnet_fashionmnist.py" in EXAMPLES
    result = _cli(script, "--backend", "tpu")
    assert result.returncode == 2, result.stderr
    assert "argument --backend: invalid choice: 'tpu' (choose from 'numpy', 'cupy')" in result.stderr


@pytest.mark.parametrize("option, value, choices", [
    ("--dataset", "imagenet", ["fashion-mnist", "mnist", "cifar10"]),
    ("--optimizer", "rmsprop", ["adam", "sgd"]),
])
def test_other_unknown_choices_of_the_shared_parser_list_the_choices(capsys, option, value, choices):
    from minicnn import cli
    parser = cli.training_parser("test", epochs=1, batch_size=2, lr=0.1)
    with pytest.raises(SystemExit) as info:
        parser.parse_args([option, value])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}: invalid choice: '{value}'" in err and all(f"'{c}'" in err for c in choices)


def test_an_unknown_model_name_lists_the_known_models():
    names = list(mc.models.list_models())
    assert {"alexnet", "lenet", "resnet18"} <= set(names)
    with pytest.raises(ValueError) as info:
        mc.models.get_model("alexnat")
    assert "unknown model 'alexnat'" in str(info.value) and all(name in str(info.value) for name in names)


@pytest.mark.parametrize("command", [["-m", "minicnn", "summary", "alexnat"],
                                     ["examples/train.py", "--model", "alexnat"]], ids=["summary", "train"])
def test_an_unknown_model_on_the_command_line_is_an_argparse_error_listing_the_choices(command):
    result = _cli(*command)
    assert result.returncode == 2, result.stderr
    assert "invalid choice: 'alexnat'" in result.stderr
    for name in mc.models.list_models():
        assert f"'{name}'" in result.stderr
