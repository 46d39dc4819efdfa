"""summary(): the seed's torchinfo figures for the d2l AlexNet, and torchinfo's counting rules."""
import numpy as np
import pytest

import minicnn as mc
from minicnn import models, nn
from minicnn.summary import Summary, summary


@pytest.fixture(scope="module")
def alexnet_summary():
    return summary(models.alexnet(num_classes=10, in_channels=1, input_size=224), (1, 224, 224))


def test_alexnet_totals_match_the_seed_table(alexnet_summary):
    s = alexnet_summary
    assert isinstance(s, Summary)
    assert s.total_params == s.trainable_params == 46_764_746
    assert s.non_trainable_params == 0
    assert round(s.mult_adds / 1e6, 2) == 938.75
    assert f"{s.input_size_mb:.2f}" == "0.20"
    assert f"{s.forward_backward_pass_size_mb:.2f}" == "4.87"
    assert f"{s.params_size_mb:.2f}" == "187.06"
    assert f"{s.total_size_mb:.2f}" == "192.13"


def test_alexnet_layer_shapes_and_params_match_the_seed_table(alexnet_summary):
    rows = alexnet_summary.rows
    assert rows[0].type == "AlexNet" and rows[0].depth == 0 and rows[0].output_shape == (1, 10)
    with_params = [(r.type, r.output_shape[1:], r.params) for r in rows if r.params]
    assert with_params == [
        ("Conv2d", (96, 54, 54), 11_712), ("Conv2d", (256, 26, 26), 614_656), ("Conv2d", (384, 12, 12), 885_120),
        ("Conv2d", (384, 12, 12), 1_327_488), ("Conv2d", (256, 12, 12), 884_992),
        ("Linear", (4096,), 26_218_496), ("Linear", (4096,), 16_781_312), ("Linear", (10,), 40_970)]
    pooled = [r.output_shape[1:] for r in rows if r.type in ("MaxPool2d", "Flatten")]
    assert pooled == [(96, 26, 26), (256, 12, 12), (256, 5, 5), (6400,)]
    assert [r.label for r in rows[1:4]] == ["Conv2d: 1-1", "ReLU: 1-2", "MaxPool2d: 1-3"]


def test_alexnet_table_prints_the_seed_figures(alexnet_summary):
    text = str(alexnet_summary)
    for line in ["Total params: 46,764,746", "Trainable params: 46,764,746", "Non-trainable params: 0",
                 "Total mult-adds (M): 938.75", "Input size (MB): 0.20", "Forward/backward pass size (MB): 4.87",
                 "Params size (MB): 187.06", "Estimated Total Size (MB): 192.13"]:
        assert line in text
    assert any(l.startswith("├─Conv2d: 1-1") and "[1, 96, 54, 54]" in l and "11,712" in l for l in text.splitlines())


def test_conv_mult_adds_count_weights_and_bias_once_per_output_pixel():
    conv = nn.Conv2d(3, 8, 3)
    s = summary(nn.Sequential(conv), (3, 10, 10), batch_size=2)
    weights_and_bias = 8 * 3 * 3 * 3 + 8
    assert s.rows[1].output_shape == (2, 8, 8, 8)
    assert s.mult_adds == weights_and_bias * 2 * 8 * 8


def test_linear_and_batchnorm_mult_adds_count_each_parameter_once_per_sample():
    s = summary(nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4)), (5,), batch_size=3)
    assert [r.mult_adds for r in s.rows[1:]] == [3 * (5 * 4 + 4), 3 * (2 * 4)]
    assert s.total_params == 24 + 8 and s.trainable_params == 32


class TwiceShared(nn.Module):
    """Calls one Linear twice and holds a parameter of its own."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.scale = nn.Parameter(np.ones(4, np.float32))

    def forward(self, x):
        return self.fc(self.fc(x)) * self.scale


def test_a_module_called_twice_is_counted_once_in_params_but_twice_in_mult_adds():
    s = summary(TwiceShared(), (4,))
    assert [(r.label, r.is_recursive) for r in s.rows] == [("TwiceShared", False), ("Linear: 1-1", False),
                                                            ("Linear: 1-2", True)]
    assert s.rows[0].params == 4                 # the container's own parameter
    assert s.total_params == 20 + 4
    assert s.mult_adds == 2 * 20
    assert "(recursive)" in str(s)


def test_nested_calls_get_depth_and_index_within_their_parent():
    s = summary(models.cifar_resnet(), (3, 32, 32))
    labels = [r.label for r in s.rows[:8]]
    assert labels == ["CIFARResNet", "Conv2d: 1-1", "BatchNorm2d: 1-2", "ReLU: 1-3", "Sequential: 1-4",
                      "BasicBlock: 2-1", "Conv2d: 3-1", "BatchNorm2d: 3-2"]
    assert s.rows[5].name == "layer1.0"
    assert s.total_params == sum(r.params for r in s.rows)
    assert "│    └─BasicBlock: 2-1" in str(s)


def test_summary_leaves_modes_and_running_statistics_untouched():
    model = models.mnist_cnn().train()
    before = {k: np.array(v, copy=True) for k, v in model.state_dict().items()}
    summary(model, (1, 28, 28), batch_size=4)
    assert all(m.training for m in model.modules())
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key], err_msg=key)
    assert "forward" not in model.conv1[0].__dict__        # the call recorder is gone
    assert not model.conv1[0]._forward_hooks


def test_batch_size_scales_shapes_mult_adds_and_sizes():
    one = summary(models.lenet(), (1, 28, 28))
    four = summary(models.lenet(), (1, 28, 28), batch_size=4)
    assert four.rows[0].output_shape == (4, 10)
    assert four.mult_adds == 4 * one.mult_adds
    assert four.input_size_mb == pytest.approx(4 * one.input_size_mb)
    assert four.params_size_mb == one.params_size_mb


def test_float64_model_and_input_double_the_sizes():
    single = summary(models.lenet(), (1, 28, 28))
    model = models.lenet()
    for p in model.parameters():
        p.data = p.data.astype(np.float64)
    double = summary(model, (1, 28, 28), dtype=np.float64)
    assert double.input_size_mb == pytest.approx(2 * single.input_size_mb) == pytest.approx(28 * 28 * 8 / 1e6)
    assert double.params_size_mb == pytest.approx(2 * single.params_size_mb)
    assert double.forward_backward_pass_size_mb == pytest.approx(2 * single.forward_backward_pass_size_mb)


@pytest.mark.parametrize("shape, batch", [((), 1), ((1, 0, 28), 1), ((1, 28, 28), 0)])
def test_bad_shapes_are_rejected(shape, batch):
    with pytest.raises(ValueError, match="summary: expected a per-sample input shape"):
        summary(models.lenet(), shape, batch_size=batch)


def test_summary_is_exported_at_top_level():
    assert mc.summary is summary and mc.Summary is Summary


def test_an_int_instead_of_a_shape_is_a_type_error_naming_the_argument_expected_and_given():
    with pytest.raises(TypeError, match=r"summary: expected a per-sample input shape \(input_shape\) as a tuple "
                                        r"of ints such as \(1, 224, 224\), got int 28"):
        summary(models.lenet(), 28)
