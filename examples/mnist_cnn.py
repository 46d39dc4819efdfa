"""The seed's CNN on Fashion-MNIST (or MNIST): Conv(1,16,5,p2)-BN-ReLU-MaxPool2 ->
Conv(16,32,5,p2)-BN-ReLU-MaxPool2 -> Linear(7*7*32, 10), Adam lr 1e-3, batch 100.

    python examples/mnist_cnn.py --epochs 1
"""
import minicnn as mc
from minicnn import cli

# Per-dataset pixel mean and std of the training images (over all 60,000 of them).
STATS = {"fashion-mnist": (0.2860, 0.3530), "mnist": (0.1307, 0.3081)}


def main(argv=None):
    parser = cli.training_parser(__doc__.splitlines()[0], epochs=2, batch_size=100, lr=1e-3,
                                 datasets=("fashion-mnist", "mnist"))
    parser.add_argument("--no-normalize", action="store_true",
                        help="feed raw [0, 1] pixels as the seed does (default: standardise with the "
                             "training set's mean and std)")
    args = cli.parse(parser, argv)
    mc.manual_seed(args.seed)
    from minicnn.data import transforms
    norm = None if args.no_normalize else transforms.Normalize(*STATS[args.dataset])
    return cli.run(args, mc.models.mnist_cnn(num_classes=10, in_channels=1), "mnist_cnn", train_transform=norm,
                   test_transform=norm, normalize=not args.no_normalize)


if __name__ == "__main__":
    cli.main_guard(main)
