"""The seed's CNN on Fashion-MNIST (or MNIST): Conv(1,16,5,p2)-BN-ReLU-MaxPool2 ->
Conv(16,32,5,p2)-BN-ReLU-MaxPool2 -> Linear(7*7*32, 10), Adam lr 1e-3, batch 100.

    python examples/mnist_cnn.py --epochs 1
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import minicnn as mc  # noqa: E402
from minicnn import recipes  # noqa: E402


def main(argv=None):
    parser = recipes.base_parser(__doc__.splitlines()[0], epochs=2, batch_size=100, lr=1e-3)
    args = parser.parse_args(argv)
    recipes.positive(parser, args, "epochs", "batch-size", "lr")
    if args.dataset == "cifar10":
        parser.error("the seed CNN takes 1x28x28 images: use --dataset fashion-mnist or mnist")
    args.out = args.out or recipes.default_out("mnist_cnn")
    mc.manual_seed(args.seed)
    recipes.run(args, mc.models.mnist_cnn(num_classes=10, in_channels=1))


if __name__ == "__main__":
    recipes.main_guard(main)
