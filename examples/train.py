"""Train any zoo model on Fashion-MNIST, MNIST or CIFAR-10 with the shared recipe.

Images are resized to the model's native side (224 for the ImageNet nets and the d2l ones,
28 for mnist_cnn/lenet, 32 for cifar_resnet) unless --resize says otherwise; the model is
built for the dataset's channels and 10 classes. GoogLeNet is trained without its auxiliary
heads here (the trainer expects one logits tensor).

    python examples/train.py --model lenet --dataset fashion-mnist --epochs 5 --lr 0.1 --optimizer sgd
    python examples/train.py --model resnet18 --dataset cifar10 --resize 64 --backend cupy
    python -m minicnn summary resnet18 --input-shape 3 64 64      # look before you train
"""
import minicnn as mc
from minicnn import cli, models

CHANNELS = {"fashion-mnist": 1, "mnist": 1, "cifar10": 3}
NATIVE_SIDE = {"fashion-mnist": 28, "mnist": 28, "cifar10": 32}


def model_arguments(name, in_channels, side):
    kwargs = {"num_classes": 10, "in_channels": in_channels}
    accepted = models.model_arguments(name)
    if "input_size" in accepted:
        kwargs["input_size"] = side
    if "aux_logits" in accepted:
        kwargs["aux_logits"] = False
    return kwargs


def build_model(name, in_channels, side):
    return models.get_model(name, **model_arguments(name, in_channels, side))


def main(argv=None):
    parser = cli.training_parser(__doc__.splitlines()[0], epochs=10, batch_size=128, lr=1e-3, resize=None)
    parser.add_argument("--model", choices=models.list_models(), required=True, metavar="MODEL",
                        help="one of: " + ", ".join(models.list_models()))
    args = cli.parse(parser, argv)
    side = args.resize or models.default_input_shape(args.model)[1]
    mc.manual_seed(args.seed)
    model_args = model_arguments(args.model, CHANNELS[args.dataset], side)
    try:
        model = models.get_model(args.model, **model_args)
        mc.summary(model, (CHANNELS[args.dataset], side, side))        # fails early on a size the model cannot take
    except ValueError as err:
        parser.error(f"{args.model} at {side}x{side}: {err}")
    transform = None
    if side != NATIVE_SIDE[args.dataset]:
        from minicnn.data import transforms
        transform = transforms.Resize(side)
    return cli.run(args, model, f"{args.model}_{args.dataset}", model_name=args.model, model_args=model_args,
                   train_transform=transform, test_transform=transform)


if __name__ == "__main__":
    cli.main_guard(main)
