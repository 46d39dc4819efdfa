import numpy as np
import pytest

import minicnn as mc
from minicnn import functional as F, nn
from tests.helpers import randt


def test_activation_layers_apply_their_functional_op(xp, rng):
    x = randt(xp, rng, 3, 4, requires_grad=False)
    for layer, op in [(nn.ReLU(), F.relu), (nn.Sigmoid(), F.sigmoid), (nn.Tanh(), F.tanh),
                      (nn.Softmax(dim=1), lambda t: F.softmax(t, axis=1)),
                      (nn.LogSoftmax(dim=0), lambda t: F.log_softmax(t, axis=0))]:
        np.testing.assert_array_equal(mc.to_numpy(layer(x).data), mc.to_numpy(op(x).data))


def test_dropout_layer_drops_in_training_and_is_identity_in_eval(xp):
    layer = nn.Dropout(0.5)
    x = mc.Tensor(xp.ones((100, 100), dtype=np.float32))
    assert 0.45 < float((layer(x).data == 0).mean()) < 0.55
    layer.eval()
    np.testing.assert_array_equal(mc.to_numpy(layer(x).data), 1.0)
    with pytest.raises(ValueError, match=r"Dropout: expected a probability p in \[0, 1\), got 1"):
        nn.Dropout(1)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_loss_layer_matches_the_functional_op(xp, rng, reduction):
    z, t = randt(xp, rng, 4, 3), xp.asarray([0, 2, 1, 2])
    np.testing.assert_array_equal(mc.to_numpy(nn.CrossEntropyLoss(reduction)(z, t).data),
                                  mc.to_numpy(F.cross_entropy(z, t, reduction).data))


def test_loss_layers_reject_unknown_reductions():
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: expected reduction .*got 'avg'"):
        nn.CrossEntropyLoss(reduction="avg")


def test_small_network_trains_end_to_end(rng):
    """Linear-BN-ReLU-Linear fits a separable toy problem: every piece's gradient flows."""
    x = rng.standard_normal((64, 4)).astype(np.float32)
    t = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 2))
    loss_fn = nn.CrossEntropyLoss()
    first = None
    for _ in range(60):
        loss = loss_fn(model(mc.Tensor(x)), t)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= 0.1 * p.grad.data
        first = float(loss.data) if first is None else first
    assert float(loss.data) < 0.5 * first
