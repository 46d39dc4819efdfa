"""Loss and accuracy per epoch (train and test) from the history stored in a checkpoint.

    python examples/training_curves.py --checkpoint runs/alexnet_fashionmnist/last.npz --out curves.png
"""
from minicnn import viz
from minicnn.checkpoint import load_checkpoint
from minicnn.cli import main_guard, study_parser


def main(argv=None):
    p = study_parser(__doc__, __file__)
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
    main_guard(main)
