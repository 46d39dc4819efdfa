"""A training step keeps everything float32: parameters, gradients, optimizer state, loss.

A single Python float or np.float64 scalar in an op or optimizer would silently promote
arrays to float64 (twice the memory and time); these tests catch that on whole models."""
import numpy as np
import pytest

import minicnn as mc
from minicnn import functional as F, optim


def _float_arrays(obj):
    """Every floating ndarray inside an optimizer state (dicts/lists of arrays or Tensors)."""
    if isinstance(obj, mc.Tensor):
        obj = obj.data
    if isinstance(obj, np.ndarray):
        return [obj] if obj.dtype.kind == "f" else []
    if isinstance(obj, dict):
        return [a for v in obj.values() for a in _float_arrays(v)]
    if isinstance(obj, (list, tuple)):
        return [a for v in obj for a in _float_arrays(v)]
    return []


@pytest.mark.parametrize("name,kwargs,shape", [
    ("mnist_cnn", {}, (1, 28, 28)),
    ("alexnet", {"input_size": 67}, (1, 67, 67)),
])
@pytest.mark.parametrize("make_opt", [
    lambda p: optim.SGD(p, lr=0.01, momentum=0.9, weight_decay=1e-4),
    lambda p: optim.Adam(p, lr=1e-3),
], ids=["sgd_momentum", "adam"])
def test_training_step_keeps_parameters_grads_and_state_float32(name, kwargs, shape, make_opt):
    model = mc.models.get_model(name, num_classes=10, **kwargs)
    params = list(model.parameters())
    assert all(p.data.dtype == np.float32 for p in params), "freshly built parameters must be float32"
    opt = make_opt(params)
    rng = np.random.default_rng(0)
    x = mc.Tensor(rng.standard_normal((2,) + shape).astype(np.float32))
    y = rng.integers(0, 10, 2)
    for _ in range(2):  # the second step runs with optimizer state already created
        loss = F.cross_entropy(model(x), y)
        assert loss.data.dtype == np.float32
        opt.zero_grad()
        loss.backward()
        for n, p in model.named_parameters():
            assert p.grad is not None and p.grad.data.dtype == np.float32, f"grad of {n} is {p.grad.data.dtype}"
        opt.step()
    for n, p in model.named_parameters():
        assert p.data.dtype == np.float32, f"parameter {n} became {p.data.dtype} after a step"
    state = _float_arrays(opt.state_dict())
    assert state, "the optimizer should hold some float state after two steps"
    bad = [a.dtype for a in state if a.dtype != np.float32 and a.ndim > 0]
    assert not bad, f"optimizer state arrays not float32: {bad}"
