"""The d2l AlexNet gives PyTorch's logits for the same weights (the seed's definition)."""
import numpy as np
import pytest

import minicnn as mc
from minicnn import models
from tests.helpers import try_import_torch

torch = try_import_torch()
pytestmark = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


def d2l_alexnet_in_torch():
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 96, kernel_size=11, stride=4, padding=1), nn.ReLU(), nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(96, 256, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(256, 384, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Flatten(),
        nn.Linear(6400, 4096), nn.ReLU(), nn.Dropout(p=0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(p=0.5),
        nn.Linear(4096, 10))


def seed_alexnet_in_torch():
    """The seed article's class, attribute for attribute (one shared ReLU and Dropout)."""
    nn = torch.nn

    class AlexNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 96, 11, 4, 1)
            self.maxpool1 = nn.MaxPool2d(3, 2)
            self.conv2 = nn.Conv2d(96, 256, 5, padding=2)
            self.maxpool2 = nn.MaxPool2d(3, 2)
            self.conv3 = nn.Conv2d(256, 384, 3, padding=1)
            self.conv4 = nn.Conv2d(384, 384, 3, padding=1)
            self.conv5 = nn.Conv2d(384, 256, 3, padding=1)
            self.flatten = nn.Flatten(1)
            self.linear1 = nn.Linear(6400, 4096)
            self.linear2 = nn.Linear(4096, 4096)
            self.linear3 = nn.Linear(4096, 10)
            self.relu = nn.ReLU()
            self.dropout = nn.Dropout()

        def forward(self, x):
            h = self.maxpool1(self.relu(self.conv1(x)))
            h = self.maxpool2(self.relu(self.conv2(h)))
            h = self.relu(self.conv5(self.relu(self.conv4(self.relu(self.conv3(h))))))
            h = self.flatten(self.maxpool1(h))
            h = self.dropout(self.relu(self.linear1(h)))
            h = self.dropout(self.relu(self.linear2(h)))
            return self.linear3(h)

    return AlexNet()


def minicnn_logits(model, x):
    with mc.no_grad():
        return model.eval()(mc.Tensor(x)).data


def test_d2l_alexnet_matches_torch_with_the_same_state_dict():
    ours = models.alexnet()
    theirs = d2l_alexnet_in_torch()
    state = ours.state_dict()
    assert set(state) == set(theirs.state_dict())            # same keys: "0.weight" ... "20.bias"
    theirs.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in state.items()})
    x = np.random.default_rng(0).standard_normal((2, 1, 224, 224)).astype(np.float32)
    expected = theirs.eval()(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(minicnn_logits(ours, x), expected, rtol=1e-4, atol=1e-5)


def test_seed_alexnet_weights_load_in_order_and_give_the_same_logits():
    theirs = seed_alexnet_in_torch()
    ours = models.alexnet()
    # Same parameters in the same order; only the names differ (conv1.weight <-> 0.weight).
    pairs = list(zip(ours.state_dict(), theirs.state_dict().values()))
    assert len(pairs) == 16 == len(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in pairs})
    x = np.random.default_rng(1).standard_normal((1, 1, 224, 224)).astype(np.float32)
    expected = theirs.eval()(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(minicnn_logits(ours, x), expected, rtol=1e-4, atol=1e-5)


def test_seed_mnist_cnn_state_dict_layout_matches_torch():
    nn = torch.nn
    conv1 = nn.Sequential(nn.Conv2d(1, 16, kernel_size=5, padding=2), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2))
    conv2 = nn.Sequential(nn.Conv2d(16, 32, kernel_size=5, padding=2), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2))
    reference = nn.ModuleDict({"conv1": conv1, "conv2": conv2, "fc": nn.Linear(7 * 7 * 32, 10)})
    expected = {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    ours = {k: tuple(np.shape(v)) for k, v in models.mnist_cnn().state_dict().items()}
    assert ours == expected
