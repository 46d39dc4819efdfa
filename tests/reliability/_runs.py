"""Small, fully seeded training runs for the resume tests (also run in a subprocess that gets killed).

Each recipe builds the same model, optimizer, scheduler and loaders from scratch, so a run
that stops and resumes can be compared, weight for weight, with one that never stopped.
"""
import sys
import time

import numpy as np

import minicnn as mc
from minicnn import nn, optim
from minicnn.data import ArrayDataset, DataLoader, transforms
from minicnn.train import fit

RECIPES = ("plateau", "augment", "cosine")
INTERVAL = {"cosine": "step"}      # fit's scheduler_interval per recipe (default "epoch")


def blobs(n, seed):
    """Three separable Gaussian blobs as 1x4x4 'images' (float32)."""
    centers = np.random.default_rng(42).standard_normal((3, 16)) * 2
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = (centers[y] + rng.standard_normal((n, 16))).astype(np.float32).reshape(n, 1, 4, 4)
    return ArrayDataset(x, y)


def build(recipe):
    """(model, optimizer, scheduler, train_loader, test_loader) of ``recipe``.

    plateau: BatchNorm (cumulative running averages through num_batches_tracked), dropout,
             SGD with momentum and weight decay, ReduceLROnPlateau with a cooldown.
    augment: random crops and flips drawn per batch, a prefetching loader, Adam and StepLR.
    cosine:  Adam and CosineAnnealingLR over 18 steps (3 epochs of 6), stepped after each batch.
    """
    mc.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 24), nn.BatchNorm1d(24, momentum=None), nn.ReLU(),
                          nn.Dropout(0.3), nn.Linear(24, 3))
    test = DataLoader(blobs(40, seed=1), batch_size=16)
    if recipe == "plateau":
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-3)
        # threshold 0.99: an epoch "improves" only if the loss drops a hundredfold, so the lr is cut
        # often, whatever the exact trajectory (a tenfold rule let one epoch of it count as progress)
        sched = optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0, threshold=0.99, cooldown=1)
        train = DataLoader(blobs(90, seed=0), batch_size=16, shuffle=True, seed=3)
    elif recipe == "augment":
        opt = optim.Adam(model.parameters(), lr=5e-3)
        sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        augment = transforms.Compose([transforms.RandomCrop(4, padding=1), transforms.RandomHorizontalFlip()])
        train = DataLoader(blobs(90, seed=0), batch_size=16, shuffle=True, seed=3, transform=augment, prefetch=2)
    elif recipe == "cosine":
        opt = optim.Adam(model.parameters(), lr=5e-3)
        sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=18)
        train = DataLoader(blobs(90, seed=0), batch_size=16, shuffle=True, seed=3)
    else:
        raise ValueError(f"unknown recipe {recipe!r}; expected one of {RECIPES}")
    return model, opt, sched, train, test


def run(recipe, out_dir, epochs, resume=False, loss_fn=None):
    """Train ``recipe`` for ``epochs`` epochs into ``out_dir``; returns (model, optimizer, scheduler, history)."""
    model, opt, sched, train, test = build(recipe)
    history = fit(model, opt, train, test, epochs=epochs, scheduler=sched, out_dir=out_dir, resume=resume,
                  progress=False, log=lambda s: None, loss_fn=loss_fn, plot=False,
                  scheduler_interval=INTERVAL.get(recipe, "epoch"))
    return model, opt, sched, history


if __name__ == "__main__":   # python -m tests.reliability._runs RECIPE OUT_DIR EPOCHS: a slow run to be killed
    from minicnn import functional as F

    def slow_loss(logits, target):
        time.sleep(0.02)
        return F.cross_entropy(logits, target)

    print("training", flush=True)
    run(sys.argv[1], sys.argv[2], int(sys.argv[3]), loss_fn=slow_loss)
