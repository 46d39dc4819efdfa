"""Fuzzing layer configurations with hypothesis.

Valid configurations never crash, give the output size counted by sliding the window and finite
values and gradients. Invalid ones (one thing wrong at a time) raise ValueError or TypeError from
minicnn's own checks -- never an IndexError, ZeroDivisionError or a NumPy error from deep inside:
any exception other than ValueError/TypeError fails these tests, and so does a ValueError or
TypeError that NumPy raised (see ``library_error_problem`` for what a library error must be).
Example counts are bounded so the whole file runs in well under a minute.
"""
import os
import re
import traceback

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import minicnn as mc
from minicnn import nn
from tests.helpers import count_windows, require_torch

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MINICNN_DIR = os.path.dirname(mc.__file__)
# "Conv2d(2->4): ...", "MaxPool2d: ...", "batch_norm: ...": the label of what refused the input
LABEL = re.compile(r"^[A-Za-z_][\w.]*(\([^)]*\))?: \S")


def random_input(shape, dtype=np.float32, seed=0):
    return mc.Tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype), requires_grad=True)


def check_forward_backward(module, x, expected_shape, finite=True):
    y = module(x)
    assert y.shape == tuple(expected_shape)
    assert y.dtype == x.dtype
    assert np.isfinite(y.data).all() if finite else not np.isnan(y.data).any()
    (y * mc.Tensor(np.random.default_rng(1).standard_normal(y.shape).astype(y.dtype))).sum().backward()
    assert x.grad.shape == x.shape and np.isfinite(x.grad.data).all()
    for name, p in module.named_parameters():
        assert p.grad is not None and p.grad.shape == p.shape and np.isfinite(p.grad.data).all(), name


def library_error_problem(error):
    """What is wrong with ``error`` as a library error, or None. A library error:

    - is a ValueError or TypeError, but none of NumPy's own types (AxisError is a ValueError);
    - comes from a ``raise`` statement in minicnn's code (not from inside NumPy, nor from a NumPy
      call in minicnn that failed, such as a broadcast or a reshape);
    - begins with the label of the layer or op that refused it: "Conv2d(2->4): expected ...".
    """
    if not isinstance(error, (ValueError, TypeError)):
        return f"not a ValueError/TypeError but {type(error).__name__}"
    if type(error).__module__.split(".")[0] == "numpy":
        return f"NumPy's own {type(error).__name__}"
    frame = traceback.extract_tb(error.__traceback__)[-1]
    if not os.path.abspath(frame.filename).startswith(MINICNN_DIR + os.sep):
        return f"raised in {frame.filename}, not in minicnn"
    if not (frame.line or "").startswith("raise "):
        return f"raised by the NumPy call `{frame.line}` in {frame.filename}, not by a minicnn check"
    if not LABEL.match(str(error)):
        return "the message does not begin with the label of the layer or op that refused the input"
    return None


def raises_clear_error(build_and_run):
    """Call ``build_and_run``; it must raise a library error (see ``library_error_problem``)."""
    try:
        build_and_run()
    except Exception as e:  # noqa: BLE001 -- everything that is not a library error fails
        problem = library_error_problem(e)
        assert problem is None, f"not a clear library error ({problem}): {type(e).__name__}: {e}"
        return e
    raise AssertionError("an invalid configuration was accepted")


NUMPY_FAILURES = {
    "AxisError": lambda: np.sum(np.ones(3), axis=2),
    "zero-size reduction": lambda: np.zeros((0, 3)).max(),
    "broadcast": lambda: np.ones((2, 3)) + np.ones(4),
    "reshape": lambda: np.ones(6).reshape(4),
    "matmul": lambda: np.ones((2, 3)) @ np.ones((2, 3)),
}


@pytest.mark.parametrize("fail", list(NUMPY_FAILURES.values()), ids=list(NUMPY_FAILURES))
def test_numpys_own_errors_do_not_pass_as_library_errors(fail):
    with pytest.raises(AssertionError, match="not a clear library error"):
        raises_clear_error(fail)


def test_a_numpy_error_from_a_numpy_call_inside_minicnn_does_not_pass():
    from minicnn.kernels.im2col_reference import col2im  # a kernel: it trusts its caller and checks nothing
    with pytest.raises(AssertionError, match="raised by the NumPy call"):
        raises_clear_error(lambda: col2im(np.ones((2, 3)), (1, 1, 4, 4), (2, 2)))


def test_a_library_error_passes():
    error = raises_clear_error(lambda: nn.Conv2d(2, 4, 3)(mc.Tensor(np.ones((1, 3, 5, 5), np.float32))))
    assert str(error).startswith("Conv2d(2->4): expected input (N, 2, H, W)")


# --- valid configurations ----------------------------------------------------------------

@st.composite
def conv_configs(draw):
    groups = draw(st.integers(1, 3))
    config = dict(in_channels=groups * draw(st.integers(1, 2)), out_channels=groups * draw(st.integers(1, 2)),
                  kernel_size=(draw(st.integers(1, 4)), draw(st.integers(1, 4))),
                  stride=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
                  padding=(draw(st.integers(0, 2)), draw(st.integers(0, 2))),
                  dilation=(draw(st.integers(1, 2)), draw(st.integers(1, 2))),
                  groups=groups, bias=draw(st.booleans()))
    hw = [draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 9))
          for k, p, d in zip(config["kernel_size"], config["padding"], config["dilation"])]
    return config, (draw(st.integers(1, 2)), config["in_channels"], *hw)


@FUZZ
@given(conv_configs())
def test_valid_conv2d_configurations_keep_the_output_size_formula(case):
    config, shape = case
    module = nn.Conv2d(**config)
    expected = [count_windows(shape[2 + i], config["kernel_size"][i], config["stride"][i], config["padding"][i],
                            config["dilation"][i]) for i in range(2)]
    check_forward_backward(module, random_input(shape), (shape[0], config["out_channels"], *expected))


@st.composite
def pool_configs(draw, dilation=True):
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    dil = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilation else (1, 1)
    hw = [draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 9)) for k, p, d in zip(kernel, padding, dil)]
    config = dict(kernel_size=kernel, stride=stride, padding=padding, ceil_mode=draw(st.booleans()))
    if dilation:
        config["dilation"] = dil
    return config, (draw(st.integers(1, 2)), draw(st.integers(1, 3)), *hw)


def _pool_expected(config, shape):
    stride = config["stride"] or config["kernel_size"]
    dil = config.get("dilation", (1, 1))
    return shape[:2] + tuple(count_windows(shape[2 + i], config["kernel_size"][i], stride[i], config["padding"][i],
                                         dil[i], config["ceil_mode"]) for i in range(2))


@FUZZ
@given(pool_configs())
def test_valid_maxpool2d_configurations_keep_the_output_size_formula(case):
    config, shape = case
    expected = _pool_expected(config, shape)
    # a window lying wholly in the padding gives -inf, as in PyTorch
    touches = all(any(0 <= o * s - p + i * d < size for i in range(k))
                  for size, out, k, s, p, d in zip(shape[2:], expected[2:], config["kernel_size"],
                                                   config["stride"] or config["kernel_size"], config["padding"],
                                                   config["dilation"])
                  for o in range(out))
    check_forward_backward(nn.MaxPool2d(**config), random_input(shape), expected, finite=touches)


@FUZZ
@given(pool_configs(dilation=False), st.booleans())
def test_valid_avgpool2d_configurations_keep_the_output_size_formula(case, count_include_pad):
    config, shape = case
    module = nn.AvgPool2d(**config, count_include_pad=count_include_pad)
    check_forward_backward(module, random_input(shape), _pool_expected(config, shape))


@settings(max_examples=25, deadline=None)
@given(pool_configs())
def test_the_pooling_formula_here_is_pytorchs(case):
    torch = require_torch()
    config, shape = case
    y = torch.nn.functional.max_pool2d(torch.zeros(shape), config["kernel_size"], config["stride"], config["padding"],
                                       config["dilation"], ceil_mode=config["ceil_mode"])
    assert tuple(y.shape) == _pool_expected(config, shape)


@FUZZ
@given(st.integers(1, 6), st.integers(1, 6), st.lists(st.integers(1, 3), max_size=2), st.booleans())
def test_valid_linear_configurations_map_the_last_axis(in_features, out_features, lead, bias):
    module = nn.Linear(in_features, out_features, bias=bias)
    check_forward_backward(module, random_input((*lead, in_features)), (*lead, out_features))


@FUZZ
@given(st.sampled_from(["BatchNorm1d-2", "BatchNorm1d-3", "BatchNorm2d-4"]), st.integers(1, 4),
       st.lists(st.integers(1, 3), min_size=3, max_size=3), st.booleans(), st.booleans(),
       st.sampled_from([0.1, None]))
def test_valid_batchnorm_configurations_keep_the_shape_in_train_and_eval(kind, channels, sizes, training, affine,
                                                                         momentum):
    name, rank = kind.split("-")
    shape = (sizes[0] + 1, channels, *sizes[1:int(rank) - 1])   # N >= 2: training needs 2+ values per channel
    module = nn.__dict__[name](channels, affine=affine, momentum=momentum).train(training)
    check_forward_backward(module, random_input(shape), shape)
    assert np.isfinite(module.running_mean).all() and np.isfinite(module.running_var).all()


@FUZZ
@given(st.integers(1, 7), st.integers(1, 8), st.lists(st.integers(1, 3), min_size=1, max_size=3),
       st.floats(1e-5, 1.0), st.floats(0.1, 1.0), st.floats(0.5, 3.0), st.sampled_from(["pytorch", "paper"]))
def test_valid_lrn_configurations_keep_the_shape(size, channels, spatial, alpha, beta, k, scaling):
    module = nn.LocalResponseNorm(size, alpha=alpha, beta=beta, k=k, alpha_scaling=scaling)
    shape = (2, channels, *spatial)
    check_forward_backward(module, random_input(shape), shape)


EMPTY_BATCH = {
    "Conv2d": (lambda: nn.Conv2d(2, 4, 3, padding=1, groups=2), (0, 2, 5, 5), (0, 4, 5, 5)),
    "MaxPool2d": (lambda: nn.MaxPool2d(3, 2, ceil_mode=True), (0, 2, 6, 6), (0, 2, 3, 3)),
    "AvgPool2d": (lambda: nn.AvgPool2d(2), (0, 2, 4, 4), (0, 2, 2, 2)),
    "AdaptiveAvgPool2d": (lambda: nn.AdaptiveAvgPool2d(3), (0, 2, 4, 4), (0, 2, 3, 3)),
    "Linear": (lambda: nn.Linear(3, 2), (0, 3), (0, 2)),
    "BatchNorm2d-eval": (lambda: nn.BatchNorm2d(2).eval(), (0, 2, 2, 2), (0, 2, 2, 2)),
    "LocalResponseNorm": (lambda: nn.LocalResponseNorm(3), (0, 3, 2, 2), (0, 3, 2, 2)),
}


@pytest.mark.parametrize("case", list(EMPTY_BATCH.values()), ids=list(EMPTY_BATCH))
def test_an_empty_batch_goes_through_every_layer_as_in_pytorch(case):
    make, shape, expected = case
    module = make()
    x = random_input(shape)
    y = module(x)
    assert y.shape == expected
    y.sum().backward()
    assert x.grad.shape == shape


# --- invalid configurations: one thing wrong at a time -------------------------------------

CONV_MUTATIONS = ["kernel<=0", "stride<=0", "padding<0", "dilation<=0", "groups-not-dividing", "groups<=0",
                  "channels<=0", "input-channels", "input-rank", "kernel>padded-input", "kernel-not-int",
                  "input-dtype", "empty-spatial"]


@FUZZ
@given(conv_configs(), st.sampled_from(CONV_MUTATIONS), st.data())
def test_invalid_conv2d_configurations_raise_value_or_type_errors(case, mutation, data):
    config, shape = dict(case[0]), list(case[1])
    dtype = np.float32
    bad = data.draw(st.integers(-3, 0))
    if mutation in ("kernel<=0", "stride<=0", "dilation<=0"):
        key = {"kernel<=0": "kernel_size", "stride<=0": "stride", "dilation<=0": "dilation"}[mutation]
        config[key] = data.draw(st.sampled_from([bad, (bad, 1), (1, bad)]))
    elif mutation == "padding<0":
        config["padding"] = data.draw(st.sampled_from([bad - 1, (bad - 1, 0)]))
    elif mutation == "groups-not-dividing":
        config["groups"] = data.draw(st.integers(2, 5).filter(
            lambda g: config["in_channels"] % g or config["out_channels"] % g))
    elif mutation == "groups<=0":
        config["groups"] = bad
    elif mutation == "channels<=0":
        config[data.draw(st.sampled_from(["in_channels", "out_channels"]))] = bad
    elif mutation == "input-channels":
        shape[1] = data.draw(st.integers(0, 7).filter(lambda c: c != config["in_channels"]))
    elif mutation == "input-rank":
        shape = data.draw(st.sampled_from([shape[1:], shape[2:], shape + [2], [shape[1]]]))
    elif mutation == "kernel>padded-input":
        axis = data.draw(st.integers(0, 1))
        config["padding"] = (0, 0)
        config["kernel_size"] = tuple(max(k, 2) for k in config["kernel_size"])
        span = config["dilation"][axis] * (config["kernel_size"][axis] - 1) + 1
        shape[2 + axis] = data.draw(st.integers(1, span - 1))
    elif mutation == "kernel-not-int":
        config["kernel_size"] = data.draw(st.sampled_from([2.5, (1, 2, 3), "3", (2.0, 2), None]))
    elif mutation == "input-dtype":
        dtype = data.draw(st.sampled_from([np.float64, np.int64, np.uint8, np.float16]))
    elif mutation == "empty-spatial":   # refused as PyTorch does (an empty padded input has nothing to convolve)
        axis = data.draw(st.integers(0, 1))
        shape[2 + axis] = 0
        config["padding"] = (0, config["padding"][1]) if axis == 0 else (config["padding"][0], 0)

    def run():
        module = nn.Conv2d(**config)
        module(mc.Tensor(np.ones(shape, dtype=dtype)))
    raises_clear_error(run)


POOL_MUTATIONS = ["kernel<=0", "stride<=0", "padding<0", "padding>half-kernel", "kernel>padded-input",
                  "input-rank", "kernel-not-int", "empty-spatial", "dilation<=0"]


@FUZZ
@given(st.sampled_from(["MaxPool2d", "AvgPool2d"]), st.data())
def test_invalid_pooling_configurations_raise_value_or_type_errors(name, data):
    config, shape = data.draw(pool_configs(dilation=name == "MaxPool2d"))
    shape = list(shape)
    mutations = POOL_MUTATIONS if name == "MaxPool2d" else POOL_MUTATIONS[:-1]
    mutation = data.draw(st.sampled_from(mutations))
    bad = data.draw(st.integers(-3, 0))
    if mutation == "kernel<=0":
        config["kernel_size"] = data.draw(st.sampled_from([bad, (bad, 2), (2, bad)]))
        config["padding"] = 0
    elif mutation == "stride<=0":
        config["stride"] = data.draw(st.sampled_from([bad, (bad, 1)]))
    elif mutation == "dilation<=0":
        config["dilation"] = data.draw(st.sampled_from([bad, (1, bad)]))
    elif mutation == "padding<0":
        config["padding"] = data.draw(st.sampled_from([bad - 1, (0, bad - 1)]))
    elif mutation == "padding>half-kernel":
        config["padding"] = tuple(k // 2 + 1 for k in config["kernel_size"])
    elif mutation == "kernel>padded-input":
        config["padding"] = (0, 0)
        config.pop("dilation", None)
        shape[2] = data.draw(st.integers(1, 3))
        config["kernel_size"] = (shape[2] + data.draw(st.integers(1, 3)), config["kernel_size"][1])
    elif mutation == "input-rank":
        shape = data.draw(st.sampled_from([shape[1:], shape[2:], shape + [1]]))
    elif mutation == "kernel-not-int":
        config["kernel_size"] = data.draw(st.sampled_from([2.5, (1, 2, 3), "3", (2.0, 2)]))
    elif mutation == "empty-spatial":
        shape[3] = 0
        config["padding"] = (config["padding"][0], 0)

    def run():
        getattr(nn, name)(**config)(mc.Tensor(np.ones(shape, np.float32)))
    raises_clear_error(run)


@FUZZ
@given(st.integers(1, 6), st.integers(1, 6), st.sampled_from(["features<=0", "input-features", "input-0d",
                                                              "input-dtype", "features-not-int"]), st.data())
def test_invalid_linear_configurations_raise_value_or_type_errors(in_features, out_features, mutation, data):
    shape, dtype = (2, in_features), np.float32
    if mutation == "features<=0":
        in_features = data.draw(st.integers(-3, 0))
    elif mutation == "features-not-int":
        out_features = data.draw(st.sampled_from([2.5, "4", None, (2,)]))
    elif mutation == "input-features":
        shape = (2, data.draw(st.integers(0, 7).filter(lambda n: n != in_features)))
    elif mutation == "input-0d":
        shape = ()
    else:
        dtype = data.draw(st.sampled_from([np.float64, np.int32, np.bool_]))
    raises_clear_error(lambda: nn.Linear(in_features, out_features)(mc.Tensor(np.ones(shape, dtype))))


@FUZZ
@given(st.sampled_from(["BatchNorm1d", "BatchNorm2d"]), st.integers(1, 4),
       st.sampled_from(["features<=0", "input-channels", "input-rank", "one-value-per-channel", "input-dtype"]),
       st.data())
def test_invalid_batchnorm_configurations_raise_value_or_type_errors(name, channels, mutation, data):
    shape = [3, channels] + ([] if name == "BatchNorm1d" else [2, 2])
    dtype, features = np.float32, channels
    if mutation == "features<=0":
        features = data.draw(st.integers(-3, 0))
    elif mutation == "input-channels":
        shape[1] = data.draw(st.integers(0, 6).filter(lambda c: c != channels))
    elif mutation == "input-rank":
        shape = data.draw(st.sampled_from([[3], [3, channels, 2, 2, 2]] + ([[3, channels]] if name == "BatchNorm2d" else [])))
    elif mutation == "one-value-per-channel":
        shape = [1, channels] + ([] if name == "BatchNorm1d" else [1, 1])
    else:
        dtype = data.draw(st.sampled_from([np.float64, np.int64]))
    raises_clear_error(lambda: nn.__dict__[name](features)(mc.Tensor(np.ones(shape, dtype))))


@FUZZ
@given(st.integers(1, 6), st.sampled_from(["size<=0", "input-rank", "input-dtype", "scaling"]), st.data())
def test_invalid_lrn_configurations_raise_value_or_type_errors(size, mutation, data):
    shape, dtype, scaling = (2, 4, 3, 3), np.float32, "pytorch"
    if mutation == "size<=0":
        size = data.draw(st.sampled_from([0, -1, 2.5]))
    elif mutation == "input-rank":
        shape = data.draw(st.sampled_from([(4,), (2, 4)]))
    elif mutation == "input-dtype":
        dtype = np.int32
    else:
        scaling = data.draw(st.sampled_from(["caffe", None]))
    raises_clear_error(lambda: nn.LocalResponseNorm(size, alpha_scaling=scaling)(mc.Tensor(np.ones(shape, dtype))))
