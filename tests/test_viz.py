"""minicnn.viz: training curves, filter mosaics, captured activations, feature-space retrieval, deconvnet
projections and the PNG files they write."""
import os

import numpy as np
import pytest

import minicnn as mc
from minicnn import nn, viz
from minicnn.viz.deconv import DeconvReLU


def is_png(path):
    with open(path, "rb") as f:
        return f.read(8) == b"\x89PNG\r\n\x1a\n"


# --- filters ---------------------------------------------------------------------------------

def test_filter_mosaic_scales_each_rgb_kernel_to_0_1_on_its_own(rng):
    weight = rng.normal(size=(6, 3, 5, 4)) * np.arange(1, 7)[:, None, None, None]   # very different scales
    mosaic = viz.filter_mosaic(weight, ncols=3, pad=1)
    assert mosaic.shape == (2 * 6 + 1, 3 * 5 + 1, 3)
    for index in range(6):
        r, c = divmod(index, 3)
        tile = mosaic[1 + 6 * r:6 + 6 * r, 1 + 5 * c:5 + 5 * c]
        w = weight[index]
        expected = ((w - w.min()) / (w.max() - w.min())).transpose(1, 2, 0)
        np.testing.assert_allclose(tile, expected)
    assert (mosaic[0] == 1).all() and (mosaic[:, 0] == 1).all()      # white gaps


def test_filter_mosaic_of_grey_kernels_is_2d_and_leaves_empty_cells_white(rng):
    mosaic = viz.filter_mosaic(mc.Tensor(rng.normal(size=(5, 1, 3, 3))))     # Tensors are accepted
    assert mosaic.shape == (2 * 4 + 1, 3 * 4 + 1)                         # ceil(sqrt(5)) = 3 columns
    assert mosaic.min() == 0 and (mosaic[5:8, 9:12] == 1).all()          # 6th cell unused


def test_filter_mosaic_needs_a_channel_choice_beyond_grey_and_rgb(rng):
    weight = rng.normal(size=(4, 16, 3, 3))
    with pytest.raises(ValueError, match="1 or 3 input channels.*channel=i"):
        viz.filter_mosaic(weight)
    assert viz.filter_mosaic(weight, channel=2).ndim == 2
    with pytest.raises(ValueError, match="channel 16 out of range"):
        viz.filter_mosaic(weight, channel=16)
    with pytest.raises(ValueError, match=r"expected conv weight \(out, in, kh, kw\)"):
        viz.filter_mosaic(rng.normal(size=(4, 9)))


def test_filter_grid_writes_a_png_others_can_read(tmp_path, rng):
    path = viz.filter_grid(rng.normal(size=(96, 3, 11, 11)).astype(np.float32), tmp_path / "sub" / "f.png",
                           title="conv1")
    assert is_png(path)
    assert os.stat(path).st_mode & 0o044 == 0o044


def test_plot_history_draws_the_trainer_history(tmp_path):
    history = {"train_loss": [0.9, 0.5], "train_acc": [0.7, 0.85], "test_loss": [0.6, 0.45], "test_acc": [0.8, 0.86]}
    assert is_png(viz.plot_history(history, tmp_path / "curves.png"))


# --- activations through hooks --------------------------------------------------------------

def small_cnn():
    mc.manual_seed(3)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 6, 3), nn.ReLU(), nn.Flatten(), nn.Linear(6 * 2 * 2, 5),
                         nn.ReLU(), nn.Linear(5, 3))


def test_capture_activations_returns_each_conv_output_and_removes_its_hooks(rng):
    model = small_cnn().train()
    x = rng.normal(size=(1, 8, 8)).astype(np.float32)
    maps = viz.capture_activations(model, x)
    assert list(maps) == ["0", "3"]
    assert maps["0"].shape == (1, 4, 8, 8) and maps["3"].shape == (1, 6, 2, 2)
    with mc.no_grad():
        expected = model[0](mc.Tensor(x[None])).data
    np.testing.assert_allclose(maps["0"], expected, rtol=1e-6)
    assert model.training                                   # mode restored
    assert all(not m._forward_hooks for m in model.modules())


def test_feature_maps_writes_a_png_and_needs_conv_layers(tmp_path, rng):
    x = rng.normal(size=(1, 8, 8))
    assert is_png(viz.feature_maps(small_cnn(), x, tmp_path / "maps.png", max_maps=4))
    with pytest.raises(ValueError, match="no module of Sequential was selected"):
        viz.feature_maps(nn.Sequential(nn.Flatten(), nn.Linear(64, 2)), x, tmp_path / "none.png")


# --- retrieval --------------------------------------------------------------------------------

def test_penultimate_features_are_the_input_of_the_last_linear_layer(rng):
    model = small_cnn()
    images = rng.normal(size=(7, 1, 8, 8)).astype(np.float32)
    features = viz.penultimate_features(model, images, batch_size=3)      # 3 batches
    with mc.no_grad():
        hidden = model[7](model[6](model[5](model[4](model[3](model[2](model[1](model[0](mc.Tensor(images))))))))).data
    assert features.shape == (7, 5)
    np.testing.assert_allclose(features, hidden, rtol=1e-5, atol=1e-6)
    assert all(not m._forward_hooks for m in model.modules())


def test_nearest_neighbours_match_brute_force_euclidean_distances(rng):
    train, query = rng.normal(size=(40, 6)), rng.normal(size=(4, 6))
    query[2] = train[17]                                    # an exact match comes first at distance 0
    indices, distances = viz.nearest_neighbours(query, train, k=5)
    full = np.linalg.norm(query[:, None] - train[None], axis=2)
    np.testing.assert_array_equal(indices, np.argsort(full, axis=1)[:, :5])
    np.testing.assert_allclose(distances, np.sort(full, axis=1)[:, :5], atol=1e-7)
    assert indices[2, 0] == 17 and distances[2, 0] == pytest.approx(0, abs=1e-6)
    assert (np.diff(distances, axis=1) >= 0).all()


def test_nearest_neighbours_reject_mismatched_features_and_bad_k(rng):
    with pytest.raises(ValueError, match=r"expected \(Q, D\) and \(M, D\) features, got \(2, 3\) and \(5, 4\)"):
        viz.nearest_neighbours(rng.normal(size=(2, 3)), rng.normal(size=(5, 4)))
    with pytest.raises(ValueError, match="1 <= k <= 5"):
        viz.nearest_neighbours(rng.normal(size=(2, 3)), rng.normal(size=(5, 3)), k=6)


def test_retrieval_grid_writes_a_png(tmp_path, rng):
    images = rng.uniform(size=(10, 1, 8, 8))
    indices, _ = viz.nearest_neighbours(images[:2].reshape(2, -1), images.reshape(10, -1), k=3)
    path = viz.retrieval_grid(images[:2], images, indices, tmp_path / "r.png", query_labels=[0, 1],
                              train_labels=list(range(10)), class_names=[f"c{i}" for i in range(10)])
    assert is_png(path)


# --- deconvnet ----------------------------------------------------------------------------------

def test_deconv_projection_of_a_first_layer_unit_is_its_kernel_at_its_receptive_field(rng):
    mc.manual_seed(5)
    model = nn.Sequential(nn.Conv2d(2, 3, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 16, 2))
    x = rng.normal(size=(2, 8, 8)).astype(np.float32)
    projection, channel = viz.deconv_projection(model, x, "0", channel=1)
    maps = viz.capture_activations(model, x)["0"][0, 1]
    i, j = np.unravel_index(maps.argmax(), maps.shape)
    expected = np.zeros((2, 10, 10))                       # padded canvas, cropped below
    expected[:, 2 * i:2 * i + 3, 2 * j:2 * j + 3] = maps[i, j] * mc.to_numpy(model[0].weight.data)[1]
    assert channel == 1
    np.testing.assert_allclose(projection, expected[:, 1:9, 1:9], rtol=1e-5, atol=1e-6)
    assert all(p.requires_grad for p in model.parameters()) and all(p.grad is None for p in model.parameters())


def test_deconv_relu_rectifies_the_signal_going_down_instead_of_masking_it():
    x = mc.Tensor(np.array([-1.0, 2.0, -3.0, 4.0]), requires_grad=True)
    y = DeconvReLU()(x)
    y.backward(np.array([5.0, -6.0, -7.0, 8.0]))
    np.testing.assert_array_equal(y.data, [0, 2, 0, 4])
    np.testing.assert_array_equal(x.grad.data, [5, 0, 0, 8])   # backprop would give [0, -6, 0, 8]


def test_deconv_projection_picks_the_most_active_channel_and_names_unknown_layers(tmp_path, rng):
    model = small_cnn()
    x = rng.normal(size=(1, 8, 8)).astype(np.float32)
    maps = viz.capture_activations(model, x)["3"][0]
    _, channel = viz.deconv_projection(model, x, "3")
    assert channel == int(maps.reshape(6, -1).max(axis=1).argmax())
    with pytest.raises(ValueError, match="no module named 'conv9'"):
        viz.deconv_projection(model, x, "conv9")
    assert is_png(viz.deconv_figure(model, x, tmp_path / "d.png", top=2))


def test_images_follow_the_dtype_of_a_float64_model(rng):
    model = small_cnn()
    for p in model.parameters():
        p.data = p.data.astype(np.float64)
    x = rng.normal(size=(1, 8, 8)).astype(np.float32)
    assert viz.capture_activations(model, x)["0"].dtype == np.float64
    assert viz.penultimate_features(model, x[None]).shape == (1, 5)
    projection, _ = viz.deconv_projection(model, x, "0")
    assert projection.dtype == np.float64
