"""minicnn.monitor: LayerStats (gradient and weight statistics, dead ReLUs) and the
TensorBoard logger, driven through the trainer's callback methods and read back."""
import glob
import json
import math
import os
import struct

import numpy as np
import pytest

import minicnn as mc
from minicnn import functional as F, nn
from minicnn.monitor import LayerStats, TensorBoardLogger


def net(dead_second_relu=False):
    """Conv -> ReLU -> Flatten -> Linear -> ReLU -> Linear; a -100 bias can kill the second ReLU."""
    mc.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 5), nn.ReLU(),
                          nn.Linear(5, 2))
    if dead_second_relu:
        model[3].bias.data[:] = -100.0
    return model


def step(model, x, y):
    """One forward/backward with the gradients left in place, as at on_step_end."""
    model.zero_grad()
    loss = F.cross_entropy(model(mc.Tensor(x)), y)
    loss.backward()
    return loss.item()


def batches(rng, n=3):
    return [(rng.normal(size=(4, 1, 6, 6)).astype(np.float32), rng.integers(0, 2, 4)) for _ in range(n)]


def test_layer_stats_are_the_means_over_the_epochs_steps(rng):
    model, stats, history = net(), LayerStats(), {}
    stats.on_fit_start(model)
    mean_abs, ratio = [], []
    for i, (x, y) in enumerate(batches(rng), start=1):
        value = step(model, x, y)
        g, w = model[0].weight.grad.data, model[0].weight.data
        mean_abs.append(np.abs(g).mean())
        ratio.append(np.linalg.norm(g) / np.linalg.norm(w))
        stats.on_step_end(model, i, value)
    stats.on_epoch_end(model, 0, history)
    (entry,) = history["layer_stats"]
    row = entry["params"]["0.weight"]
    assert entry["steps"] == 3 and row["shape"] == [3, 1, 3, 3] and min(mean_abs) > 0
    np.testing.assert_allclose(row["grad_mean_abs"], np.mean(mean_abs), rtol=1e-6)
    np.testing.assert_allclose(row["grad_to_weight"], np.mean(ratio), rtol=1e-6)
    np.testing.assert_allclose(row["weight_mean_abs"], np.abs(model[0].weight.data).mean(), rtol=1e-6)
    np.testing.assert_allclose(row["weight_std"], model[0].weight.data.std(), rtol=1e-6)
    json.dumps(history)                                      # history.json can keep it


def test_behind_a_dead_relu_no_gradient_flows(rng):
    model, stats, history = net(dead_second_relu=True), LayerStats(), {}
    stats.on_fit_start(model)
    stats.on_step_end(model, 1, step(model, *batches(rng, 1)[0]))
    stats.on_epoch_end(model, 0, history)
    params = history["layer_stats"][0]["params"]
    assert params["5.weight"]["grad_mean_abs"] == 0.0 and params["5.bias"]["grad_mean_abs"] > 0
    assert all(params[name]["grad_mean_abs"] == 0.0 for name in ("0.weight", "0.bias", "3.weight", "3.bias"))


def test_dead_relu_fraction_counts_units_that_never_fired_in_training(rng):
    model, stats, history = net(dead_second_relu=True), LayerStats(), {}
    stats.on_fit_start(model)
    model[0].bias.data[:] = [-100.0, 0.0, 0.0]               # channel 0 of the conv can never fire
    for i, (x, y) in enumerate(batches(rng), start=1):
        stats.on_step_end(model, i, step(model, x, y))
    model.eval()
    with mc.no_grad():                                       # evaluation batches do not count
        model(mc.Tensor(rng.normal(size=(2, 1, 6, 6)).astype(np.float32) + 1000))
    model.train()
    stats.on_epoch_end(model, 0, history)
    assert history["layer_stats"][0]["dead_relu"] == {"1": pytest.approx(1 / 3), "4": 1.0}
    # the next epoch starts counting afresh
    model[3].bias.data[:] = 100.0
    stats.on_step_end(model, 1, step(model, *batches(rng, 1)[0]))
    stats.on_epoch_end(model, 1, history)
    assert history["layer_stats"][1]["dead_relu"]["4"] == 0.0 and history["layer_stats"][1]["steps"] == 1


def test_every_n_looks_at_every_nth_step_and_remove_drops_the_hooks(rng):
    model, stats, history = net(), LayerStats(every=2), {}
    stats.on_fit_start(model)
    for i, (x, y) in enumerate(batches(rng, 5), start=1):
        stats.on_step_end(model, i, step(model, x, y))
    stats.on_epoch_end(model, 0, history)
    assert history["layer_stats"][0]["steps"] == 3           # steps 1, 3, 5
    stats.remove()
    assert all(not m._forward_hooks for m in model.modules())
    with pytest.raises(ValueError, match="positive int"):
        LayerStats(every=0)


def test_every_epoch_gets_gradient_statistics_even_when_shorter_than_every(rng):
    model, stats, history = net(), LayerStats(every=10), {}
    stats.on_fit_start(model)
    for epoch in range(3):                                   # 2 steps an epoch, a look every 10th
        for i, (x, y) in enumerate(batches(rng, 2), start=1):
            stats.on_step_end(model, i, step(model, x, y))
        stats.on_epoch_end(model, epoch, history)
    assert [entry["steps"] for entry in history["layer_stats"]] == [1, 1, 1]
    assert all("grad_mean_abs" in entry["params"]["0.weight"] for entry in history["layer_stats"])
    for i, (x, y) in enumerate(batches(rng, 3), start=4):    # an epoch resumed at its step 4
        stats.on_step_end(model, i, step(model, x, y))
    stats.on_epoch_end(model, 3, history)
    assert history["layer_stats"][-1]["steps"] == 1 and "grad_mean_abs" in history["layer_stats"][-1]["params"]["0.weight"]


# --- TensorBoard ------------------------------------------------------------------------------

def read_events(log_dir):
    """Every Event in the TFRecord files of ``log_dir``, each record's CRCs checked."""
    event_pb2 = pytest.importorskip("tensorboardX.proto.event_pb2")
    from tensorboardX.crc32c import crc32c

    def masked(data):
        crc = crc32c(data)
        return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF

    events = []
    for path in sorted(glob.glob(os.path.join(log_dir, "events.out.tfevents.*"))):
        with open(path, "rb") as f:
            blob = f.read()
        offset = 0
        while offset < len(blob):
            header = blob[offset:offset + 8]
            (length,) = struct.unpack("<Q", header)
            (header_crc,) = struct.unpack("<I", blob[offset + 8:offset + 12])
            data = blob[offset + 12:offset + 12 + length]
            (data_crc,) = struct.unpack("<I", blob[offset + 12 + length:offset + 16 + length])
            assert header_crc == masked(header) and data_crc == masked(data), f"corrupt record in {path}"
            events.append(event_pb2.Event.FromString(data))
            offset += 16 + length
    return events


def test_tensorboard_event_file_holds_scalars_histograms_and_filters(tmp_path, rng):
    pytest.importorskip("tensorboardX")
    model, stats = net(dead_second_relu=True), LayerStats()
    history = {"train_loss": [], "train_acc": [], "test_acc": [], "lr": []}
    with TensorBoardLogger(tmp_path / "tb") as logger:
        for callback in (stats, logger):
            callback.on_fit_start(model)
        losses = []
        for epoch in range(2):
            for i, (x, y) in enumerate(batches(rng, 2), start=1):
                losses.append(step(model, x, y))
                for callback in (stats, logger):
                    callback.on_step_end(model, i, losses[-1])
            history["train_loss"].append(float(np.mean(losses[-2:])))
            history["train_acc"].append(0.5 + epoch / 10)
            history["test_acc"].append(0.4 + epoch / 10)
            history["lr"].append(0.1)
            for callback in (stats, logger):
                callback.on_epoch_end(model, epoch, history)
    values = {}
    for event in read_events(tmp_path / "tb"):
        for value in event.summary.value:
            values.setdefault(value.tag, []).append((event.step, value))
    step_loss = values["train/step_loss"]
    assert [s for s, _ in step_loss] == [1, 2, 3, 4]
    np.testing.assert_allclose([v.simple_value for _, v in step_loss], losses, rtol=1e-6)
    assert [(s, round(v.simple_value, 5)) for s, v in values["epoch/test_acc"]] == [(1, 0.4), (2, 0.5)]
    assert "epoch/test_loss" not in values                       # an empty history list is skipped
    grad = values["grad_mean_abs/0.weight"][-1][1].simple_value
    assert grad == pytest.approx(history["layer_stats"][-1]["params"]["0.weight"]["grad_mean_abs"], rel=1e-6)
    assert values["dead_relu/4"][-1][1].simple_value == 1.0
    histogram = values["weights/0.weight"][-1][1].histo
    assert histogram.num == 27 and histogram.min == pytest.approx(float(model[0].weight.data.min()), rel=1e-6)
    assert values["grads/0.weight"][-1][1].histo.num == 27
    image = values["filters/first_conv"][-1][1].image
    import io
    from matplotlib.image import imread
    pixels = imread(io.BytesIO(image.encoded_image_string), format="png")      # the PNG decoded, in [0, 1]
    mosaic = mc.viz.filter_mosaic(model[0].weight)                              # 3 grey 3x3 kernels, 2x2 grid
    assert (image.height, image.width) == mosaic.shape == (9, 9)
    np.testing.assert_allclose(pixels[..., 0], mosaic, atol=1 / 255 + 1e-6)


def test_tensorboard_logger_checks_its_arguments(tmp_path):
    pytest.importorskip("tensorboardX")
    with pytest.raises(ValueError, match="histograms_every"):
        TensorBoardLogger(tmp_path, histograms_every=0)


def test_tensorboard_logger_without_tensorboardx_names_the_extra(tmp_path, monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    with pytest.raises(ImportError, match=r"minicnn\[tensorboard\]"):
        TensorBoardLogger(tmp_path)


def test_layer_stats_and_tensorboard_through_fit_reach_history_json(tmp_path, rng):
    from minicnn import data, optim
    from minicnn.train import fit
    images = rng.integers(0, 255, size=(24, 6, 6)).astype(np.uint8)
    labels = (images[:, :3].mean(axis=(1, 2)) > images[:, 3:].mean(axis=(1, 2))).astype(int)
    loader = data.DataLoader(data.ArrayDataset(images, labels), batch_size=8, shuffle=True, seed=0)
    model = net()
    callbacks = [LayerStats()]
    has_tensorboard = True
    try:
        callbacks.append(TensorBoardLogger(tmp_path / "tb"))
    except ImportError:
        has_tensorboard = False
    history = fit(model, optim.SGD(model.parameters(), lr=0.1), loader, epochs=2, out_dir=str(tmp_path / "run"),
                  progress=False, log=lambda *a: None, plot=False, callbacks=callbacks)
    with open(tmp_path / "run" / "history.json") as f:
        saved = json.load(f)
    assert [entry["steps"] for entry in saved["layer_stats"]] == [3, 3]
    assert saved["layer_stats"] == history["layer_stats"] and len(saved["step_loss"]) == 6
    if has_tensorboard:
        callbacks[1].close()
        steps = [e.step for e in read_events(tmp_path / "tb") for v in e.summary.value if v.tag == "train/step_loss"]
        assert steps == [1, 2, 3, 4, 5, 6]


# --- the examples' command line ---------------------------------------------------------------

def test_an_example_run_keeps_layer_stats_draws_gradient_flow_and_logs_to_tensorboard(tmp_path):
    pytest.importorskip("tensorboardX")
    from tests.reliability.test_command_line import MNIST_CNN, base, run_main, tiny_mnist
    data = tiny_mnist(str(tmp_path / "mnist"))
    code, out, err = run_main(MNIST_CNN, base(data, tmp_path / "run") + ["--tensorboard", str(tmp_path / "tb")])
    assert code == 0, err
    with open(tmp_path / "run" / "history.json") as f:
        (entry,) = json.load(f)["layer_stats"]
    assert entry["steps"] == 1 and entry["params"]["conv1.0.weight"]["grad_mean_abs"] > 0     # steps 1, 11, ...
    with open(tmp_path / "run" / "gradient_flow.png", "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    tags = {v.tag for e in read_events(tmp_path / "tb") for v in e.summary.value}
    assert {"train/step_loss", "epoch/test_acc", "weights/conv1.0.weight", "filters/first_conv"} <= tags


def test_tensorboard_flag_without_tensorboardx_is_a_usage_error(tmp_path, monkeypatch, capsys):
    import importlib.util
    from minicnn import cli
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tensorboardX" else real(name, *a))
    parser = cli.training_parser("test", epochs=1, batch_size=8, lr=0.1)
    with pytest.raises(SystemExit) as stop:
        cli.parse(parser, ["--tensorboard", str(tmp_path)])
    assert stop.value.code == 2 and "pip install 'minicnn[tensorboard]'" in capsys.readouterr().err
