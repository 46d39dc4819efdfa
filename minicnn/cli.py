"""The examples' shared command line: the options, the run, and one-line errors.

A training example builds its parser with ``training_parser`` (only the options it uses:
``--resize`` only where images are resized, ``--dataset`` only with the datasets its model
takes), then calls ``run``. The study examples (filters, feature maps, retrieval, curves) use
``study_parser`` with ``add_model_options``/``add_data_options``. ``main_guard`` runs an
example's main: a library error becomes one line ``error: ...`` and exit status 1; an
unexpected bug (AttributeError, KeyError, ...) keeps its traceback.

Every value is checked while parsing (argparse errors, exit status 2), so nothing is
loaded or trained before a bad flag is reported; ``--out`` is checked before the data.
"""
import argparse
import math
import os
import sys

DATASETS = ("fashion-mnist", "mnist", "cifar10")
LR_SCHEDULES = ("constant", "cosine")


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def _real(text, low, what, low_open=False, high=None):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    bad_low = value <= low if low_open else value < low
    if not math.isfinite(value) or bad_low or (high is not None and value > high):
        raise argparse.ArgumentTypeError(f"must be {what}, got {text}")
    return value


def positive_float(text):
    return _real(text, 0.0, "a finite number > 0", low_open=True)


def nonnegative_float(text):
    return _real(text, 0.0, "a finite number >= 0")


def unit_float(text):
    return _real(text, 0.0, "a number in [0, 1]", high=1.0)


def training_parser(description, epochs, batch_size, lr, optimizer="adam", datasets=DATASETS,
                    dataset="fashion-mnist", resize=False, lr_schedule=True):
    """The options of a training example. resize: False (no --resize option), None (an
    optional --resize, default: keep the size) or the default side. lr_schedule: offer
    --lr-schedule (constant, or cosine over all the run's steps); False where the example
    brings its own schedule."""
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--backend", choices=("numpy", "cupy"), default="numpy",
                   help="array backend: numpy (CPU) or cupy (GPU)")
    p.add_argument("--dataset", choices=datasets, default=dataset)
    p.add_argument("--epochs", type=positive_int, default=epochs)
    p.add_argument("--batch-size", type=positive_int, default=batch_size)
    p.add_argument("--lr", type=positive_float, default=lr)
    p.add_argument("--optimizer", choices=("adam", "sgd"), default=optimizer)
    p.add_argument("--momentum", type=unit_float, default=None, help="SGD momentum (only with --optimizer sgd; 0.9)")
    p.add_argument("--weight-decay", type=nonnegative_float, default=0.0)
    if lr_schedule:
        p.add_argument("--lr-schedule", choices=LR_SCHEDULES, default="constant",
                       help="constant: --lr throughout; cosine: from --lr down to 0 over all the run's steps "
                            "(CosineAnnealingLR stepped after every batch)")
    if resize is not False:
        p.add_argument("--resize", type=positive_int, default=resize, help="resize images to this side")
    p.add_argument("--data-dir", default=None,
                   help="the directory with the dataset files, the only place looked in (default: search "
                        "$MINICNN_DATA, ~/.cache/minicnn, /usr/share/datasets)")
    p.add_argument("--download", action="store_true", help="download the dataset if it is not found")
    p.add_argument("--no-verify", action="store_true",
                   help="accept data files that are not the published ones (files of another known dataset "
                        "are still refused)")
    p.add_argument("--out", default=None, help="run directory for checkpoints, history.json and curves.png "
                                               "(default: runs/NAME; one that holds a run gets a fresh -N sibling)")
    run_mode = p.add_mutually_exclusive_group()
    run_mode.add_argument("--resume", action="store_true", help="continue the run in OUT (from OUT/last.npz)")
    run_mode.add_argument("--overwrite", action="store_true", help="replace the run in OUT")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit-train", type=positive_int, default=None, help="use only the first N training images")
    p.add_argument("--limit-test", type=positive_int, default=None, help="use only the first N test images")
    p.add_argument("--skip-nonfinite", action="store_true", help="undo and skip steps with NaN/inf instead of stopping")
    p.add_argument("--amp", action="store_true", help="mixed precision: float16 compute, float32 master weights "
                                                      "(for --backend cupy; correct but slow on numpy)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--distributed", action="store_true", help="data-parallel over MPI (launch with mpiexec)")
    p.add_argument("--tensorboard", metavar="DIR", default=None,
                   help="also write TensorBoard event files to DIR (pip install 'minicnn[tensorboard]')")
    return p


def parse(parser, argv=None):
    """parse_args plus the checks between options (momentum only for SGD; --tensorboard needs tensorboardX)."""
    args = parser.parse_args(argv)
    if args.momentum is not None and args.optimizer != "sgd":
        parser.error(f"--momentum applies to --optimizer sgd only (got --optimizer {args.optimizer})")
    if args.optimizer == "sgd" and args.momentum is None:
        args.momentum = 0.9
    if getattr(args, "tensorboard", None):
        import importlib.util
        if importlib.util.find_spec("tensorboardX") is None:
            parser.error("--tensorboard needs tensorboardX: pip install 'minicnn[tensorboard]'")
    return args


def make_dataset(name, root, train, download, verify=True):
    from . import data
    cls = {"fashion-mnist": data.FashionMNIST, "mnist": data.MNIST, "cifar10": data.CIFAR10}[name]
    return cls(root=root, train=train, download=download, verify=verify)


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


def run_config(args, name, model_args=None, scheduler=None, ranks=1, **extra):
    """What the checkpoint records of the run, and what --resume must match."""
    import minicnn as mc
    config = {"model": name, "model_args": model_args or {}, "dataset": args.dataset,
              "resize": getattr(args, "resize", None), "batch_size": args.batch_size, "optimizer": args.optimizer,
              "lr": args.lr, "momentum": args.momentum, "weight_decay": args.weight_decay, "scheduler": scheduler,
              "seed": args.seed, "limit_train": args.limit_train, "limit_test": args.limit_test, "amp": args.amp,
              "lr_schedule": getattr(args, "lr_schedule", None),
              "ranks": ranks, "version": mc.__version__}
    config.update(extra)
    return config


def run(args, model, name, model_name=None, model_args=None, train_transform=None, test_transform=None,
        scheduler_fn=None, scheduler=None, **config_extra):
    """Check --out, load the data, train ``model`` with fit, print the final test accuracy.

    name: the run's name (runs/NAME). The configuration records model_name (default: name),
    model_args, scheduler (a description) and config_extra too.
    With ``--distributed`` (under mpiexec) every rank trains on its shard with a per-rank batch
    of batch_size // ranks, gradients averaged after each backward; rank 0 prints and writes."""
    import minicnn as mc
    from .data import DataLoader
    from .run_dir import choose_run_dir
    from .train import fit

    comm = None
    if args.distributed:
        from . import distributed as dist
        comm = dist.init()
        if args.backend == "cupy":
            dist.select_gpu(comm)
    main = comm is None or comm.is_main
    ranks = comm.size if comm is not None else 1
    out = choose_run_dir(args.out or os.path.join("runs", name), args.resume, args.overwrite,
                         log=lambda s: print(s, flush=True) if main else None, writer=main)
    mc.set_backend(args.backend)
    model.to(args.backend)
    train_set = subset(make_dataset(args.dataset, args.data_dir, True, args.download, not args.no_verify),
                       args.limit_train)
    test_set = subset(make_dataset(args.dataset, args.data_dir, False, args.download, not args.no_verify),
                      args.limit_test)
    batch_size, sizes = args.batch_size, f"{len(train_set)} training / {len(test_set)} test images"
    if ranks > 1:
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
    interval = "epoch"
    if getattr(args, "lr_schedule", "constant") == "cosine":
        if scheduler_fn is not None:
            raise ValueError(f"{name}: --lr-schedule cosine cannot be combined with the example's own schedule")
        from .optim.lr_scheduler import CosineAnnealingLR
        steps = args.epochs * len(train_loader)
        scheduler_fn, interval = (lambda opt: CosineAnnealingLR(opt, T_max=steps)), "step"
        scheduler = f"CosineAnnealingLR(T_max={steps}) per step"
    if ranks > 1:
        optimizer = dist.DistributedOptimizer(optimizer, comm)
    amp = None
    if args.amp:
        from .amp import MixedPrecision
        amp = MixedPrecision(model)
    if main:
        print(f"{sizes}, batch {args.batch_size}, {args.epochs} epochs, {args.optimizer} lr {args.lr}, "
              f"backend {args.backend}{', amp' if amp else ''}, out {out}", flush=True)
    callbacks = _monitors(args, main)
    try:
        history = fit(model, optimizer, train_loader, test_loader, epochs=args.epochs,
                      scheduler=scheduler_fn(optimizer) if scheduler_fn else None, out_dir=out, resume=args.resume,
                      overwrite=args.overwrite, progress=not args.no_progress and sys.stderr.isatty(),
                      skip_nonfinite=args.skip_nonfinite, comm=comm, amp=amp, callbacks=callbacks,
                      scheduler_interval=interval,
                      config=run_config(args, model_name or name, model_args, scheduler, ranks, **config_extra))
    finally:
        for callback in callbacks:
            if hasattr(callback, "close"):      # the TensorBoard writer flushes and closes its file
                callback.close()
    if main and out and history.get("layer_stats"):
        from .viz import plot_gradient_flow
        plot_gradient_flow(history, os.path.join(out, "gradient_flow.png"))
    if main and history["test_acc"]:
        print(f"final test accuracy: {100 * history['test_acc'][-1]:.2f}%", flush=True)
    args.out = out
    return history


def _monitors(args, main):
    """LayerStats (gradient statistics every 10th step into history.json, dead ReLUs) and, with
    --tensorboard DIR on the writing rank, the TensorBoard logger."""
    from .monitor import LayerStats, TensorBoardLogger
    callbacks = [LayerStats(every=10)]
    if getattr(args, "tensorboard", None) and main:
        callbacks.append(TensorBoardLogger(args.tensorboard))
    return callbacks


def main_guard(fn, argv=None):
    """Run an example's main(); a library error becomes one line ``error: ...`` on stderr and exit
    status 1, Ctrl-C after a checkpoint exit status 130; a bug keeps its traceback."""
    from .train import NonFiniteError, TrainingInterrupted
    try:
        return fn() if argv is None else fn(argv)
    except TrainingInterrupted as e:
        print(f"\n{e}", file=sys.stderr)
        sys.exit(130)
    except (TypeError, ValueError, OSError, NonFiniteError, RuntimeError) as e:
        print(f"error: {one_line(str(e)) or type(e).__name__}", file=sys.stderr)
        sys.exit(1)


def one_line(message):
    """A multi-line message as one line: "Searched:\n  a\n  b" -> "Searched: a; b"."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return "".join(line + ("" if i == len(lines) - 1 else " " if line.endswith(":") else "; ")
                   for i, line in enumerate(lines))


# --- the study examples: a trained checkpoint and the test images ----------------------------------

def study_parser(doc, script):
    """A parser named after ``script`` (its __file__), described by the first paragraph of ``doc``."""
    return argparse.ArgumentParser(prog=os.path.basename(script), description=" ".join(doc.split("\n\n")[0].split()),
                                   formatter_class=argparse.ArgumentDefaultsHelpFormatter)


def add_model_options(p):
    p.add_argument("--checkpoint", required=True, help="a .npz written by the trainer (e.g. runs/NAME/last.npz)")
    p.add_argument("--model", default="alexnet", help="zoo name the checkpoint was trained as (minicnn.models.list_models())")
    p.add_argument("--input-size", type=positive_int, default=None,
                   help="image side the model was trained on (default: the model's own, e.g. 224 for alexnet)")
    p.add_argument("--backend", choices=("numpy", "cupy"), default="numpy")


def add_data_options(p):
    p.add_argument("--dataset", choices=("fashion-mnist", "mnist"), default="fashion-mnist")
    p.add_argument("--data-dir", default=None, help="directory with the IDX files, the only place looked in "
                                                    "(default: the usual places)")
    p.add_argument("--no-verify", action="store_true",
                   help="skip the SHA-256 check of the data files (for files that are not the published ones)")


def load_model(args):
    """The zoo model of the checkpoint, in eval mode, and the image side it takes."""
    import minicnn as mc
    from . import models, viz
    mc.set_backend(args.backend)
    kwargs = {} if args.input_size is None else {"input_size": args.input_size}
    try:
        model = viz.model_from_checkpoint(args.checkpoint, args.model, **kwargs)
    except ValueError as e:
        raise ValueError(f"{e} (choose the network with --model NAME and its image side with --input-size N)") from None
    model.to(args.backend)
    return model, args.input_size or models.default_input_shape(args.model)[1]


def load_dataset(args, train, side):
    """FashionMNIST/MNIST split with images resized to ``side`` (when it differs from 28)."""
    from . import data
    cls = data.FashionMNIST if args.dataset == "fashion-mnist" else data.MNIST
    transform = data.transforms.Resize((side, side)) if side != 28 else None
    return cls(root=args.data_dir, train=train, transform=transform, verify=not args.no_verify)


def images(dataset, indices):
    """(n, C, H, W) float32 NumPy images of ``dataset`` (transform applied) and their labels."""
    import numpy as np
    return dataset.get_batch(np.asarray(indices), np)


def check_index(p, name, value, size):
    if not 0 <= value < size:
        p.error(f"{name} {value} is out of range: the split has {size} images (0 to {size - 1})")
