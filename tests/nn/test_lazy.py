"""Lazy layers infer their input size at the first forward and become the ordinary layer."""
import numpy as np
import pytest

import minicnn as mc
from minicnn import nn, optim


@pytest.mark.parametrize("lazy, ordinary, x_shape, in_size", [
    (lambda: nn.LazyConv2d(6, kernel_size=5, padding=2), nn.Conv2d, (2, 3, 8, 8), 3),
    (lambda: nn.LazyConv2d(4, 3, 2, 1, bias=False), nn.Conv2d, (2, 5, 8, 8), 5),
    (lambda: nn.LazyLinear(7), nn.Linear, (2, 11), 11),
    (lambda: nn.LazyBatchNorm1d(), nn.BatchNorm1d, (4, 9), 9),
    (lambda: nn.LazyBatchNorm2d(momentum=0.2), nn.BatchNorm2d, (4, 6, 3, 3), 6),
])
def test_a_lazy_layer_becomes_the_ordinary_one_with_its_init(lazy, ordinary, x_shape, in_size):
    x = mc.randn(*x_shape)
    mc.manual_seed(5)
    layer = lazy()
    y = layer(x)
    assert type(layer) is ordinary and isinstance(layer, ordinary)
    args, kwargs = lazy().lazy_args
    mc.manual_seed(5)
    reference = ordinary(in_size, *args, **kwargs)   # the same constructor, the same RNG draws
    assert repr(layer) == repr(reference)
    assert layer.state_dict().keys() == reference.state_dict().keys()
    reference.train()
    assert np.allclose(y.data, reference(x).data)
    for (name, a), (_, b) in zip(layer.named_parameters(), reference.named_parameters()):
        assert a.shape == b.shape and np.array_equal(a.data, b.data), name


def test_an_optimizer_built_before_the_first_forward_updates_the_parameters():
    net = nn.Sequential(nn.LazyConv2d(2, kernel_size=3), nn.LazyBatchNorm2d(), nn.ReLU(),
                        nn.Flatten(), nn.LazyLinear(3))
    params = list(net.parameters())
    assert all(isinstance(p, nn.UninitializedParameter) for p in params)
    opt = optim.Adam(net.parameters(), lr=0.1)
    net(mc.randn(4, 1, 6, 6)).sum().backward()
    assert [id(p) for p in net.parameters()] == [id(p) for p in params]
    assert all(type(p) is nn.Parameter and p.grad is not None for p in params)
    before = [p.data.copy() for p in params]
    opt.step()
    assert all(not np.array_equal(b, p.data) for b, p in zip(before, params))


def test_state_dict_and_summary_before_the_first_forward_say_what_to_do():
    net = nn.Sequential(nn.LazyLinear(3))
    with pytest.raises(ValueError, match="LazyLinear.weight is not initialised.*forward pass"):
        net.state_dict()
    with pytest.raises(ValueError, match="not initialised"):
        mc.summary(net, (5,))
    net(mc.zeros(1, 5))
    assert net.state_dict()["0.weight"].shape == (3, 5)
    assert mc.summary(net, (5,)).total_params == 18


def test_type_checks_in_init_code_see_the_ordinary_class_after_the_first_forward():
    net = nn.Sequential(nn.LazyConv2d(2, kernel_size=1), nn.LazyLinear(2))
    seen = []
    net.apply(lambda m: seen.append(type(m) in (nn.Conv2d, nn.Linear)))
    assert seen == [False, False, False]
    net(mc.zeros(1, 3, 4, 4))
    seen.clear()
    net.apply(lambda m: seen.append(type(m) in (nn.Conv2d, nn.Linear)))
    assert seen == [False, True, True]


def test_lazy_repr_and_bias_false():
    conv = nn.LazyConv2d(6, kernel_size=5, bias=False)
    assert repr(conv) == "LazyConv2d(6, kernel_size=5, bias=False)"
    assert conv.bias is None and len(list(conv.parameters())) == 1
    conv(mc.zeros(1, 2, 5, 5))
    assert conv.bias is None and conv.weight.shape == (6, 2, 5, 5)
    bn = nn.LazyBatchNorm2d(affine=False)
    assert bn.weight is None
    bn(mc.zeros(2, 3, 2, 2))
    assert bn.running_mean.shape == (3,)


def test_a_wrong_input_rank_names_the_layer_and_the_shape():
    with pytest.raises(ValueError, match=r"LazyConv2d\(6\): expected input \(N, C, H, W\).*\(3, 4\)"):
        nn.LazyConv2d(6)(mc.zeros(3, 4))
    with pytest.raises(ValueError, match=r"LazyBatchNorm2d: expected input.*\(3, 4\)"):
        nn.LazyBatchNorm2d()(mc.zeros(3, 4))


def test_eval_mode_and_hooks_survive_the_first_forward():
    bn = nn.LazyBatchNorm1d()
    calls = []
    bn.register_forward_hook(lambda m, i, o: calls.append(o.shape))
    bn.eval()
    y = bn(mc.ones(4, 2) * 3)
    assert not bn.training and calls == [(4, 2)]
    assert np.allclose(y.data, 3 / np.sqrt(1 + 1e-5))   # eval: running stats (0, 1) are used
