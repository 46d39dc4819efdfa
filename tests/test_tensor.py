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
