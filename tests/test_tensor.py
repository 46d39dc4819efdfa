import gc
import weakref

import numpy as np
import pytest

import minicnn as mc
from tests.helpers import randt


def test_a_tensor_used_twice_accumulates_both_paths(xp):
    x = mc.Tensor(xp.asarray(3.0), requires_grad=True)
    a = x * x          # diamond: x -> a, x -> b, (a, b) -> y
    b = x * 2.0
    y = a + b
    y.backward()
    assert y.item() == 15.0
    assert x.grad.item() == pytest.approx(2 * 3.0 + 2.0)


def test_a_10000_op_chain_backpropagates_without_recursion(xp):
    x = mc.Tensor(xp.asarray(1.0), requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001 ** 10_000)


def test_no_grad_builds_no_graph(xp, rng):
    x = randt(xp, rng, 3)
    with mc.no_grad():
        y = (x * 2).sum()
    assert y.creator is None and not y.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_no_grad_works_as_a_decorator_and_restores_the_mode(xp, rng):
    @mc.no_grad()
    def f(t):
        return t * 2
    assert not f(randt(xp, rng, 2)).requires_grad
    assert mc.is_grad_enabled()


def test_the_graph_is_freed_after_backward(xp, rng):
    x = randt(xp, rng, 4)
    hidden = x.exp()
    ref = weakref.ref(hidden)
    loss = (hidden * 3).sum()
    del hidden
    gc.collect()
    assert ref() is not None  # still held by the graph
    loss.backward()
    gc.collect()
    assert ref() is None


def test_retain_graph_allows_a_second_backward_that_accumulates(xp, rng):
    x = randt(xp, rng, 3)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    first = mc.to_numpy(x.grad.data).copy()
    y.backward()
    np.testing.assert_allclose(mc.to_numpy(x.grad.data), 2 * first)


def test_backward_twice_through_a_freed_graph_raises(xp, rng):
    x = randt(xp, rng, 3)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_backward_on_a_non_scalar_without_grad_names_the_shape(xp, rng):
    y = randt(xp, rng, 2, 3) * 2
    with pytest.raises(RuntimeError, match=r"\(2, 3\)"):
        y.backward()
    y.backward(xp.ones((2, 3)))


def test_backward_with_a_wrongly_shaped_grad_is_refused(xp, rng):
    y = randt(xp, rng, 2, 3) * 2
    with pytest.raises(ValueError, match=r"expected grad of shape \(2, 3\), got \(3, 2\)"):
        y.backward(xp.ones((3, 2)))


def test_inputs_that_do_not_require_grad_get_none(xp, rng):
    x, c = randt(xp, rng, 3), randt(xp, rng, 3, requires_grad=False)
    (x * c).sum().backward()
    assert c.grad is None and x.grad is not None


def test_detach_cuts_the_graph(xp, rng):
    x = randt(xp, rng, 3)
    y = (x * 2).detach() * x
    y.sum().backward()
    np.testing.assert_allclose(mc.to_numpy(x.grad.data), 2 * mc.to_numpy(x.data))


def test_tensor_keeps_dtype_and_reports_numpy_and_item(xp):
    t = mc.Tensor(xp.arange(6, dtype=np.float32).reshape(2, 3))
    assert t.dtype == np.float32 and t.shape == (2, 3) and t.ndim == 2 and len(t) == 2
    assert isinstance(t.numpy(), np.ndarray)
    assert t.sum().item() == 15.0
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        t.item()


def test_tensor_rejects_a_non_array_and_integer_grads():
    with pytest.raises(TypeError, match="dict"):
        mc.Tensor({"a": 1})
    with pytest.raises(TypeError, match="int64"):
        mc.Tensor(np.arange(3), requires_grad=True)


def test_ndarray_on_the_left_defers_to_the_tensor(xp, rng):
    x = randt(xp, rng, 3)
    y = xp.ones(3) - x
    assert isinstance(y, mc.Tensor) and y.requires_grad


# --- PyTorch's spellings ---------------------------------------------------------------
def test_equality_is_elementwise_not_a_silent_python_bool():
    a, b = mc.tensor([1.0, 2.0, 3.0]), mc.tensor([1.0, 0.0, 3.0])
    eq = a == b
    # before, Tensor had no __eq__: `a == b` was Python's identity test, a silent False
    assert isinstance(eq, mc.Tensor) and eq.dtype == mc.bool and eq.tolist() == [True, False, True]
    assert (a != b).tolist() == [False, True, False]
    assert (a == 2.0).tolist() == [False, True, False] and (2.0 == a).tolist() == [False, True, False]
    assert (a < b).tolist() == [False, False, False] and (a <= b).tolist() == [True, False, True]
    assert (a > b).tolist() == [False, True, False] and (a >= b).tolist() == [True, True, True]
    assert (np.array([1.0, 5.0, 3.0]) == a).tolist() == [True, False, True]
    assert float((a == b).float().mean()) == pytest.approx(2 / 3)   # d2l's accuracy


def test_tensors_still_hash_by_identity_for_dicts_and_sets():
    a, b = mc.zeros(2), mc.zeros(2)
    table = {a: "a", b: "b"}
    assert table[a] == "a" and table[b] == "b" and len({a, b}) == 2
    assert a in [a] and (a == None) is False  # noqa: E711 - comparing with None is not elementwise
    with pytest.raises(RuntimeError, match="ambiguous"):   # as in PyTorch: `in` compares elementwise
        a in [b, a]


def test_truth_value_needs_one_element():
    assert bool(mc.tensor([2.0])) and not bool(mc.tensor(0.0))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(mc.ones(2))


def test_python_numbers_and_formatting():
    x = mc.tensor([[2.5]])
    assert x.item() == 2.5 and float(x) == 2.5 and int(x) == 2 and f"{x:.3f}" == "2.500"
    assert f"{mc.tensor(3.0).sum():.1f}" == "3.0" and "Tensor" in f"{mc.ones(2)}"
    assert [10, 20, 30][mc.tensor(1)] == 20
    with pytest.raises(ValueError, match="one element"):
        mc.ones(2).item()
    with pytest.raises(TypeError, match="one element"):
        f"{mc.ones(2):.2f}"


def test_shape_methods():
    x = mc.arange(6.0).reshape(2, 3)
    assert x.t().shape == (3, 2) and x.t().tolist() == x.data.T.tolist()
    assert x.view(3, 2).shape == (3, 2) and x.view(-1).shape == (6,) and x.view((1, 6)).shape == (1, 6)
    assert x.unsqueeze(0).shape == (1, 2, 3) and x.unsqueeze(-1).shape == (2, 3, 1)
    assert x.unsqueeze(0).squeeze().shape == (2, 3) and x.unsqueeze(1).squeeze(1).shape == (2, 3)
    assert x.squeeze(0).shape == (2, 3)
    assert x.numel() == 6 and x.dim() == 2 and x.size() == (2, 3) and x.size(1) == 3 and x.size(-2) == 2
    assert x.size == 6   # NumPy's element count: still an int
    assert x.flatten().shape == (6,) and x.reshape(2, 1, 3).flatten(1).shape == (2, 3)
    with pytest.raises(ValueError, match="out of range"):
        x.t().unsqueeze(4)
    with pytest.raises(ValueError, match="at most 2 dimensions"):
        mc.ones(2, 2, 2).t()


def test_flatten_with_a_dim_out_of_range_names_the_range():
    x = mc.ones(2, 3)
    with pytest.raises(ValueError, match=r"dim 5 is out of range .* 2 dimensions .*\[-2, 1\]"):
        x.flatten(5)
    with pytest.raises(ValueError, match="comes after"):
        mc.ones(2, 3, 4).flatten(2, 1)
    with pytest.raises(TypeError, match="integer dim"):
        x.flatten(1.5)


def test_a_string_tensor_is_a_type_error_naming_the_dtype():
    with pytest.raises(TypeError, match="<U1"):
        mc.Tensor(np.array(["a"]))
    with pytest.raises(TypeError, match="object"):
        mc.Tensor(np.array([None]))


def test_reductions_take_dim_and_keepdim_beside_axis_and_keepdims():
    x = mc.arange(24.0).reshape(2, 3, 4)
    for name in ("sum", "mean", "max", "min"):
        ours = getattr(x, name)(dim=(0, 2), keepdim=True)
        assert ours.shape == (1, 3, 1)
        assert np.allclose(ours.data, getattr(x.data, name)(axis=(0, 2), keepdims=True))
        assert getattr(x, name)(axis=1).shape == (2, 4) and getattr(x, name)(dim=0).shape == (3, 4)
    with pytest.raises(TypeError, match="not both"):
        x.sum(axis=0, dim=1)


def test_argmax_and_argmin_take_dim():
    x = mc.tensor([[1.0, 9.0, 3.0], [7.0, 0.0, 8.0]])
    assert x.argmax(dim=1).tolist() == [1, 2] and x.argmin(dim=1).tolist() == [0, 1]
    assert x.argmax(axis=0).tolist() == [1, 0, 1] and x.argmax().item() == 1
    assert x.argmax(dim=1, keepdim=True).shape == (2, 1) and x.argmax().dtype == mc.int64


def test_dtype_conversions_keep_the_graph():
    x = mc.tensor([1.5, 2.5], requires_grad=True)
    assert x.type() == "minicnn.float32" and x.type(mc.float64).dtype == mc.float64
    assert x.double().dtype == mc.float64 and x.float().dtype == mc.float32 and x.half().dtype == mc.float16
    assert x.long().dtype == mc.int64 and x.long().tolist() == [1, 2] and x.int().dtype == mc.int32
    (x.double() * 2).sum().backward()
    assert x.grad.dtype == mc.float32 and x.grad.tolist() == [2.0, 2.0]


def test_to_takes_a_device_a_dtype_or_a_tensor():
    x = mc.ones(2)
    assert x.device == "cpu" and x.to("cpu") is x and x.to("numpy") is x
    assert x.to(mc.float64).dtype == mc.float64 and x.to("float64").dtype == mc.float64
    assert x.to("cpu", mc.float16).dtype == mc.float16 and x.to(mc.zeros(1, dtype=mc.int64)).dtype == mc.int64
    assert x.to(dtype=mc.float64).dtype == mc.float64


def test_detach_clone_and_in_place_fills():
    x = mc.ones(2, requires_grad=True)
    d = x.detach()
    assert isinstance(d, mc.Tensor) and not d.requires_grad and d.data is x.data
    c = x.clone()
    (c * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0] and c.data is not x.data
    x.grad.zero_()
    assert x.grad.tolist() == [0.0, 0.0]
    assert mc.zeros(2).fill_(4).tolist() == [4.0, 4.0]
    assert mc.zeros(2).requires_grad_().requires_grad


def test_setitem_writes_in_place_and_bumps_the_version():
    x = mc.ones((6, 8))
    x[:, 2:6] = 0
    assert x.data[:, 2:6].sum() == 0 and x.data.sum() == 24 and x._version == 1
    x[mc.tensor([0, 1]), 0] = mc.tensor(5.0)
    assert x.data[:2, 0].tolist() == [5.0, 5.0] and x._version == 2
    x[x > 4] = -1     # a bool Tensor as mask
    assert x.data[:2, 0].tolist() == [-1.0, -1.0]
    assert x[mc.tensor([0, 1]), 0].tolist() == [-1.0, -1.0]


def test_setitem_refuses_what_autograd_cannot_record():
    w = mc.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w[0] = 2.0
    with mc.no_grad():
        w[0] = 2.0
    assert w.data[0] == 2.0
    y = mc.zeros(3)
    with pytest.raises(RuntimeError, match="value requires grad"):
        y[0] = (w * 2).sum()
    y[0] = (w * 2).sum().detach()
    assert y.data[0] == 8.0


def test_in_place_operators_update_the_data_or_stay_in_the_graph():
    t = mc.zeros(3)
    data = t.data
    t += 1
    t *= 4
    t -= mc.ones(3)
    t /= 3
    assert t.data is data and t.tolist() == [1.0, 1.0, 1.0] and t._version == 4
    w = mc.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        w -= 1
    with mc.no_grad():
        w -= 0.5             # d2l's sgd: param -= lr * param.grad
    assert w.tolist() == [0.5, 0.5] and w._version == 1
    y = w * 2
    y += w                   # ResNet's Y += X: a graph tensor, so done out of place
    y.sum().backward()
    assert w.grad.tolist() == [3.0, 3.0]


def test_data_is_the_raw_array_and_updates_through_it_work():
    w = mc.nn.Parameter(mc.ones(3))
    w.grad = mc.full((3,), 2.0)
    data = w.data
    w.data -= 0.5 * w.grad
    w.data[:] -= 0.25 * w.grad
    assert isinstance(w.data, np.ndarray) and w.data is data
    assert w.data.tolist() == [-0.5, -0.5, -0.5]
    assert isinstance(np.ones(3) + w, mc.Tensor) and (np.ones(3) * w).requires_grad
    assert np.asarray(w).tolist() == w.data.tolist()


# --- version counters ------------------------------------------------------------------
def test_a_saved_tensor_changed_in_place_is_refused_at_backward():
    x = mc.tensor([1.0, 2.0], requires_grad=True)
    w = mc.tensor([3.0, 4.0])
    y = (x * w).sum()
    w[0] = 10.0                        # Mul saved w to compute dy/dx
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation: input 1 of Mul .*shape \(2,\)"
                                           r".*version 1; expected version 0"):
        y.backward()


def test_a_change_to_an_unsaved_input_is_allowed_as_in_pytorch():
    x = mc.tensor([1.0, 2.0], requires_grad=True)
    b = mc.tensor([3.0, 4.0])
    y = (x + b).sum()                  # Add keeps no input for backward
    b[0] = 10.0
    y.backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_optimizer_step_between_forward_and_backward_is_caught():
    net = mc.nn.Sequential(mc.nn.Linear(3, 4), mc.nn.ReLU(), mc.nn.Linear(4, 2))
    x = mc.randn(5, 3)
    for opt in (mc.optim.SGD(net.parameters(), lr=0.1, momentum=0.9), mc.optim.Adam(net.parameters())):
        net(x).sum().backward()
        loss = net(x).sum()
        opt.step()                     # changes the weights the second Linear saved
        with pytest.raises(RuntimeError, match="input 1 of Linear.*shape \\(2, 4\\)"):
            loss.backward()
        net.zero_grad()


def test_the_right_order_still_trains():
    net = mc.nn.Linear(3, 1)
    opt = mc.optim.SGD(net.parameters(), lr=0.1)
    x, y = mc.randn(8, 3), mc.randn(8, 1)
    losses = []
    for _ in range(5):
        loss = ((net(x) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_detach_shares_the_version_counter():
    x = mc.tensor([1.0, 2.0], requires_grad=True)
    w = mc.tensor([3.0, 4.0])
    y = (x * w).sum()
    w.detach()[1] = 0.0
    with pytest.raises(RuntimeError, match="inplace"):
        y.backward()
