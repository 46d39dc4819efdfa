"""Numbers for the zoo that hold without PyTorch.

Each model family gets weights and BatchNorm statistics from a fixed NumPy generator (not
from the library's init, which may change), then runs a small fixed input in eval mode. The
expected sums below were computed with this code and pasted: they are anchors against change
(a layer reordered, a padding or stride changed, an op's forward altered), not values derived
independently. Their correctness rests on the parity tests with PyTorch and the hand-checked
op tests; these catch any later drift in a run without torch. Parameter counts, which are
independent references, live in test_zoo.py.
"""
import numpy as np
import pytest

import minicnn as mc
from minicnn import models

# name -> (model arguments, input shape (batch 2), (sum of logits, sum of squared logits))
ANCHORS = {
    "mnist_cnn": (dict(), (1, 28, 28), (11.4849, 56.1661)),
    "lenet": (dict(), (1, 28, 28), (6.30192, 6.17968)),
    "alexnet": (dict(input_size=67), (1, 67, 67), (5.08612, 1.99921)),
    "zfnet": (dict(num_classes=10, input_size=67), (3, 67, 67), (-0.783518, 0.310198)),
    "nin": (dict(), (1, 80, 80), (0.353037, 0.0237202)),
    "cifar_resnet": (dict(), (3, 32, 32), (-6.57468, 15.3778)),
    "resnet18": (dict(num_classes=10), (3, 32, 32), (1.14761, 28.537)),
    "densenet121": (dict(num_classes=10), (3, 32, 32), (0.115991, 0.197948)),
    "googlenet": (dict(num_classes=10, aux_logits=False), (3, 32, 32), (-1.65637, 0.228608)),
    "vgg11": (dict(num_classes=10), (3, 32, 32), (-0.209535, 0.211812)),
}
SLOW = {"vgg11"}


def fill(key, value, rng):
    """Deterministic state: weights uniform with variance 1/fan_in, BN scales near 1,
    biases and shifts small, running variances in [0.5, 1.5]."""
    if value.dtype.kind != "f":
        return value
    u = rng.uniform(-1.0, 1.0, size=value.shape)
    if key.endswith("running_var"):
        out = 1.0 + 0.5 * u
    elif value.ndim > 1:
        out = u * np.sqrt(3.0 / np.prod(value.shape[1:]))
    elif key.endswith("weight"):
        out = 1.0 + 0.1 * u
    else:
        out = 0.1 * u
    return out.astype(value.dtype)


def anchored_model(name, kwargs):
    model = models.get_model(name, **kwargs)
    rng = np.random.default_rng(0)
    state = model.state_dict()
    model.load_state_dict({key: fill(key, np.asarray(mc.to_numpy(state[key])), rng) for key in sorted(state)})
    return model.eval()


def logits_of(name):
    kwargs, shape, _ = ANCHORS[name]
    x = np.random.default_rng(1).standard_normal((2,) + shape).astype(np.float32)
    with mc.no_grad():
        return np.asarray(anchored_model(name, kwargs)(mc.Tensor(x)).data, dtype=np.float64)


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in ANCHORS])
def test_fixed_weights_give_the_anchored_logits(name):
    logits = logits_of(name)
    assert logits.shape == (2, 10)
    expected_sum, expected_squares = ANCHORS[name][2]
    np.testing.assert_allclose([logits.sum(), (logits ** 2).sum()], [expected_sum, expected_squares],
                               rtol=2e-4, atol=2e-4)
