"""relu(x, inplace=True) and add(a, b, inplace=True): the same values and gradients as the
out-of-place ops, one array less, and a RuntimeError wherever the write would corrupt a gradient."""
import numpy as np
import pytest

import minicnn as mc
from minicnn import functional as F, nn
from minicnn.models.resnet import BasicBlock


def _leaf(rng, *shape):
    return mc.Tensor(rng.standard_normal(shape), requires_grad=True)


def _residual(x, w, inplace):
    """relu(relu(x @ w) + x) with the two ReLUs and the add in or out of place."""
    h = F.relu(F.matmul(x, w), inplace=inplace)
    return F.relu(F.add(h, x, inplace=inplace), inplace=inplace)


def test_inplace_relu_and_add_give_the_gradients_of_the_out_of_place_ops():
    rng = np.random.default_rng(0)
    x, w = _leaf(rng, 5, 4), _leaf(rng, 4, 4)
    grads = []
    for inplace in (False, True):
        x.zero_grad(), w.zero_grad()
        y = _residual(x, w, inplace)
        (y * y).sum().backward()
        grads.append((y.numpy(), x.grad.numpy(), w.grad.numpy()))
    for expected, got in zip(*grads):
        np.testing.assert_array_equal(got, expected)


def test_inplace_ops_pass_gradcheck():
    rng = np.random.default_rng(1)
    x, w = _leaf(rng, 3, 4), _leaf(rng, 4, 4)
    assert mc.gradcheck(lambda x, w: _residual(x, w, inplace=True), [x, w])


def test_inplace_relu_writes_into_its_input_array_and_keeps_nan():
    x = mc.Tensor(np.array([-1.0, 0.0, 2.0, np.nan]))
    y = F.relu(x, inplace=True)
    assert y.data is x.data
    np.testing.assert_array_equal(y.numpy(), [0.0, 0.0, 2.0, np.nan])


def test_inplace_add_writes_into_its_first_operand_and_broadcasts_the_second():
    a, b = mc.Tensor(np.ones((2, 3))), mc.Tensor(np.arange(3.0))
    y = F.add(a, b, inplace=True)
    assert y.data is a.data
    np.testing.assert_array_equal(y.numpy(), np.ones((2, 3)) + np.arange(3.0))


def test_inplace_add_refuses_a_result_of_another_shape_or_dtype():
    with pytest.raises(ValueError, match="a's shape"):
        F.add(mc.Tensor(np.ones(3)), mc.Tensor(np.ones((2, 3))), inplace=True)
    with pytest.raises(ValueError, match="dtype"):
        F.add(mc.Tensor(np.ones(3, np.float32)), mc.Tensor(np.ones(3)), inplace=True)


def test_inplace_relu_on_a_leaf_that_requires_grad_raises():
    x = mc.Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        F.relu(x, inplace=True)
    with mc.no_grad():   # outside autograd a parameter may be changed in place
        F.relu(x, inplace=True)


def test_inplace_relu_on_an_output_its_creator_kept_raises():
    x = mc.Tensor(np.array([-1.0, 2.0]), requires_grad=True)
    y = F.sigmoid(x)              # SigmoidFunction keeps y for its backward
    before = y.numpy().copy()
    with pytest.raises(RuntimeError, match="SigmoidFunction kept its output"):
        F.relu(y, inplace=True)
    np.testing.assert_array_equal(y.numpy(), before)   # untouched


def test_inplace_relu_on_a_view_of_another_tensor_raises():
    x = mc.Tensor(np.array([[-1.0, 2.0]]), requires_grad=True)
    h = x * 1.0
    with pytest.raises(RuntimeError, match="view of an input"):
        F.relu(h.reshape(2), inplace=True)


def test_inplace_ops_chain_on_one_array_and_still_check_the_function_below():
    x = mc.Tensor(np.array([-1.0, 2.0]), requires_grad=True)
    h = F.sigmoid(x) - 0.5                         # SubFunction kept nothing: h may be overwritten
    y = F.relu(F.add(F.relu(h, inplace=True), 1.0, inplace=True), inplace=True)
    assert y.data is h.data
    np.testing.assert_allclose(y.numpy(), np.maximum(1 / (1 + np.exp(-x.numpy())) - 0.5, 0) + 1)
    s = F.sigmoid(x)
    with pytest.raises(RuntimeError, match="SigmoidFunction kept its output"):
        F.relu(s, inplace=True)


@pytest.mark.skipif(not hasattr(mc.Tensor, "_bump_version"), reason="tensors have no version counters")
def test_inplace_relu_on_a_tensor_another_function_kept_fails_at_backward():
    x = mc.Tensor(np.array([-1.0, 2.0]), requires_grad=True)
    h = x * 1.0
    z = h * x                     # MulFunction keeps h for x's gradient
    F.relu(h, inplace=True)       # changes h: the version counter records it
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_resnet_block_with_inplace_ops_matches_the_out_of_place_block():
    mc.manual_seed(0)
    block = BasicBlock(4, 4).double()
    x = mc.Tensor(np.random.default_rng(2).standard_normal((2, 4, 5, 5)), requires_grad=True)
    results = []
    for inplace in (True, False):
        for m in block.modules():
            if isinstance(m, nn.ReLU):
                m.inplace = inplace
        block.zero_grad()
        x.zero_grad()
        y = block(x) if inplace else _out_of_place_block(block, x)
        (y * y).sum().backward()
        results.append([y.numpy(), x.grad.numpy()] + [p.grad.numpy() for p in block.parameters()])
    for got, expected in zip(*results):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def _out_of_place_block(block, x):
    out = block.relu(block.bn1(block.conv1(x)))
    return block.relu(block.bn2(block.conv2(out)) + x)


def test_captured_conv_maps_are_not_rectified_by_the_inplace_relu_after_them():
    from minicnn import viz
    mc.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(inplace=True))
    x = np.random.default_rng(3).standard_normal((1, 1, 6, 6)).astype(np.float32)
    maps = viz.capture_activations(model, x)["0"]
    assert (maps < 0).any()


def test_alexnet_style_stack_with_inplace_relus_matches_the_out_of_place_stack():
    """conv - ReLU - max-pool - flatten - linear - ReLU - dropout-free linear, as the zoo uses it."""
    rng = np.random.default_rng(4)
    x = mc.Tensor(rng.standard_normal((2, 1, 8, 8)))
    results = []
    for inplace in (True, False):
        mc.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(inplace=inplace), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(48, 5), nn.ReLU(inplace=inplace), nn.Linear(5, 2)).double()
        y = model(x)
        (y * y).sum().backward()
        results.append([y.numpy()] + [p.grad.numpy() for p in model.parameters()])
    for got, expected in zip(*results):
        np.testing.assert_array_equal(got, expected)
