"""Pictures for studying a network: training curves (more tools are added beside it).

matplotlib runs with the Agg backend (files, no window), like the seed's figures.
"""
import os
import tempfile


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save_figure(fig, path, dpi=100):
    """Write ``fig`` to ``path`` atomically (temp file in the same directory, then rename)."""
    plt = _pyplot()
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    suffix = os.path.splitext(path)[1] or ".png"
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=directory)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight")
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def plot_history(history, path):
    """Loss and accuracy per epoch (train and test) side by side, like d2l's Animator plots."""
    plt = _pyplot()
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.5))
    epochs = range(1, len(history["train_loss"]) + 1)
    ax_loss.plot(epochs, history["train_loss"], "o-", label="train loss")
    if history.get("test_loss"):
        ax_loss.plot(epochs, history["test_loss"], "s--", label="test loss")
    ax_acc.plot(epochs, [100 * a for a in history["train_acc"]], "o-", label="train acc")
    if history.get("test_acc"):
        ax_acc.plot(epochs, [100 * a for a in history["test_acc"]], "s--", label="test acc")
    for ax, label in ((ax_loss, "loss"), (ax_acc, "accuracy (%)")):
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
        ax.legend()
    return save_figure(fig, path)
