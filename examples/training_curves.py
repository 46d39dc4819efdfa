"""Loss and accuracy per epoch (train and test) from the history stored in a checkpoint.

    python examples/training_curves.py --checkpoint runs/alexnet_fashionmnist/last.npz --out curves.png
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, ".."), HERE]

from minicnn import viz  # noqa: E402
from minicnn.checkpoint import load_checkpoint  # noqa: E402
from _study import parser  # noqa: E402


def main(argv=None):
    p = parser(__doc__, __file__)
    p.add_argument("--checkpoint", required=True, help="a .npz written by the trainer")
    p.add_argument("--out", default="curves.png", help="PNG to write")
    args = p.parse_args(argv)
    history = load_checkpoint(args.checkpoint)["meta"].get("history") or {}
    if not history.get("train_loss"):
        p.error(f"{args.checkpoint} holds no training history (it was not written by minicnn.train.fit "
                "after a finished epoch)")
    path = viz.plot_history(history, args.out)
    print(f"wrote {path} ({len(history['train_loss'])} epochs)")
    return path


if __name__ == "__main__":
    from minicnn.recipes import main_guard
    main_guard(main)
