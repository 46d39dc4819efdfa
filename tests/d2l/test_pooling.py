"""d2l 7.5 Pooling: the book's PyTorch cells, `torch` read as `minicnn`."""
from tests.d2l import d2l
import minicnn  # noqa: F401  (the book's `import torch`)
from minicnn import nn


def pool2d(X, pool_size, mode='max'):
    p_h, p_w = pool_size
    Y = d2l.zeros((X.shape[0] - p_h + 1, X.shape[1] - p_w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            if mode == 'max':
                Y[i, j] = X[i: i + p_h, j: j + p_w].max()
            elif mode == 'avg':
                Y[i, j] = X[i: i + p_h, j: j + p_w].mean()
    return Y


def test_max_and_average_pooling_from_scratch():
    X = d2l.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
    assert pool2d(X, (2, 2)).tolist() == [[4.0, 5.0], [7.0, 8.0]]             # book
    assert pool2d(X, (2, 2), 'avg').tolist() == [[2.0, 3.0], [5.0, 6.0]]      # book


def test_padding_stride_and_channels_of_the_pooling_layer():
    X = d2l.reshape(d2l.arange(16, dtype=d2l.float32), (1, 1, 4, 4))
    assert X.tolist() == [[[[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15]]]]

    pool2d = nn.MaxPool2d(3)
    # Pooling has no model parameters, hence it needs no initialization
    assert pool2d(X).tolist() == [[[[10.0]]]]                                  # book

    pool2d = nn.MaxPool2d(3, padding=1, stride=2)
    assert pool2d(X).tolist() == [[[[5.0, 7.0], [13.0, 15.0]]]]                # book

    pool2d = nn.MaxPool2d((2, 3), stride=(2, 3), padding=(0, 1))
    assert pool2d(X).tolist() == [[[[5.0, 7.0], [13.0, 15.0]]]]                # book

    X = d2l.concat((X, X + 1), 1)
    assert X.shape == (1, 2, 4, 4) and X[0, 1].tolist() == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]

    pool2d = nn.MaxPool2d(3, padding=1, stride=2)
    assert pool2d(X).tolist() == [[[[5.0, 7.0], [13.0, 15.0]], [[6.0, 8.0], [14.0, 16.0]]]]   # book
