"""What the d2l chapter scripts share: the command line, a Fashion-MNIST subset (resized as
the chapter does), the book's init_cnn, and the book's training loop written out.

Each chapter script builds its model the book's way (lazy layers) and calls ``main``.
"""
import argparse
import time

import numpy as np

import minicnn
from minicnn import nn
from minicnn import functional as F
from minicnn.data import DataLoader, FashionMNIST, Subset, transforms


def init_cnn(module):
    """Initialize weights for CNNs (the book's, d2l 7.6)."""
    if type(module) == nn.Linear or type(module) == nn.Conv2d:
        nn.init.xavier_uniform_(module.weight)


def parse_args(description, resize, lr, epochs, limit, argv=None):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--epochs", type=int, default=epochs, help=f"passes over the subset (default {epochs})")
    parser.add_argument("--batch-size", type=int, default=128, help="the book's 128")
    parser.add_argument("--lr", type=float, default=lr, help=f"SGD learning rate (the book's {lr})")
    parser.add_argument("--resize", type=int, default=resize, help=f"image side (the book's {resize})")
    parser.add_argument("--limit", type=int, default=limit,
                        help=f"training images taken from the 60,000 (default {limit}, so it runs in minutes)")
    parser.add_argument("--test-limit", type=int, default=1000, help="test images (default 1000)")
    parser.add_argument("--max-batches", type=int, default=None, help="stop each epoch after this many batches")
    parser.add_argument("--data-dir", default=None, help="where the Fashion-MNIST files are (default: the usual places)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for name in ("epochs", "batch_size", "resize", "limit", "test_limit", "max_batches"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    if not args.lr > 0:
        parser.error(f"--lr must be > 0, got {args.lr}")
    return args


def load_data(args):
    resize = transforms.Resize((args.resize, args.resize)) if args.resize != 28 else None
    loaders = []
    for train, limit in ((True, args.limit), (False, args.test_limit)):
        dataset = FashionMNIST(root=args.data_dir, train=train, transform=resize)
        subset = Subset(dataset, np.arange(min(limit, len(dataset))))
        loaders.append(DataLoader(subset, args.batch_size, shuffle=train))
    return loaders


def batches(loader, max_batches):
    for i, (X, y) in enumerate(loader):
        if i == max_batches:
            return
        yield minicnn.tensor(X), minicnn.tensor(y)


def accuracy(net, loader, max_batches):
    net.eval()
    correct = total = 0
    with minicnn.no_grad():
        for X, y in batches(loader, max_batches):
            correct += float((net(X).argmax(dim=1) == y).float().sum())
            total += y.numel()
    net.train()
    return correct / total


def main(net, description, resize, lr, epochs=10, limit=6000, argv=None):
    """Train ``net`` (a model of lazy layers) on the subset with SGD, as the book's Trainer does."""
    args = parse_args(description, resize, lr, epochs, limit, argv)
    minicnn.manual_seed(args.seed)
    train_iter, test_iter = load_data(args)
    X, _ = next(iter(batches(train_iter, 1)))
    net(X)                      # the book's apply_init: one batch fixes the lazy layers' shapes,
    net.apply(init_cnn)         # then Xavier init of every Conv2d and Linear
    optimizer = minicnn.optim.SGD(net.parameters(), lr=args.lr)
    print(f"{description}: {sum(p.numel() for p in net.parameters()):,} parameters, "
          f"{len(train_iter.dataset)} training images at {args.resize}x{args.resize}")
    for epoch in range(args.epochs):
        start, losses = time.perf_counter(), []
        for X, y in batches(train_iter, args.max_batches):
            loss = F.cross_entropy(net(X), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        print(f"epoch {epoch + 1}: loss {np.mean(losses):.3f}, "
              f"test acc {accuracy(net, test_iter, args.max_batches):.3f}, "
              f"{time.perf_counter() - start:.1f} s")
    return net
