"""The model zoo: parameter counts, output shapes, state_dict layouts, the registry."""
import numpy as np
import pytest

import minicnn as mc
from minicnn import models

# torchvision's counts for the ImageNet configurations (3x224x224, 1000 classes), d2l's and the
# seeds' for the small nets (their default 10 classes and channels).
PARAMETER_COUNTS = {
    "mnist_cnn": 29_034,
    "lenet": 61_706,
    "alexnet": 46_764_746,
    "nin": 1_992_166,
    "cifar_resnet": 195_738,
    "zfnet": 62_357_608,
    "resnet18": 11_689_512,
    "resnet34": 21_797_672,
    "resnet50": 25_557_032,
    "densenet121": 7_978_856,
    "googlenet": 13_004_888,
    "vgg11": 132_863_336,
    "vgg11_bn": 132_868_840,
    "vgg16": 138_357_544,
    "vgg16_bn": 138_365_992,
}


# Building the 130M-parameter VGGs takes seconds (random init of every weight): the BN twins
# add nothing the plain ones do not check, so they run with the slow tests only.
SLOW_TO_BUILD = {"vgg11_bn", "vgg16_bn"}
# Forward passes at 224 that take seconds each on a CPU; a reduced-resolution run of the
# same model checks them by default.
SLOW_FORWARD = {"vgg11", "vgg16", "resnet34", "resnet50", "densenet121", "googlenet", "zfnet"}


def names(selected=None, slow=()):
    selected = sorted(PARAMETER_COUNTS) if selected is None else selected
    return [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_TO_BUILD or n in slow else n for n in selected]


@pytest.fixture(scope="module")
def build():
    """``build(name, **kwargs)``: the zoo model, built once for all the tests of this module
    (a VGG takes seconds to initialise); the cache (~2 GB at most) goes with the module."""
    cache = {}

    def get(name, **kwargs):
        key = (name, tuple(sorted(kwargs.items())))
        if key not in cache:
            cache[key] = models.get_model(name, **kwargs)
        return cache[key]

    yield get
    cache.clear()


def count(model):
    return sum(int(p.data.size) for p in model.parameters())


def forward(model, shape, batch=1):
    x = mc.Tensor(np.random.default_rng(0).standard_normal((batch,) + shape).astype(np.float32))
    with mc.no_grad():
        return model.eval()(x)


def test_registry_lists_every_family():
    assert set(models.list_models()) == set(PARAMETER_COUNTS)


@pytest.mark.parametrize("name", names())
def test_parameter_count_matches_reference(build, name):
    assert count(build(name)) == PARAMETER_COUNTS[name]


def test_googlenet_without_aux_heads_matches_torchvision_count(build):
    assert count(build("googlenet", aux_logits=False)) == 6_624_904


def test_get_model_rejects_unknown_names_and_arguments():
    with pytest.raises(ValueError, match="unknown model 'alexnet2'.*alexnet"):
        models.get_model("alexnet2")
    with pytest.raises(TypeError, match="input_size"):
        models.get_model("resnet18", input_size=64)


@pytest.mark.parametrize("name", names(slow=SLOW_FORWARD))
def test_forward_at_native_resolution_gives_logits(build, name):
    out = forward(build(name), models.default_input_shape(name))
    assert out.shape == (1, 10 if name in ("alexnet", "lenet", "mnist_cnn", "nin", "cifar_resnet") else 1000)
    assert out.dtype == np.float32
    assert np.isfinite(out.data).all()


# The same heavy nets at a reduced resolution: the same code paths in a fraction of the time.
@pytest.mark.parametrize("name, side", [
    ("vgg11", 32), ("vgg16", 32), ("resnet34", 32), ("resnet50", 64), ("densenet121", 64), ("googlenet", 64)])
def test_heavy_forward_at_reduced_resolution_gives_logits(build, name, side):
    out = forward(build(name), (3, side, side), batch=2)
    assert out.shape == (2, 1000)
    assert np.isfinite(out.data).all()


@pytest.mark.parametrize("name, side", [("resnet18", 32), ("densenet121", 32), ("zfnet", 64)])
def test_models_take_one_channel_inputs_and_any_number_of_classes(name, side):
    kwargs = {"num_classes": 7, "in_channels": 1}
    if "input_size" in models.model_arguments(name):
        kwargs["input_size"] = side
    out = forward(models.get_model(name, **kwargs), (1, side, side), batch=2)
    assert out.shape == (2, 7)
    assert np.isfinite(out.data).all()


@pytest.mark.parametrize("size, side", [(224, 5), (112, 2), (96, 1)])
def test_alexnet_flatten_size_follows_input_size(size, side):
    model = models.alexnet(input_size=size)
    assert model[14].weight.shape == (4096, 256 * side * side)
    assert forward(model, (1, size, size)).shape == (1, 10)


def test_alexnet_rejects_an_input_size_with_nothing_left_after_pooling():
    with pytest.raises(ValueError, match="alexnet\\(d2l\\): input_size 64 is too small.*smallest that works is 65"):
        models.alexnet(input_size=64)    # 64 -> 14 -> 6 -> 2 -> 0


@pytest.fixture(scope="module")
def paper_alexnet():
    return models.alexnet(num_classes=1000, in_channels=3, variant="paper")


def test_alexnet_paper_variant_has_the_papers_60_million_parameters(paper_alexnet):
    assert count(paper_alexnet) == 60_965_224


def test_alexnet_paper_variant_has_lrn_groups_dropout_and_paper_init(paper_alexnet):
    model = paper_alexnet
    kinds = [type(m).__name__ for m in model]
    assert kinds[:8] == ["Conv2d", "ReLU", "LocalResponseNorm", "MaxPool2d",
                         "Conv2d", "ReLU", "LocalResponseNorm", "MaxPool2d"]
    # dropout on the outputs of the two hidden FC layers
    assert kinds[-7:] == ["Linear", "ReLU", "Dropout", "Linear", "ReLU", "Dropout", "Linear"]
    convs = [m for m in model if isinstance(m, mc.nn.Conv2d)]
    linears = [m for m in model if isinstance(m, mc.nn.Linear)]
    assert [c.weight.shape[1] for c in convs] == [3, 48, 256, 192, 192]    # groups=2 in conv2/4/5
    for layer, bias in zip(convs + linears, [0, 1, 0, 1, 1, 1, 1, 0]):
        np.testing.assert_array_equal(layer.bias.data, bias)
    weights = np.concatenate([m.weight.data.ravel() for m in convs + linears])
    assert abs(weights.std() - 0.01) < 1e-4 and abs(weights.mean()) < 1e-5
    assert forward(model, (3, 224, 224)).shape == (1, 1000)


def test_alexnet_paper_variant_keeps_the_papers_map_sizes(paper_alexnet):
    model = paper_alexnet
    x = mc.Tensor(np.zeros((1, 3, 224, 224), np.float32))
    sizes = []
    with mc.no_grad():
        for layer in model:
            x = layer(x)
            if isinstance(layer, mc.nn.MaxPool2d):
                sizes.append(x.shape[1:])
    assert sizes == [(96, 27, 27), (256, 13, 13), (256, 6, 6)]


def test_zfnet_map_sizes_follow_the_paper(build):
    model = build("zfnet")
    x = mc.Tensor(np.zeros((1, 3, 224, 224), np.float32))
    sizes = []
    with mc.no_grad():
        for layer in model.features:
            x = layer(x)
            if isinstance(layer, (mc.nn.Conv2d, mc.nn.MaxPool2d)):
                sizes.append(x.shape[2])
    assert sizes == [110, 55, 26, 13, 13, 13, 13, 6]


def test_googlenet_returns_aux_logits_in_training_and_plain_logits_in_eval(build):
    model = build("googlenet")
    x = mc.Tensor(np.random.default_rng(0).standard_normal((1, 3, 64, 64)).astype(np.float32))
    with mc.no_grad():
        out = model.train()(x)
        assert isinstance(out, models.GoogLeNetOutputs)
        assert [o.shape for o in out] == [(1, 1000)] * 3
        assert model.eval()(x).shape == (1, 1000)
    plain = build("googlenet", aux_logits=False)
    assert not any(name.startswith("aux") for name, _ in plain.named_parameters())
    with mc.no_grad():
        assert plain.train()(x).shape == (1, 1000)


# Keys and shapes as torchvision / d2l / the seeds name them.
STATE_DICT_SAMPLES = {
    "resnet18": {"conv1.weight": (64, 3, 7, 7), "layer2.0.downsample.0.weight": (128, 64, 1, 1),
                 "layer2.0.downsample.1.running_var": (128,), "layer4.1.bn2.num_batches_tracked": (),
                 "fc.weight": (1000, 512)},
    "resnet50": {"layer1.0.conv3.weight": (256, 64, 1, 1), "layer4.2.bn3.bias": (2048,), "fc.weight": (1000, 2048)},
    "densenet121": {"features.conv0.weight": (64, 3, 7, 7), "features.denseblock1.denselayer1.norm1.weight": (64,),
                    "features.transition3.conv.weight": (512, 1024, 1, 1),
                    "features.denseblock4.denselayer16.conv2.weight": (32, 128, 3, 3),
                    "features.norm5.running_mean": (1024,), "classifier.weight": (1000, 1024)},
    "googlenet": {"conv1.conv.weight": (64, 3, 7, 7), "conv1.bn.running_var": (64,),
                  "inception3a.branch3.1.conv.weight": (32, 16, 3, 3), "inception5b.branch4.1.bn.weight": (128,),
                  "aux1.fc1.weight": (1024, 2048), "aux2.fc2.bias": (1000,), "fc.weight": (1000, 1024)},
    "vgg16": {"features.0.weight": (64, 3, 3, 3), "features.28.weight": (512, 512, 3, 3),
              "classifier.0.weight": (4096, 25088), "classifier.6.bias": (1000,)},
    "vgg11_bn": {"features.1.running_mean": (64,), "features.25.weight": (512, 512, 3, 3)},
    "nin": {"0.0.weight": (96, 1, 11, 11), "7.4.weight": (10, 10, 1, 1)},
    "cifar_resnet": {"conv.weight": (16, 3, 3, 3), "layer2.0.downsample.0.weight": (32, 16, 3, 3),
                     "layer3.1.bn2.running_var": (64,), "fc.weight": (10, 64)},
}


@pytest.mark.parametrize("name", names(sorted(STATE_DICT_SAMPLES)))
def test_state_dict_keys_follow_the_reference_layout(build, name):
    state = build(name).state_dict()
    for key, shape in STATE_DICT_SAMPLES[name].items():
        assert key in state, f"{name}: missing {key}"
        assert tuple(np.shape(state[key])) == shape, key


def test_every_model_takes_num_classes_and_in_channels():
    for name in models.list_models():
        assert {"num_classes", "in_channels"} <= set(models.model_arguments(name)), name
