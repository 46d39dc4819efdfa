"""d2l 7.2 Convolutions for Images: the book's PyTorch cells, `torch` read as `minicnn`."""
import numpy as np

from tests.d2l import d2l
import minicnn
from minicnn import nn


def corr2d(X, K):  #@save
    """Compute 2D cross-correlation."""
    h, w = K.shape
    Y = d2l.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = d2l.reduce_sum((X[i: i + h, j: j + w] * K))
    return Y


class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        self.weight = nn.Parameter(minicnn.rand(kernel_size))
        self.bias = nn.Parameter(minicnn.zeros(1))

    def forward(self, x):
        return corr2d(x, self.weight) + self.bias


def test_cross_correlation_of_the_3x3_example():
    X = d2l.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
    K = d2l.tensor([[0.0, 1.0], [2.0, 3.0]])
    out = corr2d(X, K)
    # book: tensor([[19., 25.], [37., 43.]])
    assert out.tolist() == [[19.0, 25.0], [37.0, 43.0]] and out.dtype == minicnn.float32


def test_conv2d_module_from_scratch_holds_its_parameters():
    layer = Conv2D(kernel_size=(1, 2))
    assert layer.weight.shape == (1, 2) and layer.bias.shape == (1,)
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]


def test_edge_detection_and_learning_the_kernel(capsys):
    X = d2l.ones((6, 8))
    X[:, 2:6] = 0
    X
    assert X.tolist() == [[1, 1, 0, 0, 0, 0, 1, 1]] * 6

    K = d2l.tensor([[1.0, -1.0]])

    Y = corr2d(X, K)
    Y
    assert Y.tolist() == [[0, 1, 0, 0, 0, -1, 0]] * 6   # book: 1 for white-to-black, -1 for black-to-white

    assert corr2d(d2l.transpose(X), K).tolist() == [[0] * 5] * 8   # book: the kernel sees no horizontal edge

    # Construct a two-dimensional convolutional layer with 1 output channel and a
    # kernel of shape (1, 2). For the sake of simplicity, we ignore the bias here
    conv2d = nn.LazyConv2d(1, kernel_size=(1, 2), bias=False)

    # The two-dimensional convolutional layer uses four-dimensional input and
    # output in the format of (example, channel, height, width), where the batch
    # size (number of examples in the batch) and the number of channels are both 1
    X = X.reshape((1, 1, 6, 8))
    Y = Y.reshape((1, 1, 6, 7))
    lr = 3e-2  # Learning rate

    for i in range(10):
        Y_hat = conv2d(X)
        l = (Y_hat - Y) ** 2
        conv2d.zero_grad()
        l.sum().backward()
        # Update the kernel
        conv2d.weight.data[:] -= lr * conv2d.weight.grad
        if (i + 1) % 2 == 0:
            print(f'epoch {i + 1}, loss {l.sum():.3f}')

    lines = capsys.readouterr().out.splitlines()
    assert [line.split(",")[0] for line in lines] == ["epoch 2", "epoch 4", "epoch 6", "epoch 8", "epoch 10"]
    losses = [float(line.split("loss ")[1]) for line in lines]
    assert all(b < a for a, b in zip(losses, losses[1:])) and losses[-1] < 1.0   # book: 16.5 at epoch 2 down to about 0.3 at epoch 10

    learned = d2l.reshape(conv2d.weight.data, (1, 2))
    # book: "our learned kernel tensor is remarkably close to the kernel tensor K we defined earlier"
    assert np.allclose(learned, [[1.0, -1.0]], atol=0.15)   # book: about [[1.04, -0.93]]
