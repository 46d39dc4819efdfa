"""The seed's CIFAR-10 ResNet: random horizontal flip + 4-pixel-padded 32x32 crop, Adam lr 1e-3,
batch 100, learning rate divided by 3 every 20 epochs; the state_dict is saved at the end.

    python examples/cifar_resnet.py --epochs 60 --backend cupy
    python examples/cifar_resnet.py --epochs 1 --limit-train 5000      # a CPU smoke run
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

import minicnn as mc  # noqa: E402
from minicnn import recipes  # noqa: E402


def main(argv=None):
    parser = recipes.base_parser(__doc__.splitlines()[0], epochs=60, batch_size=100, lr=1e-3, dataset="cifar10")
    parser.add_argument("--lr-step", type=int, default=20, help="divide the learning rate by 3 every this many epochs")
    args = parser.parse_args(argv)
    recipes.positive(parser, args, "epochs", "batch-size", "lr", "lr-step")
    if args.dataset != "cifar10":
        parser.error("the seed's ResNet is for 3x32x32 CIFAR-10 images: use --dataset cifar10")
    args.out = args.out or recipes.default_out("cifar_resnet")
    mc.manual_seed(args.seed)

    from minicnn import optim
    from minicnn.data import transforms
    model = mc.models.cifar_resnet(num_classes=10, in_channels=3)
    augment = transforms.Compose([transforms.RandomHorizontalFlip(), transforms.RandomCrop(32, padding=4)])
    recipes.run(args, model, train_transform=augment,
                scheduler_fn=lambda opt: optim.lr_scheduler.StepLR(opt, step_size=args.lr_step, gamma=1 / 3))
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "cifar_resnet_state_dict.npz")
    np.savez(path, **{k: mc.to_numpy(v) for k, v in model.state_dict().items()})
    print(f"state_dict saved to {path}")


if __name__ == "__main__":
    recipes.main_guard(main)
