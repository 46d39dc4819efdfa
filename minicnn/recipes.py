"""What the example scripts share: the command-line options, data loaders, the optimizer
and the run itself, so each example only says which model and which defaults it uses."""
import argparse
import os
import sys

DATASETS = ("fashion-mnist", "mnist", "cifar10")


def base_parser(description, epochs, batch_size, lr, optimizer="adam", resize=None, dataset="fashion-mnist"):
    """An argparse parser with the options every training example takes."""
    p = argparse.ArgumentParser(description=description,
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--backend", choices=("numpy", "cupy"), default="numpy",
                   help="array backend: numpy (CPU) or cupy (GPU)")
    p.add_argument("--dataset", choices=DATASETS, default=dataset)
    p.add_argument("--epochs", type=int, default=epochs)
    p.add_argument("--batch-size", type=int, default=batch_size)
    p.add_argument("--lr", type=float, default=lr)
    p.add_argument("--optimizer", choices=("adam", "sgd"), default=optimizer)
    p.add_argument("--momentum", type=float, default=0.9, help="SGD momentum")
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--resize", type=int, default=resize, help="resize images to this side (None: keep)")
    p.add_argument("--data-dir", default=None, help="where the dataset files are (default: search the usual places)")
    p.add_argument("--download", action="store_true", help="download the dataset if it is not found")
    p.add_argument("--out", default=None, help="directory for checkpoints, history.json and curves.png")
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.npz")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit-train", type=int, default=None, help="use only the first N training images")
    p.add_argument("--limit-test", type=int, default=None, help="use only the first N test images")
    p.add_argument("--skip-nonfinite", action="store_true", help="skip steps with NaN/inf instead of stopping")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--distributed", action="store_true", help="data-parallel over MPI (launch with mpiexec)")
    return p


def positive(parser, args, *names):
    for name in names:
        value = getattr(args, name.replace("-", "_"))
        if value is not None and value <= 0:
            parser.error(f"--{name} must be positive, got {value}")


def make_dataset(name, root, train, download):
    from . import data
    cls = {"fashion-mnist": data.FashionMNIST, "mnist": data.MNIST, "cifar10": data.CIFAR10}[name]
    return cls(root=root, train=train, download=download)


def subset(dataset, limit):
    """The first ``limit`` examples (the dataset itself when limit is None)."""
    if limit is None or limit >= len(dataset):
        return dataset
    from .data import Subset
    return Subset(dataset, range(limit))


def make_optimizer(args, model):
    from . import optim
    if args.optimizer == "adam":
        return optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    return optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)


def run(args, model, train_transform=None, test_transform=None, scheduler_fn=None):
    """Load the data, train ``model`` with the trainer, print the final test accuracy.
    With ``--distributed`` (under mpiexec) every rank trains on its shard with a per-rank batch
    of batch_size // ranks, gradients averaged after each backward; rank 0 prints and writes."""
    import minicnn as mc
    from .data import DataLoader
    from .train import fit

    comm = None
    if getattr(args, "distributed", False):
        from . import distributed as dist
        comm = dist.init()
        if args.backend == "cupy":
            dist.select_gpu(comm)
    mc.set_backend(args.backend)
    model.to(args.backend)
    train_set = subset(make_dataset(args.dataset, args.data_dir, True, args.download), args.limit_train)
    test_set = subset(make_dataset(args.dataset, args.data_dir, False, args.download), args.limit_test)
    batch_size, sizes = args.batch_size, f"{len(train_set)} training / {len(test_set)} test images"
    if comm is not None and comm.size > 1:
        dist.broadcast_parameters(model, comm)
        mc.manual_seed(args.seed + comm.rank)  # different dropout masks per rank
        train_set = dist.shard_dataset(train_set, comm, seed=args.seed)
        test_set = dist.shard_dataset(test_set, comm, shuffle=False, pad=False)
        batch_size = max(1, args.batch_size // comm.size)
        sizes += f" over {comm.size} ranks (batch {batch_size} per rank)"
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True, transform=train_transform,
                              seed=args.seed, prefetch=1)
    test_loader = DataLoader(test_set, batch_size=max(batch_size, 256), transform=test_transform, prefetch=1)
    optimizer = make_optimizer(args, model)
    if comm is not None and comm.size > 1:
        optimizer = dist.DistributedOptimizer(optimizer, comm)
    scheduler = scheduler_fn(optimizer) if scheduler_fn else None
    main = comm is None or comm.is_main
    if main:
        print(f"{sizes}, batch {args.batch_size}, "
              f"{args.epochs} epochs, {args.optimizer} lr {args.lr}, backend {args.backend}", flush=True)
    history = fit(model, optimizer, train_loader, test_loader, epochs=args.epochs, scheduler=scheduler,
                  out_dir=args.out, resume=bool(args.resume), progress=not args.no_progress and sys.stderr.isatty(),
                  skip_nonfinite=args.skip_nonfinite, comm=comm)
    if main:
        print(f"final test accuracy: {100 * history['test_acc'][-1]:.2f}%", flush=True)
    return history


def main_guard(fn):
    """Run an example's main(); turn the library's clear errors into one-line messages."""
    from .train import NonFiniteError, TrainingInterrupted
    try:
        fn()
    except TrainingInterrupted as e:
        print(f"\n{e}", file=sys.stderr)
        sys.exit(130)
    except (FileNotFoundError, NonFiniteError, RuntimeError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)


def default_out(name):
    return os.path.join("runs", name)
