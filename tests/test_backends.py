"""mc.backends.conv: checked settings, the documented "auto" heuristic, and the autotuner that
times each candidate once per shape and keeps the winner."""
import time

import numpy as np
import pytest

import minicnn as mc
from minicnn.backends import ConvBackend, convolution


@pytest.fixture
def conv():
    return ConvBackend()


def _x(*shape, dtype=np.float32):
    return np.zeros(shape, dtype=dtype)


@pytest.mark.parametrize("name, value, error", [
    ("algorithm", "fft", ValueError), ("benchmark", 1, TypeError), ("winograd_tiles", {3: 0}, ValueError),
    ("winograd_tiles", {3: 11}, ValueError), ("workspace_bytes", 0, ValueError), ("workspace_bytes", True, ValueError)])
def test_bad_settings_are_refused_when_assigned(conv, name, value, error):
    with pytest.raises(error, match=f"mc.backends.conv.{name}"):
        setattr(conv, name, value)


def test_library_exposes_one_settings_object_with_documented_defaults():
    assert isinstance(mc.backends.conv, ConvBackend)
    fresh = ConvBackend()
    assert (fresh.algorithm, fresh.benchmark, fresh.winograd_tiles) == ("auto", False, {3: 4, 5: 2})


@pytest.mark.parametrize("x_shape, w_shape, stride, expected", [
    ((64, 1, 224, 224), (96, 1, 11, 11), (4, 4), "im2col"),      # AlexNet conv1: strided, 11x11
    ((64, 96, 26, 26), (256, 96, 5, 5), (1, 1), "winograd"),     # conv2: F(2x2, 5x5)
    ((100, 16, 14, 14), (32, 16, 5, 5), (1, 1), "im2col"),       # seed CNN conv2: few channels
    ((32, 64, 56, 56), (64, 64, 3, 3), (1, 1), "winograd"),      # ResNet-18 layer1
    ((32, 512, 7, 7), (512, 512, 3, 3), (1, 1), "winograd"),     # ResNet-18 layer4: 2x2 tiles of 4x4
    ((64, 256, 12, 12), (384, 256, 3, 3), (1, 1), "winograd"),   # conv3: F(4x4, 3x3)
    ((16, 3, 224, 224), (64, 3, 3, 3), (1, 1), "im2col"),        # VGG conv1: 3 input channels
    ((64, 64, 2, 2), (64, 64, 3, 3), (1, 1), "im2col"),          # 2x2 outputs: most of a 4x4 tile wasted
    ((1, 256, 12, 12), (384, 256, 3, 3), (1, 1), "im2col"),      # 9 tiles: skinny GEMMs
    ((8, 256, 12, 12), (384, 256, 3, 3), (1, 1), "winograd"),    # 72 tiles
    ((8, 64, 9, 9), (64, 64, 1, 1), (1, 1), "im2col"),           # 1x1 kernel: no tile
])
def test_auto_heuristic_picks_winograd_only_where_it_pays(conv, monkeypatch, x_shape, w_shape, stride, expected):
    monkeypatch.setattr(convolution, "WINOGRAD_BY_DEFAULT", True)
    padding = (w_shape[2] // 2,) * 2 if stride == (1, 1) else (1, 1)
    assert conv.choose(_x(*x_shape), w_shape, stride, padding, (1, 1), 1) == expected


def test_forced_algorithms_and_what_winograd_cannot_do(conv):
    x = _x(2, 32, 12, 12)
    conv.algorithm = "im2col"
    assert conv.choose(x, (32, 32, 3, 3), (1, 1), (1, 1), (1, 1), 1) == "im2col"
    conv.algorithm = "winograd"
    assert conv.choose(_x(2, 1, 12, 12), (2, 1, 3, 3), (1, 1), (1, 1), (1, 1), 1) == "winograd"
    for stride, dilation, dtype in [((2, 2), (1, 1), np.float32), ((1, 1), (2, 2), np.float32), ((1, 1), (1, 1), np.float16)]:
        assert conv.choose(_x(2, 32, 12, 12, dtype=dtype), (32, 32, 3, 3), stride, (1, 1), dilation, 1) == "im2col"


def test_autotuner_times_each_candidate_once_per_shape_and_keeps_the_winner(conv):
    calls = []

    def run(name):
        calls.append(name)
        if name == "winograd":
            time.sleep(0.05)

    conv.benchmark = True
    x = _x(2, 32, 12, 12)
    args = ((32, 32, 3, 3), (1, 1), (1, 1), (1, 1), 1)
    assert conv.choose(x, *args, run=run) == "im2col"
    assert sorted(calls) == ["im2col", "im2col", "winograd", "winograd"]   # warm-up + timed, each
    assert conv.choose(x, *args, run=run) == "im2col" and len(calls) == 4  # cached
    assert conv.choose(_x(3, 32, 12, 12), *args, run=run) == "im2col" and len(calls) == 8   # new shape
    assert set(conv.decisions.values()) == {"im2col"} and len(conv.decisions) == 2
    conv.reset()
    assert conv.decisions == {}


def test_chunk_keeps_buffers_under_the_cap_but_takes_at_least_one_sample(conv):
    conv.workspace_bytes = 1000
    assert conv.chunk(64, 300) == 3
    assert conv.chunk(64, 5000) == 1
    assert conv.chunk(2, 10) == 2


def test_auto_uses_im2col_by_default_where_winograd_measured_slower(conv):
    # AlexNet conv3's shape: the cost model would pick Winograd, the measurements did not
    x_shape, w_shape = (64, 256, 12, 12), (384, 256, 3, 3)
    assert convolution.WINOGRAD_BY_DEFAULT is False
    assert conv.winograd_pays(_x(*x_shape), w_shape, (1, 1), 1, 4)
    assert conv.choose(_x(*x_shape), w_shape, (1, 1), (1, 1), (1, 1), 1) == "im2col"
