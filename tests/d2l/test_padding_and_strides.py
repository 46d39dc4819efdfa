"""d2l 7.3 Padding and Stride: the book's PyTorch cells, `torch` read as `minicnn`."""
import minicnn
from minicnn import nn


# We define a helper function to calculate convolutions. It initializes the
# convolutional layer weights and performs corresponding dimensionality
# elevations and reductions on the input and output
def comp_conv2d(conv2d, X):
    # (1, 1) indicates that batch size and the number of channels are both 1
    X = X.reshape((1, 1) + X.shape)
    Y = conv2d(X)
    # Strip the first two dimensions: examples and channels
    return Y.reshape(Y.shape[2:])


def test_output_shapes_with_padding_and_stride():
    # 1 row and column is padded on either side, so a total of 2 rows or columns
    # are added
    conv2d = nn.LazyConv2d(1, kernel_size=3, padding=1)
    X = minicnn.rand(size=(8, 8))
    assert comp_conv2d(conv2d, X).shape == (8, 8)          # book: torch.Size([8, 8])

    # We use a convolution kernel with height 5 and width 3. The padding on either
    # side of the height and width are 2 and 1, respectively
    conv2d = nn.LazyConv2d(1, kernel_size=(5, 3), padding=(2, 1))
    assert comp_conv2d(conv2d, X).shape == (8, 8)          # book: torch.Size([8, 8])

    conv2d = nn.LazyConv2d(1, kernel_size=3, padding=1, stride=2)
    assert comp_conv2d(conv2d, X).shape == (4, 4)          # book: torch.Size([4, 4])

    conv2d = nn.LazyConv2d(1, kernel_size=(3, 5), padding=(0, 1), stride=(3, 4))
    assert comp_conv2d(conv2d, X).shape == (2, 2)          # book: torch.Size([2, 2])
