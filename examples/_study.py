"""What the study examples (visualize_filters, feature_maps, feature_retrieval,
training_curves) share: the checkpoint/model options and the test images."""
import argparse
import os

import minicnn as mc

DATASETS = ("fashion-mnist", "mnist")


def parser(doc, script):
    """An argparse parser named after ``script`` (its __file__), described by the first paragraph of ``doc``."""
    return argparse.ArgumentParser(prog=os.path.basename(script), description=" ".join(doc.split("\n\n")[0].split()),
                                   formatter_class=argparse.ArgumentDefaultsHelpFormatter)


def add_model_options(p):
    p.add_argument("--checkpoint", required=True, help="a .npz written by the trainer (e.g. runs/NAME/last.npz)")
    p.add_argument("--model", default="alexnet", help="zoo name the checkpoint was trained as (minicnn.models.list_models())")
    p.add_argument("--input-size", type=int, default=None,
                   help="image side the model was trained on (default: the model's own, e.g. 224 for alexnet)")
    p.add_argument("--backend", choices=("numpy", "cupy"), default="numpy")


def add_data_options(p):
    p.add_argument("--dataset", choices=DATASETS, default="fashion-mnist")
    p.add_argument("--data-dir", default=None, help="directory with the IDX files (default: the usual places)")
    p.add_argument("--no-verify", action="store_true",
                   help="skip the SHA-256 check of the data files (for files that are not the published ones)")


def load_model(args):
    """The zoo model of the checkpoint, in eval mode, and the image side it takes."""
    mc.set_backend(args.backend)
    kwargs = {}
    if args.input_size is not None:
        kwargs["input_size"] = args.input_size
    from minicnn import models, viz
    try:
        model = viz.model_from_checkpoint(args.checkpoint, args.model, **kwargs)
    except ValueError as e:
        raise ValueError(f"{e}\n(choose the network with --model NAME and its image side with --input-size N)") from None
    model.to(args.backend)
    side = args.input_size or models.default_input_shape(args.model)[1]
    return model, side


def load_dataset(args, train, side):
    """FashionMNIST/MNIST split with images resized to ``side`` (when it differs from 28)."""
    from minicnn import data
    cls = data.FashionMNIST if args.dataset == "fashion-mnist" else data.MNIST
    transform = data.transforms.Resize((side, side)) if side != 28 else None
    return cls(root=args.data_dir, train=train, transform=transform, verify=not args.no_verify)


def images(dataset, indices):
    """(n, C, H, W) float32 NumPy images of ``dataset`` (transform applied) and their labels."""
    import numpy as np
    x, y = dataset.get_batch(np.asarray(indices), np)
    return x, y


def check_index(p, name, value, size):
    if not 0 <= value < size:
        p.error(f"{name} {value} is out of range: the split has {size} images (0 to {size - 1})")
