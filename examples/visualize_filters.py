"""The first conv layer's kernels as one image, each kernel scaled to [0, 1] on its own,
like Figure 3 of the AlexNet paper (96 kernels of 11x11x3 learned on ImageNet).

    python examples/visualize_filters.py --checkpoint runs/alexnet_fashionmnist/last.npz --out filters.png
"""
from minicnn import viz
from minicnn.checkpoint import load_checkpoint
from minicnn.cli import main_guard, study_parser


def build_parser():
    p = study_parser(__doc__, __file__)
    p.add_argument("--checkpoint", required=True, help="a .npz written by the trainer")
    p.add_argument("--out", default="filters.png", help="PNG to write")
    p.add_argument("--layer", default=None, help="state_dict key of the conv weight (default: the first one)")
    p.add_argument("--channel", type=int, default=None,
                   help="input channel to show, for layers with neither 1 nor 3 input channels")
    p.add_argument("--ncols", type=int, default=None, help="kernels per row (default: a square grid)")
    return p


def main(argv=None):
    p = build_parser()
    args = p.parse_args(argv)
    state = load_checkpoint(args.checkpoint)["model"]
    convs = [k for k, v in state.items() if k.endswith("weight") and v.ndim == 4]
    if not convs:
        p.error(f"{args.checkpoint} has no conv weight (no 4-D '...weight' entry)")
    key = args.layer or convs[0]
    if key not in convs:
        p.error(f"--layer {key!r} is not a conv weight in {args.checkpoint}; conv weights: {', '.join(convs)}")
    weight = state[key]
    title = f"{key}: {weight.shape[0]} kernels of {weight.shape[2]}x{weight.shape[3]}x{weight.shape[1]}"
    path = viz.filter_grid(weight, args.out, ncols=args.ncols, channel=args.channel, title=title)
    print(f"wrote {path} ({title})")
    return path


if __name__ == "__main__":
    main_guard(main)
