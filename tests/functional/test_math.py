import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import minicnn as mc
from minicnn import functional as F
from tests.helpers import randt

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
}


@pytest.mark.parametrize("op", BINARY)
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 1), (1, 5)), ((), (2, 2))])
def test_binary_ops_pass_gradcheck_with_broadcasting(xp, rng, op, shapes):
    a = randt(xp, rng, *shapes[0], low=0.5, high=1.5)
    b = randt(xp, rng, *shapes[1], low=0.5, high=1.5)
    assert mc.gradcheck(BINARY[op], [a, b])


@pytest.mark.parametrize("op", ["exp", "log", "sqrt", "neg"])
def test_unary_ops_pass_gradcheck(xp, rng, op):
    x = randt(xp, rng, 3, 4, low=0.5, high=2.0)
    assert mc.gradcheck(getattr(F, op), [x])


def test_clip_passes_gradcheck_away_from_the_edges(xp, rng):
    x = randt(xp, rng, 4, 5, low=-2, high=2)
    x.data[np.abs(mc.to_numpy(x.data) - 0.5) < 1e-3] = 0.0
    assert mc.gradcheck(lambda t: t.clip(-0.5, 0.5), [x])


def test_scalars_mix_in_on_either_side(xp, rng):
    x = randt(xp, rng, 3, low=0.5, high=1.5)
    assert mc.gradcheck(lambda t: 2.0 - t * 3 + 1 / t + 2 ** t, [x])


@pytest.mark.parametrize("shapes", [((3, 4), (4, 5)), ((2, 3, 4), (4, 2)), ((2, 1, 3, 4), (5, 4, 2)),
                                    ((4,), (4, 3)), ((3, 4), (4,)), ((4,), (4,))])
def test_matmul_passes_gradcheck_including_batched_and_1d(xp, rng, shapes):
    a, b = randt(xp, rng, *shapes[0]), randt(xp, rng, *shapes[1])
    out = a @ b
    assert out.shape == np.matmul(np.zeros(shapes[0]), np.zeros(shapes[1])).shape
    assert mc.gradcheck(lambda p, q: p @ q, [a, b])


@pytest.mark.parametrize("reduction", ["sum", "mean", "max"])
@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_pass_gradcheck(xp, rng, reduction, axis, keepdims):
    x = randt(xp, rng, 2, 3, 4)
    out = getattr(x, reduction)(axis=axis, keepdims=keepdims)
    expected = getattr(np, {"max": "amax"}.get(reduction, reduction))(mc.to_numpy(x.data), axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(mc.to_numpy(out.data), expected)
    assert mc.gradcheck(lambda t: getattr(t, reduction)(axis=axis, keepdims=keepdims), [x])


def test_max_splits_the_gradient_between_ties(xp):
    x = mc.Tensor(xp.asarray([1.0, 3.0, 3.0]), requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(mc.to_numpy(x.grad.data), [0.0, 0.5, 0.5])


def test_float32_in_gives_float32_out_and_float32_grads(xp, rng):
    x = randt(xp, rng, 3, 4, dtype=np.float32, low=0.5, high=1.5)
    w = randt(xp, rng, 4, 2, dtype=np.float32)
    y = ((x * 2.5 + 1) @ w).exp().log().sqrt().mean() / 3
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32


def test_shapes_that_do_not_broadcast_raise_value_error_naming_both(xp, rng):
    a, b = randt(xp, rng, 3, 4), randt(xp, rng, 5)
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(5,\)"):
        a + b


def test_matmul_mismatch_names_both_shapes(xp, rng):
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(5, 2\)"):
        randt(xp, rng, 3, 4) @ randt(xp, rng, 5, 2)


@pytest.mark.parametrize("bad", ["a string", [1.0, 2.0], {"k": 1}, None])
def test_a_non_array_operand_raises_type_error_naming_its_type(xp, rng, bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        F.add(randt(xp, rng, 2), bad)


@settings(max_examples=25, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
       op=st.sampled_from(["add", "sub", "mul", "div"]))
def test_broadcasting_grads_reduce_to_each_input_shape(shapes, op):
    """Property: for any two broadcastable shapes, each grad has its input's shape and
    equals the finite-difference gradient."""
    rng = np.random.default_rng(0)
    a_shape, b_shape = shapes.input_shapes
    a = mc.Tensor(rng.uniform(0.5, 1.5, a_shape), requires_grad=True)
    b = mc.Tensor(rng.uniform(0.5, 1.5, b_shape), requires_grad=True)
    assert BINARY[op](a, b).shape == shapes.result_shape
    BINARY[op](a, b).sum().backward()
    assert a.grad.shape == a_shape and b.grad.shape == b_shape
    assert mc.gradcheck(BINARY[op], [a, b])
