"""Batch transforms: shapes, hand-checked values, torch parity for Resize, PCA noise statistics."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minicnn as mc
from minicnn.data import transforms as T
from tests.helpers import try_import_torch


def batch(xp, rng, n=2, c=1, h=4, w=5, dtype=np.float32):
    return xp.asarray(rng.normal(size=(n, c, h, w)).astype(dtype))


@pytest.mark.parametrize("in_hw, out", [((28, 28), 224), ((28, 28), (56, 40)), ((7, 9), (3, 4)), ((5, 6), (5, 6)),
                                        ((1, 4), (3, 2)), ((13, 11), 10)])
def test_resize_matches_torch_interpolate_bilinear(in_hw, out, rng):
    torch = try_import_torch() or pytest.skip("torch not installed")
    x = rng.uniform(size=(3, 2, *in_hw)).astype(np.float32)
    resize = T.Resize(out)
    y = resize(x)
    size = resize.output_size(*in_hw)
    ref = torch.nn.functional.interpolate(torch.from_numpy(x), size=size, mode="bilinear", align_corners=False,
                                          antialias=False).numpy()
    assert y.shape == ref.shape and y.dtype == np.float32
    np.testing.assert_allclose(y, ref, atol=1e-5, rtol=0)


def bilinear_reference(x, out_h, out_w):
    """Pixel by pixel, the way the formula reads (PyTorch's align_corners=False source index)."""
    n, c, h, w = x.shape
    y = np.zeros((n, c, out_h, out_w))
    for i in range(out_h):
        sy = max((i + 0.5) * h / out_h - 0.5, 0.0)
        y0 = min(int(sy), h - 1)
        y1, ly = min(y0 + 1, h - 1), sy - y0
        for j in range(out_w):
            sx = max((j + 0.5) * w / out_w - 0.5, 0.0)
            x0 = min(int(sx), w - 1)
            x1, lx = min(x0 + 1, w - 1), sx - x0
            y[:, :, i, j] = ((1 - ly) * ((1 - lx) * x[:, :, y0, x0] + lx * x[:, :, y0, x1])
                             + ly * ((1 - lx) * x[:, :, y1, x0] + lx * x[:, :, y1, x1]))
    return y


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 3), c=st.integers(1, 3), h=st.integers(1, 9), w=st.integers(1, 9),
       out_h=st.integers(1, 12), out_w=st.integers(1, 12), seed=st.integers(0, 2 ** 16))
def test_resize_matmul_form_equals_the_pixel_loop_reference(n, c, h, w, out_h, out_w, seed):
    x = np.random.default_rng(seed).normal(size=(n, c, h, w))
    np.testing.assert_allclose(T.Resize((out_h, out_w))(x), bilinear_reference(x, out_h, out_w), atol=1e-12)


def test_resize_upscale_by_two_hand_values():
    x = np.array([[[[0.0, 4.0]]]], dtype=np.float32)  # one row, two pixels
    y = T.Resize((1, 4))(x)
    # sources -0.25 (clamped to 0), 0.25, 0.75, 1.25 -> 0, 1, 3, 4
    np.testing.assert_allclose(y[0, 0, 0], [0.0, 1.0, 3.0, 4.0])


def test_resize_int_sets_the_smaller_edge_and_keeps_constants(xp):
    x = xp.full((2, 3, 8, 12), 0.5, dtype=xp.float32)
    y = T.Resize(4)(x)
    assert y.shape == (2, 3, 4, 6) and mc.get_array_module(y) is xp
    np.testing.assert_allclose(mc.to_numpy(y), 0.5, rtol=1e-6)


def test_normalize_per_channel(xp, rng):
    x = batch(xp, rng, c=2)
    y = T.Normalize([1.0, -2.0], [2.0, 0.5])(x)
    xn = mc.to_numpy(x)
    np.testing.assert_allclose(mc.to_numpy(y)[:, 0], (xn[:, 0] - 1) / 2, rtol=1e-6)
    np.testing.assert_allclose(mc.to_numpy(y)[:, 1], (xn[:, 1] + 2) / 0.5, rtol=1e-6)
    assert y.dtype == np.float32
    with pytest.raises(ValueError, match="mean has 2 values, the batch has 3 channels"):
        T.Normalize([0, 0], [1, 1])(batch(xp, rng, c=3))


def test_subtract_mean_image_and_channel_means(rng):
    x = batch(np, rng, c=3)
    mean_image = rng.normal(size=(3, 4, 5))
    np.testing.assert_allclose(T.SubtractMean(mean_image)(x), x - mean_image.astype(np.float32), rtol=1e-6)
    np.testing.assert_allclose(T.SubtractMean([1, 2, 3])(x)[:, 2], x[:, 2] - 3, rtol=1e-6)
    assert T.SubtractMean(0.5)(x).dtype == np.float32
    with pytest.raises(ValueError, match=r"mean of shape \(3, 2, 2\) does not fit images \(3, 4, 5\)"):
        T.SubtractMean(np.zeros((3, 2, 2)))(x)


def test_center_crop_takes_the_middle_with_torchvision_rounding(xp):
    x = xp.arange(2 * 1 * 5 * 6, dtype=xp.float32).reshape(2, 1, 5, 6)
    y = T.CenterCrop((2, 3))(x)
    # top = round(1.5) = 2, left = round(1.5) = 2 (round half to even, as torchvision)
    np.testing.assert_array_equal(mc.to_numpy(y), mc.to_numpy(x)[:, :, 2:4, 2:5])
    with pytest.raises(ValueError, match="crop 6x6 is larger than the images 5x6"):
        T.CenterCrop(6)(x)


def test_random_crop_windows_come_from_the_padded_image(xp):
    n = 64
    x = xp.asarray(np.arange(n * 2 * 6 * 6, dtype=np.float32).reshape(n, 2, 6, 6) + 1)
    y = mc.to_numpy(T.RandomCrop(4, padding=2)(x, rng=np.random.default_rng(3)))
    padded = np.pad(mc.to_numpy(x), ((0, 0), (0, 0), (2, 2), (2, 2)))
    offsets = set()
    for i in range(n):
        hits = [(t, l) for t in range(7) for l in range(7) if np.array_equal(padded[i, :, t:t + 4, l:l + 4], y[i])]
        assert hits, f"image {i}: not a 4x4 window of the padded image"
        offsets.add(hits[0])
    assert len(offsets) > 10  # independent offsets per image
    assert (y == 0).any()  # some windows reach into the zero padding


def test_random_crop_is_seeded_by_the_library_rng(rng):
    x = batch(np, rng, n=8, h=8, w=8)
    mc.manual_seed(5)
    a = T.RandomCrop(5)(x)
    mc.manual_seed(5)
    np.testing.assert_array_equal(T.RandomCrop(5)(x), a)


def test_horizontal_flip_mirrors_exactly_the_chosen_images(xp, rng):
    x = batch(xp, rng, n=200)
    y = mc.to_numpy(T.RandomHorizontalFlip(0.5)(x, rng=np.random.default_rng(0)))
    xn = mc.to_numpy(x)
    flipped = np.array([np.array_equal(y[i], xn[i, :, :, ::-1]) for i in range(200)])
    kept = np.array([np.array_equal(y[i], xn[i]) for i in range(200)])
    assert np.all(flipped ^ kept)
    assert 70 < flipped.sum() < 130
    np.testing.assert_array_equal(mc.to_numpy(T.RandomHorizontalFlip(1.0)(x)), xn[..., ::-1])
    np.testing.assert_array_equal(mc.to_numpy(T.RandomHorizontalFlip(0.0)(x)), xn)


def test_ten_crop_order_and_shape(xp):
    x = xp.arange(2 * 1 * 4 * 4, dtype=xp.float32).reshape(2, 1, 4, 4)
    crops = mc.to_numpy(T.TenCrop(2)(x))
    xn = mc.to_numpy(x)
    assert crops.shape == (10, 2, 1, 2, 2)
    expected = [xn[..., :2, :2], xn[..., :2, 2:], xn[..., 2:, :2], xn[..., 2:, 2:], xn[..., 1:3, 1:3]]
    mirrored = xn[..., ::-1]
    expected += [mirrored[..., :2, :2], mirrored[..., :2, 2:], mirrored[..., 2:, :2], mirrored[..., 2:, 2:],
                 mirrored[..., 1:3, 1:3]]
    for got, want in zip(crops, expected):
        np.testing.assert_array_equal(got, want)


def test_average_crops_averages_softmax_probabilities():
    crops = np.stack([np.full((2, 1, 1, 1), v, np.float32) for v in (0.0, 1.0)])

    def predict(t):  # logits [0, v] per image
        return mc.Tensor(np.concatenate([np.zeros((2, 1), np.float32), t.data.reshape(2, 1)], axis=1))
    probs = T.average_crops(predict, crops)
    p1 = 1 / (1 + np.exp(-1.0))
    np.testing.assert_allclose(probs[0], [(0.5 + 1 - p1) / 2, (0.5 + p1) / 2], rtol=1e-6)
    np.testing.assert_allclose(T.average_crops(predict, crops, softmax=False)[0], [0.0, 0.5])


def test_pca_noise_has_the_eigen_covariance_structure(rng):
    # synthetic RGB pixels with a known covariance
    cov = np.array([[1.0, 0.6, 0.2], [0.6, 0.8, 0.1], [0.2, 0.1, 0.3]])
    pixels = rng.multivariate_normal([0.5, 0.4, 0.3], cov, size=(200, 8, 8)).transpose(0, 3, 1, 2)
    eigvals, eigvecs = T.rgb_pca(pixels)
    true_vals, true_vecs = np.linalg.eigh(cov)
    np.testing.assert_allclose(eigvals, true_vals[::-1], rtol=0.05)
    assert np.all(np.diff(eigvals) < 0)
    np.testing.assert_allclose(np.abs(eigvecs.T @ true_vecs[:, ::-1]), np.eye(3), atol=0.05)

    n = 20000
    x = np.zeros((n, 3, 2, 2), np.float32)
    y = T.PCAColorAugmentation(eigvals, eigvecs, std=0.1)(x, rng=np.random.default_rng(1))
    assert y.dtype == np.float32
    shift = y[:, :, 0, 0]
    assert np.allclose(y, shift[:, :, None, None])  # one shift per image, the same at every pixel
    expected = eigvecs @ np.diag((0.1 * eigvals) ** 2) @ eigvecs.T
    np.testing.assert_allclose(np.cov(shift.T), expected, rtol=0.05, atol=1e-4)
    # in the eigenbasis the shift's components are uncorrelated with variance (0.1 lambda_i)^2
    coords = shift @ eigvecs
    np.testing.assert_allclose(coords.std(axis=0), 0.1 * eigvals, rtol=0.03)


def test_compose_passes_rng_to_each_transform(rng):
    x = batch(np, rng, n=6, h=8, w=8)
    pipeline = T.Compose([T.RandomCrop(6, padding=1), T.RandomHorizontalFlip(), lambda b: b * 2])
    a = pipeline(x, rng=np.random.default_rng(7))
    b = pipeline(x, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (6, 1, 6, 6)


@pytest.mark.parametrize("transform", [T.Resize(4), T.Normalize(0, 1), T.CenterCrop(2), T.RandomCrop(2),
                                       T.RandomHorizontalFlip(), T.TenCrop(2)])
def test_non_batch_input_is_rejected_with_the_transform_name(transform):
    with pytest.raises(ValueError, match=rf"{type(transform).__name__}: expected a batch \(N, C, H, W\), "
                                         rf"got shape \(1, 4, 4\)"):
        transform(np.zeros((1, 4, 4), np.float32))
