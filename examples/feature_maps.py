"""Feature maps of every conv layer of a trained model for one test image (captured with
forward hooks); optionally ZFNet-style deconvnet projections of the strongest activations.

    python examples/feature_maps.py --checkpoint runs/alexnet_fashionmnist/last.npz --index 0 --out maps.png
"""
from minicnn import viz
from minicnn.cli import (add_data_options, add_model_options, check_index, images, load_dataset, load_model,
                         main_guard, study_parser)


def build_parser():
    p = study_parser(__doc__, __file__)
    add_model_options(p)
    add_data_options(p)
    p.add_argument("--index", type=int, default=0, help="which test image")
    p.add_argument("--out", default="feature_maps.png", help="PNG to write")
    p.add_argument("--max-maps", type=int, default=8, help="channels shown per layer")
    p.add_argument("--deconv-out", default=None,
                   help="also write deconvnet projections (ZFNet) of the most active channels to this PNG")
    p.add_argument("--top", type=int, default=4, help="channels per layer in --deconv-out")
    return p


def main(argv=None):
    p = build_parser()
    args = p.parse_args(argv)
    model, side = load_model(args)
    test_set = load_dataset(args, train=False, side=side)
    check_index(p, "--index", args.index, len(test_set))
    x, y = images(test_set, [args.index])
    label = test_set.classes[int(y[0])] if test_set.classes else int(y[0])
    title = f"{args.model}, test image {args.index} ({label})"
    path = viz.feature_maps(model, x[0], args.out, max_maps=args.max_maps, title=title)
    print(f"wrote {path}")
    if args.deconv_out:
        print(f"wrote {viz.deconv_figure(model, x[0], args.deconv_out, top=args.top, title=title)}")
    return path


if __name__ == "__main__":
    main_guard(main)
