"""Train any zoo model on Fashion-MNIST, MNIST or CIFAR-10 with the shared recipe.

Images are resized to the model's native side (224 for the ImageNet nets and the d2l ones,
28 for mnist_cnn/lenet, 32 for cifar_resnet) unless --resize says otherwise; the model is
built for the dataset's channels and 10 classes. GoogLeNet is trained without its auxiliary
heads here (the trainer expects one logits tensor).

    python examples/train.py --model lenet --dataset fashion-mnist --epochs 5 --lr 0.1 --optimizer sgd
    python examples/train.py --model resnet18 --dataset cifar10 --resize 64 --backend cupy
    python -m minicnn summary resnet18 --input-shape 3 64 64      # look before you train
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import minicnn as mc  # noqa: E402
from minicnn import models, recipes  # noqa: E402

CHANNELS = {"fashion-mnist": 1, "mnist": 1, "cifar10": 3}
NATIVE_SIDE = {"fashion-mnist": 28, "mnist": 28, "cifar10": 32}


def build_model(name, in_channels, side):
    kwargs = {"num_classes": 10, "in_channels": in_channels}
    accepted = models.model_arguments(name)
    if "input_size" in accepted:
        kwargs["input_size"] = side
    if "aux_logits" in accepted:
        kwargs["aux_logits"] = False
    return models.get_model(name, **kwargs)


def main(argv=None):
    parser = recipes.base_parser(__doc__.splitlines()[0], epochs=10, batch_size=128, lr=1e-3)
    parser.add_argument("--model", choices=models.list_models(), required=True, metavar="MODEL",
                        help="one of: " + ", ".join(models.list_models()))
    args = parser.parse_args(argv)
    recipes.positive(parser, args, "epochs", "batch-size", "lr", "resize")
    side = args.resize or models.default_input_shape(args.model)[1]
    args.out = args.out or recipes.default_out(f"{args.model}_{args.dataset}")
    mc.manual_seed(args.seed)
    try:
        model = build_model(args.model, CHANNELS[args.dataset], side)
        mc.summary(model, (CHANNELS[args.dataset], side, side))        # fails early on a size the model cannot take
    except ValueError as err:
        parser.error(f"{args.model} at {side}x{side}: {err}")
    transform = None
    if side != NATIVE_SIDE[args.dataset]:
        from minicnn.data import transforms
        transform = transforms.Resize(side)
    recipes.run(args, model, train_transform=transform, test_transform=transform)


if __name__ == "__main__":
    recipes.main_guard(main)
