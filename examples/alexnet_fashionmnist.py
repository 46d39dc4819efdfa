"""AlexNet on Fashion-MNIST, the d2l way: images resized 28 -> 224, Adam lr 1e-3, batch 256,
10 epochs (the seed reached 85.71 % test accuracy after epoch 1 and 91.75 % after 10).

    python examples/alexnet_fashionmnist.py --backend numpy --quick   # 2-core CPU preset
    python examples/alexnet_fashionmnist.py --backend cupy            # the full recipe on a GPU
"""
import minicnn as mc
from minicnn import cli

# --quick: a CPU preset that a 2-core laptop finishes in under ten minutes: one epoch over all
# 60,000 training images at 72 pixels, batch 32, Adam 5e-4 annealed to 0 by a cosine over the
# 1,875 steps. The model is the same d2l AlexNet; its flatten size follows the smaller input
# (see models/alexnet.py). Chosen by measurement (benchmarks/ANALYSIS.md): for the same time,
# smaller batches, more distinct images and the annealed lr each gave more accuracy than
# more epochs over fewer images.
QUICK = {"resize": 72, "epochs": 1, "batch_size": 32, "lr": 5e-4, "lr_schedule": "cosine"}


def main(argv=None):
    parser = cli.training_parser(__doc__.splitlines()[0], epochs=10, batch_size=256, lr=1e-3, resize=224,
                                 datasets=("fashion-mnist", "mnist"))
    parser.add_argument("--variant", choices=("d2l", "paper"), default="d2l",
                        help="d2l: the seed's AlexNet; paper: LRN, groups=2, the paper's init")
    parser.add_argument("--quick", action="store_true",
                        help=f"CPU preset: {', '.join(f'{k}={v}' for k, v in QUICK.items())}")
    args = cli.parse(parser, argv)
    if args.quick:
        for key, value in QUICK.items():
            if getattr(args, key) == parser.get_default(key):
                setattr(args, key, value)
    mc.manual_seed(args.seed)

    from minicnn.data import transforms
    model_args = {"num_classes": 10, "in_channels": 1, "input_size": args.resize, "variant": args.variant}
    model = mc.models.alexnet(**model_args)
    resize = transforms.Resize(args.resize)
    return cli.run(args, model, "alexnet_fashionmnist", model_name="alexnet", model_args=model_args,
                   train_transform=resize, test_transform=resize)


if __name__ == "__main__":
    cli.main_guard(main)
