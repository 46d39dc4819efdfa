"""Command line: ``python -m minicnn summary NAME [--input-shape C H W] [--batch-size N] [--num-classes K]``.

Prints the torchinfo-style table of a zoo model. The model is built with ``in_channels=C``
(and ``input_size=H`` for the nets whose flatten size depends on it, e.g. AlexNet), so
``python -m minicnn summary alexnet --input-shape 1 224 224`` is the seed's table.
"""
import argparse
import sys

from . import models
from .summary import summary


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m minicnn", description="minicnn command-line tools")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    table = commands.add_parser("summary", help="print a zoo model's layers, shapes, parameters and mult-adds")
    table.add_argument("model", choices=models.list_models(), metavar="MODEL",
                       help="one of: " + ", ".join(models.list_models()))
    table.add_argument("--input-shape", type=int, nargs=3, metavar=("C", "H", "W"),
                       help="per-sample input shape (default: the model's native one)")
    table.add_argument("--batch-size", type=int, default=1)
    table.add_argument("--num-classes", type=int, default=None, help="default: the model's own")
    return parser


def run_summary(args):
    shape = tuple(args.input_shape) if args.input_shape else models.default_input_shape(args.model)
    accepted = models.model_arguments(args.model)
    kwargs = {"in_channels": shape[0]}
    if args.num_classes is not None:
        kwargs["num_classes"] = args.num_classes
    if "input_size" in accepted:
        if shape[1] != shape[2]:
            raise ValueError(f"{args.model} is built for square inputs; got H={shape[1]}, W={shape[2]}")
        kwargs["input_size"] = shape[1]
    model = models.get_model(args.model, **kwargs)
    print(summary(model, shape, batch_size=args.batch_size))


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.batch_size < 1:
        parser.error(f"--batch-size must be at least 1, got {args.batch_size}")
    try:
        run_summary(args)
    except ValueError as err:
        parser.error(str(err))
    return 0


if __name__ == "__main__":
    sys.exit(main())
