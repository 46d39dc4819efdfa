"""One candidate for the quick preset of examples/alexnet_fashionmnist.py: train the d2l AlexNet
on Fashion-MNIST with a given batch, number of images, (fractional) epochs and lr schedule,
then print the test accuracy over all 10,000 test images as one JSON line.

    python benchmarks/preset_search.py --batch 32 --limit 60000 --epochs 1 --schedule cosine

A bare loop (no checkpoints, no guard, no callbacks), so that candidates can run side by side
(``--threads 1`` each) and be compared by accuracy; the preset's time is then measured with the
example itself on an idle machine. The candidates and their results: benchmarks/ANALYSIS.md.
"""
import argparse
import json
import math
import time

import minicnn as mc
from minicnn import cli, functional as F
from minicnn.data import DataLoader, transforms


def learning_rate(schedule, lr, step, total):
    """The lr of step ``step`` (0-based) of ``total``: constant, or cosine from lr down to 0."""
    if schedule == "constant":
        return lr
    return lr * (1 + math.cos(math.pi * step / total)) / 2


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--limit", type=int, default=60000, help="use the first N training images")
    p.add_argument("--epochs", type=float, default=1.0, help="may be fractional: steps = ceil(epochs * batches)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--schedule", choices=("constant", "cosine"), default="cosine")
    p.add_argument("--resize", type=int, default=72)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args()
    if args.threads:
        mc.threads.set_num_threads(args.threads)
    mc.manual_seed(args.seed)
    model = mc.models.alexnet(num_classes=10, in_channels=1, input_size=args.resize, variant="d2l")
    resize = transforms.Resize(args.resize)
    train = DataLoader(cli.subset(cli.make_dataset("fashion-mnist", None, True, False), args.limit),
                       batch_size=args.batch, shuffle=True, transform=resize, seed=args.seed, prefetch=1)
    test = DataLoader(cli.make_dataset("fashion-mnist", None, False, False), batch_size=256, transform=resize)
    opt = mc.optim.Adam(model.parameters(), lr=args.lr)
    total, step, start = int(math.ceil(args.epochs * len(train))), 0, time.time()
    while step < total:
        model.train()
        for x, y in train:
            for group in opt.param_groups:
                group["lr"] = learning_rate(args.schedule, args.lr, step, total)
            loss = F.cross_entropy(model(mc.Tensor(x)), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step >= total:
                break
    model.eval()
    correct = seen = 0
    with mc.no_grad():
        for x, y in test:
            correct += int((model(mc.Tensor(x)).data.argmax(1) == y).sum())
            seen += len(y)
    print(json.dumps({"args": vars(args), "steps": total, "test_accuracy": correct / seen,
                      "train_seconds": round(time.time() - start)}))


if __name__ == "__main__":
    main()
