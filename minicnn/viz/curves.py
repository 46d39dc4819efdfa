"""Training curves: loss and accuracy per epoch with the smoothed loss of every step
(``curves.png``), and the gradient flow across layers from ``monitor.LayerStats``."""
import numpy as np

from .figures import _pyplot, save_figure


def smooth(values, smoothing=0.8):
    """Exponential moving average with TensorBoard's bias correction: the first points are
    not pulled toward 0. ``smoothing`` in [0, 1): 0 gives the values back."""
    if not 0 <= smoothing < 1:
        raise ValueError(f"smooth: smoothing must be in [0, 1), got {smoothing}")
    out, average = [], 0.0
    for i, v in enumerate(values, start=1):
        average = smoothing * average + (1 - smoothing) * v
        out.append(average / (1 - smoothing ** i))
    return np.array(out)


def plot_history(history, path, smoothing=0.8, steps_per_epoch=None):
    """Loss and accuracy per epoch (train and test) side by side, like d2l's Animator plots.
    With ``history["step_loss"]`` (the trainer keeps every step's loss) the loss panel also
    shows each step, faint, and its moving average, on the same epoch axis: a one-epoch run
    is a curve, not a lone dot. The steps are spread evenly over the finished epochs unless
    ``steps_per_epoch`` is given (a plot in the middle of an epoch needs it)."""
    plt = _pyplot()
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.5))
    epochs = np.arange(1, len(history.get("train_loss", [])) + 1)
    steps = np.asarray(history.get("step_loss") or [], dtype=np.float64)
    if steps.size and (len(epochs) or steps_per_epoch):
        per_epoch = steps_per_epoch or steps.size / len(epochs)
        at = np.arange(1, steps.size + 1) / per_epoch
        ax_loss.plot(at, steps, color="tab:blue", alpha=0.2, linewidth=0.8)
        ax_loss.plot(at, smooth(steps, smoothing), color="tab:blue", linewidth=1.2, label="train loss (steps, smoothed)")
    ax_loss.plot(epochs, history.get("train_loss", []), "o-", color="tab:orange", label="train loss (epoch)")
    if history.get("test_loss"):
        ax_loss.plot(epochs, history["test_loss"], "s--", color="tab:green", label="test loss")
    ax_acc.plot(epochs, [100 * a for a in history.get("train_acc", [])], "o-", label="train acc")
    if history.get("test_acc"):
        ax_acc.plot(epochs, [100 * a for a in history["test_acc"]], "s--", label="test acc")
    for ax, label in ((ax_loss, "loss"), (ax_acc, "accuracy (%)")):
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    ax_loss.set_xlim(left=0)
    return save_figure(fig, path)


def _runs(runs):
    """{label: one epoch's LayerStats entry list} from a history, or a dict of label -> history."""
    if isinstance(runs, dict) and "layer_stats" in runs:
        runs = {"": runs}
    if not isinstance(runs, dict) or not runs:
        raise TypeError("plot_gradient_flow: expected a history with 'layer_stats' (fit with "
                        "callbacks=[monitor.LayerStats()]) or a dict {label: history}")
    for label, history in runs.items():
        if not isinstance(history, dict) or not history.get("layer_stats"):
            raise ValueError(f"plot_gradient_flow: run {label!r} has no 'layer_stats'; "
                             "fit with callbacks=[monitor.LayerStats()]")
    return runs


def gradient_flow(history, epoch=-1, stat="grad_mean_abs"):
    """(names, values): ``stat`` of each weight matrix or kernel (parameters of 2 or more
    dimensions, from input to output) in epoch ``epoch`` of a LayerStats history."""
    rows = history["layer_stats"][epoch]["params"]
    names = [n for n, row in rows.items() if len(row.get("shape", (0, 0))) > 1 and stat in row]
    if not names:
        raise ValueError(f"gradient_flow: no weight has the statistic {stat!r} "
                         f"(there are {sorted({k for row in rows.values() for k in row})})")
    return names, np.array([rows[n][stat] for n in names], dtype=np.float64)


def plot_gradient_flow(runs, path, epoch=-1, stat="grad_mean_abs", title=None):
    """Mean |gradient| of each weight layer, input on the left, on a log scale: a line that
    falls toward the input is a vanishing gradient, one that climbs is exploding. ``runs``:
    one history (with ``layer_stats``) or ``{label: history}`` to compare, e.g. the AlexNet
    paper's N(0, 0.01) init against d2l's. Returns ``path``."""
    plt = _pyplot()
    runs = _runs(runs)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    all_names = []
    for label, history in runs.items():
        names, values = gradient_flow(history, epoch, stat)
        all_names.append(names)
        ax.plot(np.arange(1, len(values) + 1), values, "o-", label=label or None)
    longest = max(all_names, key=len)
    same = all(names == all_names[0] for names in all_names)
    ax.set_xticks(np.arange(1, len(longest) + 1))
    ax.set_xticklabels(longest if same else [str(i) for i in range(1, len(longest) + 1)],
                       rotation=45 if same else 0, ha="right" if same else "center", fontsize=7)
    ax.set_yscale("log")
    ax.set_xlabel("weight layer (input → output)" if same else "weight layer, counted from the input")
    ax.set_ylabel({"grad_mean_abs": "mean |gradient|", "grad_to_weight": "||gradient|| / ||weight||"}.get(stat, stat))
    ax.grid(True, which="both", alpha=0.3)
    if title:
        ax.set_title(title)
    if any(runs):
        ax.legend(fontsize=8)
    return save_figure(fig, path)
