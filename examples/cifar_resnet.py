"""The seed's CIFAR-10 ResNet: random horizontal flip + 4-pixel-padded 32x32 crop, Adam lr 1e-3,
batch 100, learning rate divided by 3 every 20 epochs; the state_dict is saved at the end.

    python examples/cifar_resnet.py --epochs 60 --backend cupy
    python examples/cifar_resnet.py --epochs 1 --limit-train 5000      # a CPU smoke run
"""
import os

import numpy as np

import minicnn as mc
from minicnn import cli


def main(argv=None):
    parser = cli.training_parser(__doc__.splitlines()[0], epochs=60, batch_size=100, lr=1e-3,
                                 datasets=("cifar10",), dataset="cifar10", lr_schedule=False)
    parser.add_argument("--lr-step", type=cli.positive_int, default=20,
                        help="divide the learning rate by 3 every this many epochs")
    args = cli.parse(parser, argv)
    mc.manual_seed(args.seed)

    from minicnn import optim
    from minicnn.data import transforms
    model = mc.models.cifar_resnet(num_classes=10, in_channels=3)
    augment = transforms.Compose([transforms.RandomHorizontalFlip(), transforms.RandomCrop(32, padding=4)])
    history = cli.run(args, model, "cifar_resnet", train_transform=augment,
                      scheduler_fn=lambda opt: optim.lr_scheduler.StepLR(opt, step_size=args.lr_step, gamma=1 / 3),
                      scheduler=f"StepLR(step_size={args.lr_step}, gamma=1/3)")
    path = os.path.join(args.out, "cifar_resnet_state_dict.npz")
    np.savez(path, **{k: mc.to_numpy(v) for k, v in model.state_dict().items()})
    print(f"state_dict saved to {path}")
    return history


if __name__ == "__main__":
    cli.main_guard(main)
