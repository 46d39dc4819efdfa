"""d2l 8.3 Network in Network: the book's PyTorch cells, `torch` read as `minicnn`."""
import pytest

from tests.d2l import d2l
from tests.d2l.book import printed_shapes
import minicnn  # noqa: F401  (the book's `import torch`)
from minicnn import nn


def nin_block(out_channels, kernel_size, strides, padding):
    return nn.Sequential(
        nn.LazyConv2d(out_channels, kernel_size, strides, padding), nn.ReLU(),
        nn.LazyConv2d(out_channels, kernel_size=1), nn.ReLU(),
        nn.LazyConv2d(out_channels, kernel_size=1), nn.ReLU())


class NiN(d2l.Classifier):
    def __init__(self, lr=0.1, num_classes=10):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(
            nin_block(96, kernel_size=11, strides=4, padding=0),
            nn.MaxPool2d(3, stride=2),
            nin_block(256, kernel_size=5, strides=1, padding=2),
            nn.MaxPool2d(3, stride=2),
            nin_block(384, kernel_size=3, strides=1, padding=1),
            nn.MaxPool2d(3, stride=2),
            nn.Dropout(0.5),
            nin_block(num_classes, kernel_size=3, strides=1, padding=1),
            nn.AdaptiveAvgPool2d((1, 1)),
            nn.Flatten())
        self.net.apply(d2l.init_cnn)


def test_layer_summary_prints_the_books_shapes(capsys):
    NiN().layer_summary((1, 1, 224, 224))
    assert printed_shapes(capsys.readouterr().out) == [        # book
        ("Sequential", (1, 96, 54, 54)), ("MaxPool2d", (1, 96, 26, 26)), ("Sequential", (1, 256, 26, 26)),
        ("MaxPool2d", (1, 256, 12, 12)), ("Sequential", (1, 384, 12, 12)), ("MaxPool2d", (1, 384, 5, 5)),
        ("Dropout", (1, 384, 5, 5)), ("Sequential", (1, 10, 5, 5)), ("AdaptiveAvgPool2d", (1, 10, 1, 1)),
        ("Flatten", (1, 10))]


@pytest.mark.slow
def test_training_runs():
    model = NiN(lr=0.05)
    trainer = d2l.Trainer(max_epochs=10, num_gpus=1)
    data = d2l.FashionMNIST(batch_size=128, resize=(224, 224))
    model.apply_init([next(iter(data.get_dataloader(True)))[0]], d2l.init_cnn)
    trainer.fit(model, data)
    assert model.history[0][0] == "train_loss" and all(0 <= v < 10 for _, v in model.history)
