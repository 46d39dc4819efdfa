"""Conv2d and pooling modules: PyTorch's defaults, shapes, init bounds, state_dict keys,
parity with torch.nn for the same weights, reprs and error messages."""
import math

import numpy as np
import pytest

import minicnn as mc
from minicnn import nn
from tests.helpers import randt, try_import_torch


def test_conv2d_parameters_are_float32_with_pytorch_shapes_and_init_bounds(xp):
    conv = nn.Conv2d(6, 8, (5, 3), groups=2)
    assert conv.weight.shape == (8, 3, 5, 3) and conv.bias.shape == (8,)
    assert conv.weight.dtype == np.float32 and conv.bias.dtype == np.float32
    assert isinstance(conv.weight.data, xp.ndarray)
    bound = 1 / math.sqrt(3 * 5 * 3)
    w = mc.to_numpy(conv.weight.data)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound     # U(-b, b) fills its range
    assert abs(w.mean()) < 0.1 * bound
    assert np.abs(mc.to_numpy(conv.bias.data)).max() <= bound
    assert list(dict(conv.state_dict())) == ["weight", "bias"]


def test_conv2d_init_is_repeatable_with_manual_seed():
    mc.manual_seed(7)
    a = nn.Conv2d(3, 4, 3).weight.data.copy()
    mc.manual_seed(7)
    np.testing.assert_array_equal(a, nn.Conv2d(3, 4, 3).weight.data)


def test_conv2d_without_bias_has_no_bias_parameter():
    conv = nn.Conv2d(3, 4, 3, bias=False)
    assert conv.bias is None and [n for n, _ in conv.named_parameters()] == ["weight"]


def test_alexnet_features_have_the_documented_shapes_and_parameter_counts(rng):
    features = nn.Sequential(nn.Conv2d(1, 96, 11, 4, 1), nn.MaxPool2d(3, 2), nn.Conv2d(96, 256, 5, padding=2),
                             nn.MaxPool2d(3, 2), nn.Conv2d(256, 384, 3, padding=1))
    counts = [sum(p.data.size for p in m.parameters()) for m in features]
    assert counts == [11712, 0, 614656, 0, 885120]
    x = mc.Tensor(rng.standard_normal((1, 1, 224, 224)).astype(np.float32))
    shapes = []
    with mc.no_grad():
        for m in features:
            x = m(x)
            shapes.append(x.shape[1:])
    assert shapes == [(96, 54, 54), (96, 26, 26), (256, 26, 26), (256, 12, 12), (384, 12, 12)]


def test_modules_match_torch_nn_with_the_same_weights(rng):
    torch = try_import_torch() or pytest.skip("torch not installed")
    ours = nn.Sequential(nn.Conv2d(4, 6, 3, stride=(2, 1), padding=1, groups=2), nn.MaxPool2d(3, 2, 1, ceil_mode=True),
                         nn.Conv2d(6, 6, 1, bias=False), nn.AvgPool2d(2, count_include_pad=False),
                         nn.AdaptiveAvgPool2d((2, 3)))
    theirs = torch.nn.Sequential(torch.nn.Conv2d(4, 6, 3, stride=(2, 1), padding=1, groups=2),
                                 torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True), torch.nn.Conv2d(6, 6, 1, bias=False),
                                 torch.nn.AvgPool2d(2, count_include_pad=False), torch.nn.AdaptiveAvgPool2d((2, 3)))
    state = ours.state_dict()
    assert {k: tuple(v.shape) for k, v in state.items()} == {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    theirs.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in state.items()})
    x = rng.standard_normal((2, 4, 15, 13)).astype(np.float32)
    X = mc.Tensor(x, requires_grad=True)
    y = ours(X)
    y.backward(np.ones(y.shape, np.float32))
    tx = torch.tensor(x, requires_grad=True)
    ty = theirs(tx)
    ty.backward(torch.ones(ty.shape))
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(X.grad.data, tx.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours[0].weight.grad.data, theirs[0].weight.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_reprs_read_like_pytorch():
    assert repr(nn.Conv2d(96, 256, 5, padding=2, groups=2)) == \
        "Conv2d(96, 256, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2), groups=2)"
    assert repr(nn.Conv2d(1, 96, 11, 4, 1)) == "Conv2d(1, 96, kernel_size=(11, 11), stride=(4, 4), padding=(1, 1))"
    assert repr(nn.Conv2d(3, 8, 3, bias=False)) == "Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), bias=False)"
    assert repr(nn.MaxPool2d(3, 2)) == "MaxPool2d(kernel_size=3, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert repr(nn.AvgPool2d(2)) == "AvgPool2d(kernel_size=2, stride=2, padding=0)"
    assert repr(nn.AdaptiveAvgPool2d((6, 6))) == "AdaptiveAvgPool2d(output_size=(6, 6))"


def test_conv2d_names_itself_and_the_channels_it_expected():
    with pytest.raises(ValueError, match=r"Conv2d\(96->256\): expected input \(N, 96, H, W\), got \(64, 3, 224, 224\)"):
        nn.Conv2d(96, 256, 5)(mc.Tensor(np.zeros((64, 3, 224, 224), np.float32)))
    with pytest.raises(ValueError, match=r"Conv2d\(3->8\): expected input \(N, 3, H, W\), got \(3, 8, 8\)"):
        nn.Conv2d(3, 8, 3)(mc.Tensor(np.zeros((3, 8, 8), np.float32)))
    with pytest.raises(ValueError, match=r"Conv2d\(3->8\): kernel \(5, 5\).*larger than the padded input \(4, 4\)"):
        nn.Conv2d(3, 8, 5)(mc.Tensor(np.zeros((1, 3, 4, 4), np.float32)))


@pytest.mark.parametrize("make, message", [
    (lambda: nn.Conv2d(6, 8, 3, groups=4), r"Conv2d\(6->8\): groups=4 must divide in_channels=6 and out_channels=8"),
    (lambda: nn.Conv2d(3, 8, 0), r"Conv2d\(3->8\): kernel_size must be positive"),
    (lambda: nn.Conv2d(3, 8, 3, stride=0), r"Conv2d\(3->8\): stride must be positive"),
    (lambda: nn.Conv2d(3, 8, 3, padding=-1), r"Conv2d\(3->8\): padding must be non-negative"),
    (lambda: nn.Conv2d(0, 8, 3), r"Conv2d\(0->8\): in_channels must be a positive int"),
])
def test_conv2d_rejects_bad_hyper_parameters(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_pool_modules_name_themselves_in_errors():
    with pytest.raises(ValueError, match=r"MaxPool2d: padding must be at most half the kernel size"):
        nn.MaxPool2d(3, 2, padding=2)(mc.Tensor(np.zeros((1, 1, 8, 8))))
    with pytest.raises(ValueError, match=r"AvgPool2d: expected a 4-D input"):
        nn.AvgPool2d(2)(mc.Tensor(np.zeros((8, 8))))
    with pytest.raises(ValueError, match=r"AdaptiveAvgPool2d: output_size must be"):
        nn.AdaptiveAvgPool2d((0, 2))


def test_max_pool_module_can_return_indices(rng):
    y, idx = nn.MaxPool2d(2, return_indices=True)(randt(np, rng, 1, 1, 4, 4))
    assert y.shape == idx.shape == (1, 1, 2, 2) and idx.dtype == np.int64
