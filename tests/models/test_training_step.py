"""A gradient step of each small zoo model lowers the loss on a fixed batch."""
import numpy as np
import pytest

import minicnn as mc
from minicnn import functional as F
from minicnn import models


def loss_on(model, x, y, seed):
    mc.manual_seed(seed)          # the same dropout masks before and after the step
    return F.cross_entropy(model(x), y)


@pytest.mark.parametrize("name, shape, lr", [
    ("mnist_cnn", (1, 28, 28), 0.001),
    ("lenet", (1, 28, 28), 0.05),
    ("nin", (1, 96, 96), 0.05),           # d2l trains it at 224; 96 runs the same layers in a tenth of the time
    ("cifar_resnet", (3, 32, 32), 0.01),
])
def test_sgd_steps_decrease_the_loss_on_a_fixed_batch(name, shape, lr):
    rng = np.random.default_rng(0)
    model = models.get_model(name).train()
    x = mc.Tensor(rng.standard_normal((8,) + shape).astype(np.float32))
    y = rng.integers(0, 10, size=8)
    losses = []
    for _ in range(3):
        loss = loss_on(model, x, y, seed=1)
        losses.append(float(loss.data))
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            assert p.grad is not None and p.grad.data.dtype == np.float32
            p.data -= lr * p.grad.data
    losses.append(float(loss_on(model, x, y, seed=1).data))
    assert all(b < a for a, b in zip(losses, losses[1:])), losses
