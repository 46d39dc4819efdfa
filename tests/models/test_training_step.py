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
    x = mc.Tensor(rng.standard_normal((4,) + shape).astype(np.float32))
    y = rng.integers(0, 10, size=4)
    losses = []
    for _ in range(2):
        loss = loss_on(model, x, y, seed=1)
        losses.append(float(loss.data))
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            assert p.grad is not None and p.grad.data.dtype == np.float32
            p.data -= lr * p.grad.data
    losses.append(float(loss_on(model, x, y, seed=1).data))
    assert all(b < a for a, b in zip(losses, losses[1:])), losses


@pytest.mark.parametrize("name", ["densenet121", pytest.param("resnet50", marks=pytest.mark.slow)])
def test_backward_through_a_deep_net_reaches_every_parameter(name):
    rng = np.random.default_rng(0)
    model = models.get_model(name, num_classes=10, in_channels=1).train()
    x = mc.Tensor(rng.standard_normal((2, 1, 32, 32)).astype(np.float32))
    F.cross_entropy(model(x), np.array([1, 7])).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not np.isfinite(p.grad.data).all()]
    assert not missing


def test_googlenet_aux_losses_train_the_aux_heads():
    rng = np.random.default_rng(0)
    model = models.googlenet(num_classes=10, in_channels=1).train()
    x = mc.Tensor(rng.standard_normal((2, 1, 32, 32)).astype(np.float32))
    y = np.array([3, 5])
    logits, aux2, aux1 = model(x)
    loss = F.cross_entropy(logits, y) + 0.3 * (F.cross_entropy(aux1, y) + F.cross_entropy(aux2, y))
    loss.backward()
    assert model.aux1.fc2.weight.grad is not None and model.aux2.conv.conv.weight.grad is not None
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("name, shape", [("mnist_cnn", (1, 28, 28)), ("lenet", (1, 28, 28)),
                                         ("cifar_resnet", (3, 32, 32))])
def test_the_loss_changes_along_the_gradient_by_its_squared_norm(name, shape):
    """The whole network's gradient, checked numerically without PyTorch: moving every weight by
    +h*g and -h*g changes the loss by 2*h*|g|^2 to first order, whatever the weights are
    (a central difference along the gradient; the second-order terms cancel). The step moves the
    weights by 1e-5 of their norm: small enough that few ReLU/max-pool switches flip, large enough
    that the change stands far above float32 rounding. A gradient 10 % off fails."""
    rng = np.random.default_rng(0)
    model = models.get_model(name).train()
    x = mc.Tensor(rng.standard_normal((4,) + shape).astype(np.float32))
    y = rng.integers(0, 10, size=4)
    model.zero_grad()
    loss_on(model, x, y, seed=1).backward()
    params = list(model.parameters())
    grads = [p.grad.data.astype(np.float64) for p in params]
    squared_norm = sum(float((g * g).sum()) for g in grads)
    originals = [p.data.copy() for p in params]
    weight_norm = np.sqrt(sum(float((w.astype(np.float64) ** 2).sum()) for w in originals))
    h = 1e-5 * weight_norm / np.sqrt(squared_norm)

    def loss_moved(sign):
        for p, w, g in zip(params, originals, grads):
            p.data[...] = (w + sign * h * g).astype(np.float32)
        with mc.no_grad():
            return float(loss_on(model, x, y, seed=1).data)
    change = loss_moved(+1.0) - loss_moved(-1.0)
    assert change == pytest.approx(2 * h * squared_norm, rel=0.02)
