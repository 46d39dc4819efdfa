"""backward(retain_graph=True) keeps every op's saved arrays, so a second backward through the
same graph adds the same gradients again -- also for the ops that let go of their buffers
early (conv's im2col columns, Winograd's saved input) when the graph is not retained."""
import numpy as np
import pytest

import minicnn as mc
from minicnn import functional as F


def small_network_loss(x, w_conv, w_lin, bn_weight, bn_bias):
    h = F.conv2d(x, w_conv, padding=1)
    h = F.batch_norm(h, np.zeros(4), np.ones(4), bn_weight, bn_bias, training=True)
    h = F.relu(h)
    h = F.local_response_norm(h, 3)
    h = F.max_pool2d(h, 3, 2)
    logits = F.linear(h.reshape(h.shape[0], -1), w_lin)
    return F.cross_entropy(logits, np.array([0, 2]))


@pytest.mark.parametrize("algorithm, workspace_bytes", [
    ("im2col", None), ("im2col", 1), ("winograd", None)])   # 1 byte: columns rebuilt a chunk at a time
def test_a_second_backward_through_a_retained_graph_adds_the_same_gradients(
        monkeypatch, algorithm, workspace_bytes):
    monkeypatch.setattr(mc.backends.conv, "algorithm", algorithm)
    if workspace_bytes is not None:
        monkeypatch.setattr(mc.backends.conv, "workspace_bytes", workspace_bytes)
    rng = np.random.default_rng(0)
    leaves = [mc.Tensor(rng.standard_normal(shape), requires_grad=True)
              for shape in ((2, 3, 8, 8), (4, 3, 3, 3), (3, 4 * 3 * 3), (4,), (4,))]
    loss = small_network_loss(*leaves)
    loss.backward(retain_graph=True)
    first = [leaf.grad.data.copy() for leaf in leaves]
    loss.backward()
    for leaf, grad in zip(leaves, first):
        np.testing.assert_allclose(leaf.grad.data, 2 * grad, rtol=1e-12, atol=1e-12)
