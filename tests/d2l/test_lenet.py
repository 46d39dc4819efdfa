"""d2l 7.6 LeNet: the book's PyTorch cells, `torch` read as `minicnn`."""
from tests.d2l import d2l
from tests.d2l.book import printed_shapes
import minicnn  # noqa: F401  (the book's `import torch`)
from minicnn import nn


def init_cnn(module):  #@save
    """Initialize weights for CNNs."""
    if type(module) == nn.Linear or type(module) == nn.Conv2d:
        nn.init.xavier_uniform_(module.weight)


class LeNet(d2l.Classifier):  #@save
    """The LeNet-5 model."""
    def __init__(self, lr=0.1, num_classes=10):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(
            nn.LazyConv2d(6, kernel_size=5, padding=2), nn.Sigmoid(),
            nn.AvgPool2d(kernel_size=2, stride=2),
            nn.LazyConv2d(16, kernel_size=5), nn.Sigmoid(),
            nn.AvgPool2d(kernel_size=2, stride=2),
            nn.Flatten(),
            nn.LazyLinear(120), nn.Sigmoid(),
            nn.LazyLinear(84), nn.Sigmoid(),
            nn.LazyLinear(num_classes))


@d2l.add_to_class(d2l.Classifier)  #@save
def layer_summary(self, X_shape):
    X = d2l.randn(*X_shape)
    for layer in self.net:
        X = layer(X)
        print(layer.__class__.__name__, 'output shape:\t', X.shape)


def test_layer_summary_prints_the_books_shapes(capsys):
    model = LeNet()
    model.layer_summary((1, 1, 28, 28))
    assert printed_shapes(capsys.readouterr().out) == [        # book
        ("Conv2d", (1, 6, 28, 28)), ("Sigmoid", (1, 6, 28, 28)), ("AvgPool2d", (1, 6, 14, 14)),
        ("Conv2d", (1, 16, 10, 10)), ("Sigmoid", (1, 16, 10, 10)), ("AvgPool2d", (1, 16, 5, 5)),
        ("Flatten", (1, 400)), ("Linear", (1, 120)), ("Sigmoid", (1, 120)), ("Linear", (1, 84)),
        ("Sigmoid", (1, 84)), ("Linear", (1, 10))]


def test_training_runs_with_apply_init():
    trainer = d2l.Trainer(max_epochs=10, num_gpus=1)
    data = d2l.FashionMNIST(batch_size=128)
    model = LeNet(lr=0.1)
    model.apply_init([next(iter(data.get_dataloader(True)))[0]], init_cnn)
    trainer.fit(model, data)
    names = [key for key, _ in model.history]
    assert names.count("train_loss") == 1 and names.count("val_acc") == 1
    assert all(0 <= value < 10 for _, value in model.history)
    assert type(model.net[0]) == nn.Conv2d and model.net[0].weight.shape == (6, 1, 5, 5)
