"""d2l 7.4 Multiple Input and Multiple Output Channels: the book's PyTorch cells."""
from tests.d2l import d2l
import minicnn  # noqa: F401  (the book's `import torch`)


def corr2d_multi_in(X, K):
    # Iterate through the 0th dimension (channel) of K first, then add them up
    return sum(d2l.corr2d(x, k) for x, k in zip(X, K))


def corr2d_multi_in_out(X, K):
    # Iterate through the 0th dimension of K, and each time, perform
    # cross-correlation operations with input X. All of the results are
    # stacked together
    return d2l.stack([corr2d_multi_in(X, k) for k in K], 0)


def corr2d_multi_in_out_1x1(X, K):
    c_i, h, w = X.shape
    c_o = K.shape[0]
    X = d2l.reshape(X, (c_i, h * w))
    K = d2l.reshape(K, (c_o, c_i))
    # Matrix multiplication in the fully connected layer
    Y = d2l.matmul(K, X)
    return d2l.reshape(Y, (c_o, h, w))


def test_multiple_input_and_output_channels():
    X = d2l.tensor([[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]],
                   [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]])
    K = d2l.tensor([[[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]])

    assert corr2d_multi_in(X, K).tolist() == [[56.0, 72.0], [104.0, 120.0]]   # book

    K = d2l.stack((K, K + 1, K + 2), 0)
    assert K.shape == (3, 2, 2, 2)                                              # book: torch.Size([3, 2, 2, 2])

    assert corr2d_multi_in_out(X, K).tolist() == [                              # book
        [[56.0, 72.0], [104.0, 120.0]], [[76.0, 100.0], [148.0, 172.0]], [[96.0, 128.0], [192.0, 224.0]]]


def test_a_1x1_convolution_is_a_fully_connected_layer():
    X = d2l.normal(0, 1, (3, 3, 3))
    K = d2l.normal(0, 1, (2, 3, 1, 1))
    Y1 = corr2d_multi_in_out_1x1(X, K)
    Y2 = corr2d_multi_in_out(X, K)
    assert float(d2l.reduce_sum(d2l.abs(Y1 - Y2))) < 1e-6
