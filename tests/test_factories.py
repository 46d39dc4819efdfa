"""mc.tensor, mc.zeros, ... : PyTorch's factories, float32 by default, from the library RNG."""
import numpy as np
import pytest

import minicnn as mc
from tests.helpers import try_import_torch

torch = try_import_torch()


@pytest.mark.parametrize("make", [
    lambda: mc.zeros(2, 3), lambda: mc.zeros((2, 3)), lambda: mc.zeros([2, 3]), lambda: mc.zeros(size=(2, 3)),
    lambda: mc.ones(2, 3), lambda: mc.full((2, 3), 1.5), lambda: mc.rand(2, 3), lambda: mc.rand(size=(2, 3)),
    lambda: mc.randn(2, 3), lambda: mc.normal(0, 1, (2, 3)), lambda: mc.eye(2, 3),
    lambda: mc.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), lambda: mc.arange(0.0, 6.0).reshape(2, 3),
])
def test_floating_factories_default_to_float32_and_take_every_size_spelling(make):
    x = make()
    assert x.shape == (2, 3) and x.dtype == mc.float32 and not x.requires_grad


def test_integer_and_bool_defaults_follow_pytorch():
    assert mc.tensor([1, 2]).dtype == mc.int64
    assert mc.tensor([True, False]).dtype == mc.bool
    assert mc.arange(5).dtype == mc.int64 and mc.arange(5).tolist() == [0, 1, 2, 3, 4]
    assert mc.arange(1, 2, 0.5).dtype == mc.float32 and mc.arange(1, 2, 0.5).tolist() == [1.0, 1.5]
    assert mc.full((2,), 7).dtype == mc.int64 and mc.full((2,), True).dtype == mc.bool
    assert mc.randint(0, 10, (50,)).dtype == mc.int64


def test_dtype_and_requires_grad_arguments_are_honoured():
    x = mc.zeros(2, dtype=mc.float64, requires_grad=True)
    assert x.dtype == np.float64 and x.requires_grad
    assert mc.ones(2, dtype="int32").dtype == mc.int32
    assert mc.arange(16, dtype=mc.float32).dtype == mc.float32
    assert mc.tensor([1, 2], dtype=mc.float16).dtype == mc.float16
    assert mc.tensor(np.arange(3.0)).dtype == mc.float64   # an array keeps its dtype, as torch.tensor


def test_tensor_copies_its_data():
    a = np.zeros(3, dtype=np.float32)
    t = mc.tensor(a)
    a[0] = 5
    assert t.tolist() == [0, 0, 0]
    assert mc.tensor([mc.tensor(1.0), mc.tensor(2.0)]).tolist() == [1.0, 2.0]


def test_like_factories_keep_shape_and_dtype():
    x = mc.zeros(2, 3, dtype=mc.float64)
    assert mc.zeros_like(x).dtype == mc.float64 and mc.ones_like(x).tolist() == [[1, 1, 1]] * 2
    assert mc.ones_like(x, dtype=mc.int64).dtype == mc.int64


def test_random_factories_draw_from_the_library_rng():
    mc.manual_seed(3)
    a = [mc.rand(4), mc.randn(4), mc.normal(1.0, 2.0, (4,)), mc.randint(10, (4,))]
    mc.manual_seed(3)
    b = [mc.rand(4), mc.randn(4), mc.normal(1.0, 2.0, (4,)), mc.randint(10, (4,))]
    assert all(np.array_equal(x.data, y.data) for x, y in zip(a, b))
    assert not np.array_equal(a[0].data, mc.rand(4).data)


def test_random_factories_have_the_right_distribution():
    mc.manual_seed(0)
    u, n = mc.rand(20000), mc.normal(3.0, 2.0, size=(20000,))
    assert 0 <= u.min().item() and u.max().item() < 1 and abs(u.mean().item() - 0.5) < 0.01
    assert abs(n.mean().item() - 3.0) < 0.05 and abs(n.data.std() - 2.0) < 0.05
    r = mc.randint(2, 5, size=(1000,))
    assert set(r.tolist()) == {2, 3, 4}


def test_normal_with_tensor_mean_draws_elementwise():
    mean = mc.tensor([0.0, 100.0])
    assert mc.normal(mean, 0.001).data.round().tolist() == [0.0, 100.0]


def test_cat_and_stack_take_dim_and_pass_gradients():
    a = mc.ones(2, 3, requires_grad=True)
    b = mc.zeros(2, 3, requires_grad=True)
    assert mc.cat((a, b), dim=1).shape == (2, 6) and mc.cat([a, b]).shape == (4, 3)
    assert mc.stack((a, b), dim=1).shape == (2, 2, 3) and mc.stack([a, b], 0).shape == (2, 2, 3)
    (mc.cat((a, b), dim=1) * mc.arange(6.0)).sum().backward()
    assert a.grad.tolist() == [[0, 1, 2]] * 2 and b.grad.tolist() == [[3, 4, 5]] * 2


def test_free_functions_match_numpy():
    x = mc.tensor([[1.0, -4.0], [9.0, 16.0]])
    assert mc.abs(x).tolist() == [[1, 4], [9, 16]]
    assert mc.sqrt(mc.abs(x)).tolist() == [[1, 2], [3, 4]]
    assert np.allclose(mc.exp(x).data, np.exp(x.data)) and np.allclose(mc.log(mc.abs(x)).data, np.log(np.abs(x.data)))
    assert mc.matmul(x, mc.eye(2)).tolist() == x.tolist()
    assert mc.maximum(x, mc.tensor(2.0)).tolist() == [[2, 2], [9, 16]]
    assert mc.where(x > 0, x, mc.zeros_like(x)).tolist() == [[1, 0], [9, 16]]


@pytest.mark.parametrize("op", ["abs", "maximum", "where"])
def test_select_ops_pass_gradcheck(op, rng):
    a = mc.Tensor(rng.uniform(-1, 1, (3, 4)), requires_grad=True)
    b = mc.Tensor(rng.uniform(-1, 1, (4,)), requires_grad=True)
    fns = {"abs": (lambda a: mc.abs(a), [a]),
           "maximum": (lambda a, b: mc.maximum(a, b), [a, b]),
           "where": (lambda a, b: mc.where(a > 0.2, a, b), [a, b])}
    fn, inputs = fns[op]
    assert mc.gradcheck(fn, inputs)


def test_maximum_splits_the_gradient_on_ties_as_pytorch():
    a, b = mc.tensor([1.0, 2.0], requires_grad=True), mc.tensor([1.0, 1.0], requires_grad=True)
    mc.maximum(a, b).sum().backward()
    assert a.grad.tolist() == [0.5, 1.0] and b.grad.tolist() == [0.5, 0.0]


def test_bad_arguments_raise_typed_errors():
    with pytest.raises(ValueError, match="non-negative"):
        mc.zeros(-1, 2)
    with pytest.raises(TypeError, match="size"):
        mc.zeros("a")
    with pytest.raises(TypeError, match="floating dtype"):
        mc.rand(2, dtype=mc.int64)
    with pytest.raises(TypeError, match="dtype"):
        mc.zeros(2, dtype="string")
    with pytest.raises(TypeError, match="numbers"):
        mc.tensor(["a"])
    with pytest.raises(TypeError, match="list or tuple"):
        mc.cat(mc.ones(2))
    with pytest.raises(ValueError, match="non-empty"):
        mc.stack([])
    with pytest.raises(ValueError, match="low < high"):
        mc.randint(5, 5, (2,))
    with pytest.raises(TypeError, match="boolean condition"):
        mc.where(mc.ones(2), mc.ones(2), mc.zeros(2))
    with pytest.raises(ValueError, match="step"):
        mc.arange(0, 1, 0)


def test_dtype_names_are_numpy_dtypes():
    assert mc.float32 == np.float32 and mc.float64 == np.float64 and mc.float16 == np.float16
    assert mc.int64 == np.int64 and mc.int32 == np.int32 and mc.bool == np.bool_
    assert mc.zeros(1).dtype == mc.float32


@pytest.mark.skipif(torch is None, reason="torch not installed")
def test_factories_give_the_same_shapes_and_dtypes_as_torch():
    for name, args in [("zeros", (2, 3)), ("ones", ((2, 3),)), ("rand", (2,)), ("randn", (2, 1)), ("eye", (3,))]:
        ours, theirs = getattr(mc, name)(*args), getattr(torch, name)(*args)
        assert ours.shape == tuple(theirs.shape) and str(ours.dtype) == str(theirs.dtype).split(".")[1]
    for args in [(5,), (1, 2, 0.25), (0.0, 3.0)]:
        assert mc.arange(*args).tolist() == torch.arange(*args).tolist()
        assert str(mc.arange(*args).dtype) == str(torch.arange(*args).dtype).split(".")[1]
    for data in [[1, 2], [1.5], [[True]]]:
        assert str(mc.tensor(data).dtype) == str(torch.tensor(data).dtype).split(".")[1]
