"""Winograd convolution: the same numbers as im2col conv2d (forward and all gradients), finite-
difference gradchecks in float64 for every tile, and float32 errors inside the stated bounds."""
import numpy as np
import pytest

import minicnn as mc
from minicnn import functional as F
from minicnn.functional.winograd import winograd_conv2d

TILES = [(2, 3), (4, 3), (6, 3), (2, 5), (3, 5)]
# max |float32 Winograd - float64 im2col| / max |float64 result|, for y, dx and dW, measured
# at C=128, O=64, 24x24 (docs/winograd.md); the bounds are about 3x the worst measured value.
FLOAT32_BOUNDS = {"im2col": 3e-6, (2, 3): 3e-6, (4, 3): 4e-5, (6, 3): 5e-5, (2, 5): 6e-5, (3, 5): 6e-5}


@pytest.fixture(autouse=True)
def conv2d_is_im2col(monkeypatch):
    """F.conv2d is the im2col reference here (winograd_conv2d ignores the setting)."""
    monkeypatch.setattr(mc.backends.conv, "algorithm", "im2col")


def _run(conv, x, w, b, gy):
    tensors = [mc.Tensor(a, requires_grad=True) for a in (x, w, b)]
    y = conv(*tensors)
    y.backward(gy.astype(x.dtype))
    return [y.data] + [t.grad.data for t in tensors]


@pytest.mark.parametrize("m, r", TILES)
@pytest.mark.parametrize("padding, groups", [(0, 1), (1, 2), ((2, 0), 1), (4, 1)])
def test_winograd_equals_im2col_forward_and_gradients(impl, m, r, padding, groups):
    rng = np.random.default_rng(m * 100 + r)
    x = rng.standard_normal((2, 4, 9, 11))
    w, b = rng.standard_normal((6, 4 // groups, r, r)), rng.standard_normal(6)
    expected_y = F.conv2d(mc.Tensor(x), mc.Tensor(w), mc.Tensor(b), padding=padding, groups=groups)
    gy = rng.standard_normal(expected_y.shape)
    expected = _run(lambda *t: F.conv2d(*t, padding=padding, groups=groups), x, w, b, gy)
    got = _run(lambda *t: winograd_conv2d(*t, padding=padding, groups=groups, m=m), x, w, b, gy)
    for name, g, e in zip(("y", "dx", "dW", "db"), got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("m, r", TILES)
def test_winograd_gradcheck_float64(m, r):
    rng = np.random.default_rng(7)
    x = mc.Tensor(rng.standard_normal((2, 2, r + 2, r + 1)), requires_grad=True)
    w = mc.Tensor(rng.standard_normal((3, 2, r, r)), requires_grad=True)
    b = mc.Tensor(rng.standard_normal(3), requires_grad=True)
    assert mc.gradcheck(lambda x, w, b: winograd_conv2d(x, w, b, padding=1, m=m), [x, w, b])


def test_winograd_gradcheck_with_groups_and_no_bias():
    rng = np.random.default_rng(8)
    x = mc.Tensor(rng.standard_normal((1, 4, 5, 5)), requires_grad=True)
    w = mc.Tensor(rng.standard_normal((4, 2, 3, 3)), requires_grad=True)
    assert mc.gradcheck(lambda x, w: winograd_conv2d(x, w, padding=1, groups=2, m=2), [x, w])


@pytest.mark.parametrize("algorithm", ["im2col"] + TILES)
def test_float32_error_against_float64_im2col_stays_inside_the_bound(impl, algorithm):
    r = 3 if algorithm == "im2col" else algorithm[1]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 128, 24, 24))
    w, b = rng.standard_normal((64, 128, r, r)) / np.sqrt(128 * r * r), np.zeros(64)
    gy = rng.standard_normal((2, 64, 24, 24))
    expected = _run(lambda *t: F.conv2d(*t, padding=r // 2), x, w, b, gy)
    conv = ((lambda *t: F.conv2d(*t, padding=r // 2)) if algorithm == "im2col"
            else (lambda *t: winograd_conv2d(*t, padding=r // 2, m=algorithm[0])))
    got = _run(conv, *(a.astype(np.float32) for a in (x, w, b)), gy)
    for name, g, e in zip(("y", "dx", "dW"), got, expected):
        error = np.abs(g.astype(np.float64) - e).max() / np.abs(e).max()
        assert error < FLOAT32_BOUNDS[algorithm], f"{algorithm} {name}: relative error {error:.2e}"


def test_chunks_of_the_batch_give_the_same_result(monkeypatch):
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((5, 3, 8, 8)), rng.standard_normal((4, 3, 3, 3))
    gy = rng.standard_normal((5, 4, 8, 8))
    whole = _run(lambda *t: winograd_conv2d(*t, padding=1), x, w, np.zeros(4), gy)
    monkeypatch.setattr(mc.backends.conv, "workspace_bytes", 1)   # one sample per chunk
    chunked = _run(lambda *t: winograd_conv2d(*t, padding=1), x, w, np.zeros(4), gy)
    for g, e in zip(chunked, whole):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)


def test_input_gradient_is_skipped_when_the_input_needs_none():
    rng = np.random.default_rng(4)
    x = mc.Tensor(rng.standard_normal((1, 2, 6, 6)))
    w = mc.Tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
    winograd_conv2d(x, w, padding=1).sum().backward()
    assert x.grad is None and w.grad is not None


def test_non_square_or_untiled_kernels_are_refused_by_name():
    x = mc.Tensor(np.zeros((1, 2, 8, 8)))
    with pytest.raises(ValueError, match="winograd_conv2d: Winograd needs a square"):
        winograd_conv2d(x, mc.Tensor(np.zeros((1, 2, 3, 5))))
    with pytest.raises(ValueError, match="winograd_conv2d: Winograd needs a square"):
        winograd_conv2d(x, mc.Tensor(np.zeros((1, 2, 7, 7))))
    with pytest.raises(ValueError, match="expected input"):
        winograd_conv2d(x, mc.Tensor(np.zeros((1, 3, 3, 3))))


def test_conv2d_runs_winograd_where_the_setting_asks_and_gives_the_same_numbers(monkeypatch):
    rng = np.random.default_rng(9)
    x, w, b = rng.standard_normal((2, 3, 7, 7)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    gy = rng.standard_normal((2, 4, 7, 7))
    expected = _run(lambda *t: F.conv2d(*t, padding=1), x, w, b, gy)
    monkeypatch.setattr(mc.backends.conv, "algorithm", "winograd")
    y = F.conv2d(mc.Tensor(x, requires_grad=True), mc.Tensor(w), padding=1)
    assert type(y.creator).__name__ == "WinogradConv2dFunction"
    strided = F.conv2d(mc.Tensor(x, requires_grad=True), mc.Tensor(w), padding=1, stride=2)
    assert type(strided.creator).__name__ == "Conv2dFunction"           # Winograd needs stride 1
    got = _run(lambda *t: F.conv2d(*t, padding=1), x, w, b, gy)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-10)


def test_conv2d_autotuner_times_both_once_per_shape_and_keeps_the_winner(monkeypatch):
    monkeypatch.setattr(mc.backends.conv, "algorithm", "auto")
    monkeypatch.setattr(mc.backends.conv, "benchmark", True)
    mc.backends.conv.reset()
    x, w = mc.Tensor(np.ones((1, 2, 6, 6))), mc.Tensor(np.ones((2, 2, 3, 3)))
    F.conv2d(x, w, padding=1)
    (key, chosen), = mc.backends.conv.decisions.items()
    assert chosen in ("im2col", "winograd") and mc.backends.conv._tuned[key] == chosen
    F.conv2d(x, w, padding=1)
    assert mc.backends.conv.decisions == {key: chosen}
    mc.backends.conv.reset()
