"""A small stand-in for the ``d2l.torch`` helpers the CNN chapters call, written with minicnn.

The cells under test import it where the book writes ``from d2l import torch as d2l``. It
keeps the book's code (HyperParameters, Module, Classifier, Trainer, init_cnn, corr2d and the
tensor aliases) with ``torch`` read as ``minicnn``; what it leaves out is plotting. Its
FashionMNIST takes a tiny slice (real images when they are on disk, else random ones), and
its Trainer runs ``max_batches`` batches of at most ``max_epochs_cap`` epochs, so that the
book's training cells run in seconds.
"""
import inspect

import numpy as np

import minicnn
from minicnn import functional as F
from minicnn import nn

# --- the book's tensor aliases (d2l/torch.py, bottom) ------------------------------------
ones_like, ones, zeros_like, zeros = minicnn.ones_like, minicnn.ones, minicnn.zeros_like, minicnn.zeros
tensor, arange, exp, log, normal = minicnn.tensor, minicnn.arange, minicnn.exp, minicnn.log, minicnn.normal
rand, randn, matmul, float32 = minicnn.rand, minicnn.randn, minicnn.matmul, minicnn.float32
concat, stack, abs, eye = minicnn.cat, minicnn.stack, minicnn.abs, minicnn.eye  # noqa: A001
numpy = lambda x, *args, **kwargs: x.detach().numpy(*args, **kwargs)  # noqa: E731
size = lambda x, *args, **kwargs: x.numel(*args, **kwargs)  # noqa: E731
reshape = lambda x, *args, **kwargs: x.reshape(*args, **kwargs)  # noqa: E731
to = lambda x, *args, **kwargs: x.to(*args, **kwargs)  # noqa: E731
reduce_sum = lambda x, *args, **kwargs: x.sum(*args, **kwargs)  # noqa: E731
argmax = lambda x, *args, **kwargs: x.argmax(*args, **kwargs)  # noqa: E731
astype = lambda x, *args, **kwargs: x.type(*args, **kwargs)  # noqa: E731
transpose = lambda x, *args, **kwargs: x.t(*args, **kwargs)  # noqa: E731
reduce_mean = lambda x, *args, **kwargs: x.mean(*args, **kwargs)  # noqa: E731
expand_dims = lambda x, *args, **kwargs: x.unsqueeze(*args, **kwargs)  # noqa: E731


def add_to_class(Class):
    """Register functions as methods in created class."""
    def wrapper(obj):
        setattr(Class, obj.__name__, obj)
    return wrapper


class HyperParameters:
    """The base class of hyperparameters."""
    def save_hyperparameters(self, ignore=[]):
        """Save function arguments into class attributes."""
        frame = inspect.currentframe().f_back
        _, _, _, local_vars = inspect.getargvalues(frame)
        self.hparams = {k: v for k, v in local_vars.items()
                        if k not in set(ignore + ['self']) and not k.startswith('_')}
        for k, v in self.hparams.items():
            setattr(self, k, v)


class Module(nn.Module, HyperParameters):
    """The base class of models (the book's, without the progress board)."""
    def __init__(self, plot_train_per_epoch=2, plot_valid_per_epoch=1):
        super().__init__()
        self.save_hyperparameters()
        self.history = []

    def loss(self, y_hat, y):
        raise NotImplementedError

    def forward(self, X):
        assert hasattr(self, 'net'), 'Neural network is defined'
        return self.net(X)

    def plot(self, key, value, train):
        self.history.append((('train_' if train else 'val_') + key, float(value)))

    def training_step(self, batch):
        l = self.loss(self(*batch[:-1]), batch[-1])
        self.plot('loss', l, train=True)
        return l

    def validation_step(self, batch):
        l = self.loss(self(*batch[:-1]), batch[-1])
        self.plot('loss', l, train=False)

    def configure_optimizers(self):
        return minicnn.optim.SGD(self.parameters(), lr=self.lr)

    def apply_init(self, inputs, init=None):
        self.forward(*inputs)
        if init is not None:
            self.net.apply(init)


class Classifier(Module):
    """The base class of classification models."""
    def validation_step(self, batch):
        Y_hat = self(*batch[:-1])
        self.plot('loss', self.loss(Y_hat, batch[-1]), train=False)
        self.plot('acc', self.accuracy(Y_hat, batch[-1]), train=False)

    def accuracy(self, Y_hat, Y, averaged=True):
        """Compute the number of correct predictions."""
        Y_hat = reshape(Y_hat, (-1, Y_hat.shape[-1]))
        preds = astype(argmax(Y_hat, axis=1), Y.dtype)
        compare = astype(preds == reshape(Y, -1), float32)
        return reduce_mean(compare) if averaged else compare

    def loss(self, Y_hat, Y, averaged=True):
        Y_hat = reshape(Y_hat, (-1, Y_hat.shape[-1]))
        Y = reshape(Y, (-1,))
        return F.cross_entropy(Y_hat, Y, reduction='mean' if averaged else 'none')

    def layer_summary(self, X_shape):
        X = randn(*X_shape)
        for layer in self.net:
            X = layer(X)
            print(layer.__class__.__name__, 'output shape:\t', X.shape)


class DataModule(HyperParameters):
    def __init__(self, root='../data', num_workers=4):
        self.save_hyperparameters()

    def train_dataloader(self):
        return self.get_dataloader(train=True)

    def val_dataloader(self):
        return self.get_dataloader(train=False)


class FashionMNIST(DataModule):
    """The Fashion-MNIST dataset: a slice of ``num_samples`` images per split (stand-in)."""
    num_samples = 16

    def __init__(self, batch_size=64, resize=(28, 28)):
        super().__init__()
        self.save_hyperparameters()
        self.train, self.val = self._split(True), self._split(False)

    def _split(self, train):
        n = self.num_samples
        try:
            ds = minicnn.data.FashionMNIST(train=train)
            images, labels = ds.data[:n], ds.targets[:n]
        except (FileNotFoundError, ValueError):
            rng = np.random.default_rng(0 if train else 1)
            images, labels = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n)
        return minicnn.data.ArrayDataset(images, labels, transform=minicnn.data.transforms.Resize(self.resize))

    def get_dataloader(self, train):
        loader = minicnn.data.DataLoader(self.train if train else self.val, min(self.batch_size, self.num_samples),
                                         shuffle=train)
        return _TensorLoader(loader)


class _TensorLoader:
    """Batches as Tensors (torch's DataLoader gives tensors; minicnn's gives arrays)."""
    def __init__(self, loader):
        self.loader = loader

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        return ((minicnn.Tensor(X), minicnn.Tensor(y)) for X, y in self.loader)


class Trainer(HyperParameters):
    """The base class for training models with data (book's code; CPU only, capped)."""
    max_batches = 2
    max_epochs_cap = 1

    def __init__(self, max_epochs, num_gpus=0, gradient_clip_val=0):
        self.save_hyperparameters()

    def prepare_data(self, data):
        self.train_dataloader = data.train_dataloader()
        self.val_dataloader = data.val_dataloader()
        self.num_train_batches = len(self.train_dataloader)
        self.num_val_batches = len(self.val_dataloader) if self.val_dataloader is not None else 0

    def prepare_model(self, model):
        model.trainer = self
        self.model = model

    def fit(self, model, data):
        self.prepare_data(data)
        self.prepare_model(model)
        self.optim = model.configure_optimizers()
        self.epoch = 0
        self.train_batch_idx = 0
        self.val_batch_idx = 0
        for self.epoch in range(min(self.max_epochs, self.max_epochs_cap)):
            self.fit_epoch()

    def prepare_batch(self, batch):
        return batch

    def fit_epoch(self):
        self.model.train()
        for i, batch in enumerate(self.train_dataloader):
            if i == self.max_batches:
                break
            loss = self.model.training_step(self.prepare_batch(batch))
            self.optim.zero_grad()
            with minicnn.no_grad():
                loss.backward()
                self.optim.step()
            self.train_batch_idx += 1
        if self.val_dataloader is None:
            return
        self.model.eval()
        for i, batch in enumerate(self.val_dataloader):
            if i == self.max_batches:
                break
            with minicnn.no_grad():
                self.model.validation_step(self.prepare_batch(batch))
            self.val_batch_idx += 1


def corr2d(X, K):
    """Compute 2D cross-correlation."""
    h, w = K.shape
    Y = zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = reduce_sum((X[i: i + h, j: j + w] * K))
    return Y


def init_cnn(module):
    """Initialize weights for CNNs."""
    if type(module) == nn.Linear or type(module) == nn.Conv2d:
        nn.init.xavier_uniform_(module.weight)
