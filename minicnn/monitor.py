"""Training you can look inside: callbacks for ``minicnn.train.fit(..., callbacks=[...])``.

A callback may define any of
  ``on_fit_start(model)``;
  ``on_step_end(model, step, loss_value)`` — after a successful optimizer step, the
  gradients of that step still in ``p.grad``;
  ``on_epoch_end(model, epoch, history)`` — after the epoch's row is in ``history`` (a
  callback may add its own keys; ``history.json`` keeps them).

- ``LayerStats`` adds ``history["layer_stats"]``: per parameter, each epoch, the mean |g|,
  the ratio ||g|| / ||w||, the mean |w| and the std of w; per ReLU, the fraction of its
  units that never fired during the epoch ("dead ReLUs"). Vanishing or exploding gradients
  show up as a mean |g| that falls or grows layer by layer (``viz.plot_gradient_flow``).
- ``TensorBoardLogger`` writes TensorBoard event files (the ``tensorboard`` extra:
  ``pip install minicnn[tensorboard]``, built on tensorboardX): the loss of every step, the
  epoch's scalars, weight and gradient histograms, and the first conv layer's filters.
"""
import math

import numpy as np

from .backend import get_array_module, to_numpy

SCALARS = ("train_loss", "train_acc", "test_loss", "test_acc", "lr", "epoch_time", "images_per_s")


def _is_relu(module):
    return any(cls.__name__ == "ReLU" for cls in type(module).__mro__)


def _first_conv_weight(model):
    """The weight (O, C, kh, kw) of the first Conv2d module, or None."""
    for _, module in model.named_modules():
        weight = getattr(module, "weight", None)
        if type(module).__name__ == "Conv2d" and weight is not None and weight.ndim == 4:
            return weight
    return None


class LayerStats:
    """Per-layer gradient and weight statistics each epoch, into ``history["layer_stats"]``.

    every: look at the gradients every ``every`` steps of an epoch, its first step included (1: all;
    the statistics are means over the steps looked at). dead_relus: count, with forward hooks on each ``nn.ReLU``, the
    units (channels of a feature map, features of a vector) that stayed at 0 for every
    training example of the epoch.

    One entry per epoch: ``{"params": {name: {"shape", "grad_mean_abs", "grad_to_weight",
    "weight_mean_abs", "weight_std"}}, "dead_relu": {module name: fraction}, "steps": n}``
    (the two gradient numbers are missing for a parameter that got no gradient).
    """

    key = "layer_stats"

    def __init__(self, every=1, dead_relus=True):
        if not isinstance(every, int) or isinstance(every, bool) or every < 1:
            raise ValueError(f"LayerStats: every must be a positive int, got {every!r}")
        self.every = every
        self.dead_relus = bool(dead_relus)
        self._handles = []
        self._reset()

    def _reset(self):
        self._grad_sums = {}         # name -> [sum of mean |g|, sum of ||g|| / ||w||]
        self._steps = 0
        self._fired = {}             # ReLU name -> boolean array: has this unit been > 0 yet?

    # --- callback methods ----------------------------------------------------------------
    def on_fit_start(self, model):
        self.remove()
        self._reset()
        if self.dead_relus:
            for name, module in model.named_modules():
                if name and _is_relu(module):
                    self._handles.append(module.register_forward_hook(self._relu_hook(name)))

    def on_step_end(self, model, step, loss_value):
        # steps 1, 1 + every, ... of each epoch, and the first step seen in an epoch (one resumed
        # mid-epoch starts elsewhere): every epoch gets a look
        if self._steps and (step - 1) % self.every:
            return
        self._steps += 1
        for name, p in model.named_parameters():
            if p.grad is None:
                continue
            g, w = p.grad.data, p.data
            xp = get_array_module(g)
            w_norm = float(xp.linalg.norm(w.ravel()))
            ratio = float(xp.linalg.norm(g.ravel())) / w_norm if w_norm > 0 else math.inf
            sums = self._grad_sums.setdefault(name, [0.0, 0.0])
            sums[0] += float(xp.abs(g).mean())
            sums[1] += ratio

    def on_epoch_end(self, model, epoch, history):
        params = {}
        for name, p in model.named_parameters():
            xp = get_array_module(p.data)
            row = {"shape": list(p.shape), "weight_mean_abs": float(xp.abs(p.data).mean()),
                   "weight_std": float(p.data.std())}
            if name in self._grad_sums and self._steps:
                row["grad_mean_abs"] = self._grad_sums[name][0] / self._steps
                row["grad_to_weight"] = self._grad_sums[name][1] / self._steps
            params[name] = row
        dead = {name: float(1.0 - to_numpy(fired).mean()) for name, fired in self._fired.items()}
        history.setdefault(self.key, []).append({"params": params, "dead_relu": dead, "steps": self._steps})
        self._grad_sums, self._steps, self._fired = {}, 0, {}

    def remove(self):
        """Unregister the forward hooks (a new ``on_fit_start`` registers them again)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def _relu_hook(self, name):
        def hook(module, inputs, output):
            if not module.training:          # evaluation batches do not count
                return None
            data = output.data
            xp = get_array_module(data)
            axes = (0,) + tuple(range(2, data.ndim))            # a unit = a channel (or a feature)
            fired = xp.any(data > 0, axis=axes) if data.ndim > 1 else xp.asarray(data > 0)
            previous = self._fired.get(name)
            self._fired[name] = fired if previous is None or previous.shape != fired.shape else previous | fired
            return None
        return hook


class TensorBoardLogger:
    """TensorBoard event files in ``log_dir``: ``train/step_loss`` every step; each epoch
    the history's scalars (``epoch/train_loss``, ``epoch/test_acc``, ``epoch/lr``, ...), the
    ``LayerStats`` numbers when that callback runs too, histograms ``weights/NAME`` and
    ``grads/NAME`` (the epoch's last step), and the first conv layer's filters as the image
    ``filters/first_conv`` (for 1 or 3 input channels). Needs tensorboardX.

    histograms_every: write the histograms every this many epochs (they are the big part).
    """

    def __init__(self, log_dir, histograms_every=1, filters=True):
        try:
            from tensorboardX import SummaryWriter
        except ImportError:
            raise ImportError("TensorBoardLogger needs tensorboardX: pip install 'minicnn[tensorboard]' "
                              "(or pip install tensorboardX)") from None
        if not isinstance(histograms_every, int) or histograms_every < 1:
            raise ValueError(f"TensorBoardLogger: histograms_every must be a positive int, got {histograms_every!r}")
        self.log_dir = str(log_dir)
        self.histograms_every = histograms_every
        self.filters = filters
        self.writer = SummaryWriter(logdir=self.log_dir)
        self.global_step = 0

    def on_fit_start(self, model):
        pass

    def on_step_end(self, model, step, loss_value):
        self.global_step += 1
        self.writer.add_scalar("train/step_loss", float(loss_value), self.global_step)

    def on_epoch_end(self, model, epoch, history):
        done = len(history.get("train_loss", ())) or epoch + 1     # epochs finished, resumed runs included
        for key in SCALARS:
            if history.get(key):
                self.writer.add_scalar(f"epoch/{key}", float(history[key][-1]), done)
        for entry in history.get(LayerStats.key, [])[-1:]:
            for name, row in entry["params"].items():
                for stat, value in row.items():
                    if stat != "shape" and math.isfinite(value):
                        self.writer.add_scalar(f"{stat}/{name}", value, done)
            for name, fraction in entry["dead_relu"].items():
                self.writer.add_scalar(f"dead_relu/{name}", fraction, done)
        if done % self.histograms_every == 0:
            for name, p in model.named_parameters():
                self.writer.add_histogram(f"weights/{name}", np.asarray(to_numpy(p.data), dtype=np.float64), done)
                if p.grad is not None:
                    self.writer.add_histogram(f"grads/{name}", np.asarray(to_numpy(p.grad.data), dtype=np.float64),
                                              done)
        weight = _first_conv_weight(model) if self.filters else None
        if weight is not None and weight.shape[1] in (1, 3):
            from .viz import filter_mosaic
            mosaic = filter_mosaic(weight)
            self.writer.add_image("filters/first_conv", mosaic, done, dataformats="HWC" if mosaic.ndim == 3 else "HW")
        self.writer.flush()

    def close(self):
        self.writer.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
