"""Image retrieval in feature space, like Figure 4 of the AlexNet paper: for a few test
images, the 5 training images whose last-hidden-layer activations (the input of the final
Linear layer, captured with a forward hook) are nearest in Euclidean distance.

    python examples/feature_retrieval.py --checkpoint runs/alexnet_fashionmnist/last.npz --out retrieval.png
"""
import numpy as np

from minicnn import viz
from minicnn.cli import (add_data_options, add_model_options, check_index, images, load_dataset, load_model,
                         main_guard, study_parser)


def build_parser():
    p = study_parser(__doc__, __file__)
    add_model_options(p)
    add_data_options(p)
    p.add_argument("--queries", type=int, nargs="+", default=[0, 1, 2, 3, 4], help="test image indices")
    p.add_argument("--k", type=int, default=5, help="neighbours per query")
    p.add_argument("--limit", type=int, default=2000,
                   help="search the first N training images (0: all 60,000; slow on a CPU at 224x224)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--out", default="retrieval.png", help="PNG to write")
    return p


def main(argv=None):
    p = build_parser()
    args = p.parse_args(argv)
    if args.k < 1 or args.batch_size < 1 or args.limit < 0:
        p.error("--k and --batch-size must be positive and --limit >= 0")
    model, side = load_model(args)
    train_set = load_dataset(args, train=True, side=side)
    test_set = load_dataset(args, train=False, side=side)
    for q in args.queries:
        check_index(p, "--queries", q, len(test_set))
    n_train = len(train_set) if args.limit == 0 else min(args.limit, len(train_set))
    if args.k > n_train:
        p.error(f"--k {args.k} is larger than the {n_train} training images searched")
    features, train_labels = [], []
    for start in range(0, n_train, args.batch_size):
        x, y = images(train_set, np.arange(start, min(start + args.batch_size, n_train)))
        features.append(viz.penultimate_features(model, x, batch_size=args.batch_size))
        train_labels.append(y)
    train_features, train_labels = np.concatenate(features), np.concatenate(train_labels)
    query_x, query_y = images(test_set, args.queries)
    query_features = viz.penultimate_features(model, query_x)
    indices, distances = viz.nearest_neighbours(query_features, train_features, k=args.k)
    raw_train = train_set.images(np.arange(n_train))          # shown at the native resolution
    raw_query = test_set.images(np.asarray(args.queries))
    path = viz.retrieval_grid(raw_query, raw_train, indices, args.out, query_labels=query_y,
                                 train_labels=train_labels, class_names=test_set.classes or None,
                                 title=f"{args.model}: nearest of {n_train} training images in "
                                       f"{train_features.shape[1]}-d feature space")
    same = float((train_labels[indices] == query_y[:, None]).mean())
    print(f"wrote {path}; {100 * same:.0f}% of the neighbours share the query's label; "
          f"distances {distances.min():.3g} to {distances.max():.3g}")
    return path


if __name__ == "__main__":
    main_guard(main)
