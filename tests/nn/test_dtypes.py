"""Whole networks change dtype: double(), float(), to(dtype=...), dtype= on the layers; a whole
small CNN passes a float64 gradient check."""
import numpy as np
import pytest

import minicnn as mc
from minicnn import nn
from minicnn import functional as F


def small_cnn(**factory):
    return nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1, **factory), nn.BatchNorm2d(2, **factory), nn.ReLU(), nn.MaxPool2d(2),
        nn.LocalResponseNorm(3, alpha=0.5, k=2.0), nn.Dropout(0.5), nn.Flatten(), nn.Linear(18, 3, **factory))


def _floating_state(model):
    return {k: v.dtype for k, v in model.state_dict().items() if v.dtype.kind == "f"}


def test_double_and_float_cast_parameters_and_floating_buffers_but_not_counters():
    model = small_cnn().double()
    assert set(_floating_state(model).values()) == {np.dtype(np.float64)}
    assert model[1].num_batches_tracked.dtype == np.int64          # an integer buffer keeps its dtype
    model.float()
    assert set(_floating_state(model).values()) == {np.dtype(np.float32)}


@pytest.mark.parametrize("how", [lambda m: m.to(dtype=np.float64), lambda m: m.to(np.float64),
                                 lambda m: m.to("float64"), lambda m: m.to("numpy", dtype="float64")])
def test_to_takes_a_dtype_as_keyword_or_first_argument(how):
    model = how(small_cnn())
    assert set(_floating_state(model).values()) == {np.dtype(np.float64)}


def test_to_refuses_a_dtype_that_is_not_floating_and_an_unknown_backend():
    with pytest.raises(TypeError, match=r"Sequential.to: expected a floating dtype, got int32"):
        small_cnn().to(dtype=np.int32)
    with pytest.raises(ValueError, match=r"unknown backend 'tpu'"):
        small_cnn().to("tpu")


def test_gradients_are_cast_with_their_parameters():
    model = nn.Linear(3, 2)
    model(mc.Tensor(np.ones((1, 3), np.float32))).sum().backward()
    model.double()
    assert model.weight.grad.dtype == np.float64


def test_layers_take_a_dtype_when_built():
    model = small_cnn(dtype=np.float64)
    assert set(_floating_state(model).values()) == {np.dtype(np.float64)}
    y = model(mc.Tensor(np.random.default_rng(0).standard_normal((2, 1, 6, 6))))
    assert y.dtype == np.float64


def test_a_whole_small_cnn_passes_a_float64_gradient_check():
    """conv -> BN -> ReLU -> max-pool -> LRN -> dropout (eval) -> linear -> cross-entropy: the
    gradients of the input and of every parameter match central differences."""
    model = small_cnn().double()
    model.train()
    model[5].eval()                                            # dropout off, BatchNorm on batch statistics
    x = mc.Tensor(np.random.default_rng(3).standard_normal((2, 1, 6, 6)), requires_grad=True)
    target = np.array([1, 2])
    params = list(model.parameters())
    assert len(params) == 6 and all(p.dtype == np.float64 for p in params)

    def loss(x, *_params):                                      # the parameters are perturbed in place
        return F.cross_entropy(model(x), target)
    assert mc.gradcheck(loss, [x, *params])
