"""d2l 8.1 AlexNet: the book's PyTorch cells, `torch` read as `minicnn`."""
import pytest

from tests.d2l import d2l
from tests.d2l.book import printed_shapes
import minicnn  # noqa: F401  (the book's `import torch`)
from minicnn import nn


class AlexNet(d2l.Classifier):
    def __init__(self, lr=0.1, num_classes=10):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(
            nn.LazyConv2d(96, kernel_size=11, stride=4, padding=1),
            nn.ReLU(), nn.MaxPool2d(kernel_size=3, stride=2),
            nn.LazyConv2d(256, kernel_size=5, padding=2), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.LazyConv2d(384, kernel_size=3, padding=1), nn.ReLU(),
            nn.LazyConv2d(384, kernel_size=3, padding=1), nn.ReLU(),
            nn.LazyConv2d(256, kernel_size=3, padding=1), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2), nn.Flatten(),
            nn.LazyLinear(4096), nn.ReLU(), nn.Dropout(p=0.5),
            nn.LazyLinear(4096), nn.ReLU(), nn.Dropout(p=0.5),
            nn.LazyLinear(num_classes))
        self.net.apply(d2l.init_cnn)


def test_layer_summary_prints_the_books_shapes(capsys):
    AlexNet().layer_summary((1, 1, 224, 224))
    assert printed_shapes(capsys.readouterr().out) == [        # book
        ("Conv2d", (1, 96, 54, 54)), ("ReLU", (1, 96, 54, 54)), ("MaxPool2d", (1, 96, 26, 26)),
        ("Conv2d", (1, 256, 26, 26)), ("ReLU", (1, 256, 26, 26)), ("MaxPool2d", (1, 256, 12, 12)),
        ("Conv2d", (1, 384, 12, 12)), ("ReLU", (1, 384, 12, 12)), ("Conv2d", (1, 384, 12, 12)),
        ("ReLU", (1, 384, 12, 12)), ("Conv2d", (1, 256, 12, 12)), ("ReLU", (1, 256, 12, 12)),
        ("MaxPool2d", (1, 256, 5, 5)), ("Flatten", (1, 6400)), ("Linear", (1, 4096)), ("ReLU", (1, 4096)),
        ("Dropout", (1, 4096)), ("Linear", (1, 4096)), ("ReLU", (1, 4096)), ("Dropout", (1, 4096)),
        ("Linear", (1, 10))]


@pytest.mark.slow
def test_training_runs():
    model = AlexNet(lr=0.01)
    data = d2l.FashionMNIST(batch_size=128, resize=(224, 224))
    trainer = d2l.Trainer(max_epochs=10, num_gpus=1)
    trainer.fit(model, data)
    names = [key for key, _ in model.history]
    assert names[0] == "train_loss" and "val_acc" in names and all(0 <= v < 10 for _, v in model.history)
