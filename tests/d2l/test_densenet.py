"""d2l 8.7 Densely Connected Networks (DenseNet): the book's PyTorch cells, `torch` read as `minicnn`."""
import pytest

from tests.d2l import d2l
import minicnn
from minicnn import nn


def conv_block(num_channels):
    return nn.Sequential(
        nn.LazyBatchNorm2d(), nn.ReLU(),
        nn.LazyConv2d(num_channels, kernel_size=3, padding=1))


class DenseBlock(nn.Module):
    def __init__(self, num_convs, num_channels):
        super(DenseBlock, self).__init__()
        layer = []
        for i in range(num_convs):
            layer.append(conv_block(num_channels))
        self.net = nn.Sequential(*layer)

    def forward(self, X):
        for blk in self.net:
            Y = blk(X)
            # Concatenate input and output of each block along the channels
            X = minicnn.cat((X, Y), dim=1)
        return X


def transition_block(num_channels):
    return nn.Sequential(
        nn.LazyBatchNorm2d(), nn.ReLU(),
        nn.LazyConv2d(num_channels, kernel_size=1),
        nn.AvgPool2d(kernel_size=2, stride=2))


class DenseNet(d2l.Classifier):
    def b1(self):
        return nn.Sequential(
            nn.LazyConv2d(64, kernel_size=7, stride=2, padding=3),
            nn.LazyBatchNorm2d(), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1))


@d2l.add_to_class(DenseNet)
def __init__(self, num_channels=64, growth_rate=32, arch=(4, 4, 4, 4),
             lr=0.1, num_classes=10):
    super(DenseNet, self).__init__()
    self.save_hyperparameters()
    self.net = nn.Sequential(self.b1())
    for i, num_convs in enumerate(arch):
        self.net.add_module(f'dense_blk{i+1}', DenseBlock(num_convs,
                                                          growth_rate))
        # The number of output channels in the previous dense block
        num_channels += num_convs * growth_rate
        # A transition layer that halves the number of channels is added
        # between the dense blocks
        if i != len(arch) - 1:
            num_channels //= 2
            self.net.add_module(f'tran_blk{i+1}', transition_block(
                num_channels))
    self.net.add_module('last', nn.Sequential(
        nn.LazyBatchNorm2d(), nn.ReLU(),
        nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(),
        nn.LazyLinear(num_classes)))
    self.net.apply(d2l.init_cnn)


def test_dense_and_transition_blocks_shapes():
    blk = DenseBlock(2, 10)
    X = minicnn.randn(4, 3, 8, 8)
    Y = blk(X)
    assert Y.shape == (4, 23, 8, 8)                       # book: torch.Size([4, 23, 8, 8])

    blk = transition_block(10)
    assert blk(Y).shape == (4, 10, 4, 4)                  # book: torch.Size([4, 10, 4, 4])


def test_densenet_builds_with_the_books_module_names():
    model = DenseNet()
    assert [name for name, _ in model.net.named_children()] == [
        "0", "dense_blk1", "tran_blk1", "dense_blk2", "tran_blk2", "dense_blk3", "tran_blk3", "dense_blk4", "last"]
    assert model(minicnn.randn(1, 1, 96, 96)).shape == (1, 10)
    assert model.net.tran_blk1[2].out_channels == 96      # (64 + 4 * 32) // 2, as the book computes


@pytest.mark.slow
def test_training_runs():
    model = DenseNet(lr=0.01)
    trainer = d2l.Trainer(max_epochs=10, num_gpus=1)
    data = d2l.FashionMNIST(batch_size=128, resize=(96, 96))
    trainer.fit(model, data)
    assert model.history[0][0] == "train_loss" and all(0 <= v < 10 for _, v in model.history)
