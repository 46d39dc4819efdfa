"""Every number fit() and evaluate() report, checked against a direct calculation.

The model is logits = x + b (one learnable bias per class), trained by plain SGD, so the whole
run can be replayed in a few lines of NumPy: per step, the cross-entropy of the current bias on
the batch, then b -= lr * dL/db. The datasets have 5 samples in batches of 2, so the last batch
is short: an epoch's loss and accuracy are means over samples (each batch weighted by its size),
not means over batches."""
import numpy as np
import pytest

from minicnn import nn, optim
from minicnn.data import ArrayDataset, DataLoader
from minicnn.nn.module import Parameter
from minicnn.train import evaluate, fit

CLASSES, BATCH, LR, EPOCHS = 3, 2, 0.5, 3


class BiasOnly(nn.Module):
    def __init__(self):
        super().__init__()
        self.b = Parameter(np.zeros(CLASSES, dtype=np.float32))

    def forward(self, x):
        return x.reshape(x.shape[0], CLASSES) + self.b


def dataset(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 2.0, size=(5, CLASSES, 1, 1)).astype(np.float32)
    y = np.array([0, 1, 2, 1, 0]) if seed == 0 else np.array([2, 2, 0, 1, 1])
    x[4, :, 0, 0] = [-4.0, 4.0, 0.0] if seed == 0 else [3.0, -3.0, 0.0]  # the short batch: far from the mean
    return x, y


def loader(seed):
    x, y = dataset(seed)
    return DataLoader(ArrayDataset(x, y), batch_size=BATCH, shuffle=False)


def per_sample(b, x, y):
    """Cross-entropy of each sample, whether it is classified right, and dL/dlogits."""
    logits = x.reshape(len(x), CLASSES).astype(np.float64) + b
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(len(y)), y])
    onehot = np.eye(CLASSES)[y]
    return loss, logits.argmax(axis=1) == y, p - onehot


def replay():
    """The run, by hand: per epoch (train loss, train acc, test loss, test acc), sample-weighted,
    plus what batch-weighting would have reported (to check the data can tell them apart)."""
    (x, y), (xt, yt) = dataset(0), dataset(1)
    b = np.zeros(CLASSES)
    epochs, batch_means = [], []
    for _ in range(EPOCHS):
        losses, hits, means = [], [], []
        for s in range(0, len(y), BATCH):
            loss, hit, dlogits = per_sample(b, x[s:s + BATCH], y[s:s + BATCH])
            losses += list(loss)
            hits += list(hit)
            means.append(loss.mean())
            b = b - LR * dlogits.mean(axis=0)   # the gradient of the batch-mean loss
        test_loss, test_hit, _ = per_sample(b, xt, yt)
        test_means = [test_loss[s:s + BATCH].mean() for s in range(0, len(yt), BATCH)]
        epochs.append((np.mean(losses), np.mean(hits), test_loss.mean(), test_hit.mean()))
        batch_means.append((np.mean(means), np.mean(test_means)))
    return epochs, batch_means, b


def run_fit():
    model = BiasOnly()
    history = fit(model, optim.SGD(model.parameters(), lr=LR), loader(0), loader(1), epochs=EPOCHS,
                  progress=False, log=lambda message: None, plot=False)
    return model, history


def test_the_replay_can_tell_sample_weighting_from_batch_weighting():
    epochs, batch_means, _ = replay()
    for (train_loss, _, test_loss, _), (train_by_batch, test_by_batch) in zip(epochs, batch_means):
        assert abs(train_loss - train_by_batch) > 0.05 and abs(test_loss - test_by_batch) > 0.05
    assert len({acc for _, acc, _, _ in epochs}) > 1  # accuracy moves between epochs too


def test_fit_reports_sample_weighted_train_and_test_metrics_for_every_epoch():
    epochs, _, b = replay()
    model, history = run_fit()
    np.testing.assert_allclose(model.b.data, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(history["train_loss"], [e[0] for e in epochs], rtol=1e-5)
    np.testing.assert_allclose(history["train_acc"], [e[1] for e in epochs], rtol=0, atol=1e-12)
    np.testing.assert_allclose(history["test_loss"], [e[2] for e in epochs], rtol=1e-5)
    np.testing.assert_allclose(history["test_acc"], [e[3] for e in epochs], rtol=0, atol=1e-12)
    assert history["lr"] == [LR] * EPOCHS


def test_evaluate_weights_each_batch_by_its_size():
    x, y = dataset(1)
    model = BiasOnly()
    model.b.data[...] = [0.3, -0.2, 0.1]
    loss, hit, _ = per_sample(np.array([0.3, -0.2, 0.1]), x, y)
    result = evaluate(model, loader(1))
    np.testing.assert_allclose(result["loss"], loss.mean(), rtol=1e-5)
    assert result["accuracy"] == pytest.approx(hit.mean(), abs=1e-12)
    assert model.training  # evaluate restores the mode it found


@pytest.mark.parametrize("batch_size", [1, 2, 3, 5])
def test_evaluate_does_not_depend_on_the_batch_size(batch_size):
    x, y = dataset(0)
    model = BiasOnly()
    loss, hit, _ = per_sample(np.zeros(CLASSES), x, y)
    result = evaluate(model, DataLoader(ArrayDataset(x, y), batch_size=batch_size))
    np.testing.assert_allclose(result["loss"], loss.mean(), rtol=1e-5)
    assert result["accuracy"] == pytest.approx(hit.mean(), abs=1e-12)
