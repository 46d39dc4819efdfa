"""The training loop: ``fit`` and ``evaluate``, with progress bars, curves, crash-safe
checkpoints, exact resume, a stop on non-finite numbers and a clean Ctrl-C.

One step is: forward, loss, backward, (check the numbers), optimizer step. A checkpoint
holds the model, the optimizer, the scheduler, the library RNG, the history and the
position (epoch, step), so a resumed run continues as if it had never stopped.
"""
import itertools
import json
import math
import os
import signal
import time

from . import rng as _rng
from .backend import get_array_module
from .checkpoint import load_checkpoint, save_checkpoint
from .function import no_grad
from .tensor import Tensor


class NonFiniteError(FloatingPointError):
    """The loss or a gradient became NaN/inf; the message names the step and the layer."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during fit: a checkpoint was saved at the end of the current step."""

    def __init__(self, message, checkpoint):
        super().__init__(message)
        self.checkpoint = checkpoint


HISTORY_KEYS = ("train_loss", "train_acc", "test_loss", "test_acc", "lr", "epoch_time", "images_per_s")


def _default_loss(logits, target):
    from .functional import cross_entropy
    return cross_entropy(logits, target)


def _correct(logits, target):
    xp = get_array_module(logits.data)
    return int((xp.argmax(logits.data, axis=1) == xp.asarray(target)).sum())


def _lr(optimizer):
    return float(optimizer.param_groups[0]["lr"])


def _first_nonfinite_module(model, x, none_found="the loss itself (every layer's output was finite)"):
    """Re-run the forward with hooks; the name of the first module whose output is not finite."""
    if x.data.dtype.kind == "f" and not bool(get_array_module(x.data).isfinite(x.data).all()):
        return "the input batch itself (the data has NaN/inf values)"
    found = []

    def hook(name):
        def check(module, inputs, output):
            data = output.data if isinstance(output, Tensor) else None
            if not found and data is not None and data.dtype.kind == "f":
                xp = get_array_module(data)
                if not bool(xp.isfinite(data).all()):
                    found.append(f"{name} ({type(module).__name__})")
        return check

    handles = [m.register_forward_hook(hook(n)) for n, m in model.named_modules() if n]
    try:
        with no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return found[0] if found else none_found


def _first_nonfinite_grad(model):
    """Name of the first parameter (from the output side, where backward starts) whose grad is not finite."""
    for name, p in reversed(list(model.named_parameters())):
        if p.grad is not None:
            xp = get_array_module(p.grad.data)
            if not bool(xp.isfinite(p.grad.data).all()):
                return name
    return None


def _copy_buffers(model):
    """Copies of every buffer: a skipped step must not leave its batch in BatchNorm's running stats."""
    return [(m, name, b.copy()) for m in model.modules() for name, b in m._buffers.items() if b is not None]


def _restore_buffers(saved):
    for module, name, value in saved:
        module._buffers[name] = value


def _grads_finite(model):
    total = 0.0
    for p in model.parameters():
        if p.grad is not None:
            total += float(p.grad.data.sum())  # NaN/inf anywhere make the sum non-finite
    return math.isfinite(total)


def evaluate(model, loader, loss_fn=None, progress=False, desc="eval", comm=None):
    """Mean loss and accuracy of ``model`` over ``loader`` (eval mode, no graph)."""
    from tqdm.auto import tqdm

    loss_fn = loss_fn or _default_loss
    was_training = model.training
    model.eval()
    loss_sum, correct, count = 0.0, 0, 0
    try:
        with no_grad():
            for x, y in tqdm(loader, desc=desc, leave=False, disable=not progress):
                logits = model(Tensor(x))
                loss_sum += float(loss_fn(logits, y).item()) * len(y)
                correct += _correct(logits, y)
                count += len(y)
    finally:
        model.train(was_training)
    if comm is not None and comm.size > 1:
        loss_sum, correct, count = (comm.allreduce_scalar(v) for v in (loss_sum, correct, count))
    return {"loss": loss_sum / max(count, 1), "accuracy": correct / max(count, 1)}


class _InterruptFlag:
    """SIGINT sets a flag; the loop stops at the end of the step. A second Ctrl-C kills as usual."""

    def __init__(self):
        self.raised = False
        self.previous = None

    def __enter__(self):
        try:
            self.previous = signal.signal(signal.SIGINT, self._handle)
        except ValueError:  # not the main thread: leave SIGINT alone
            self.previous = None
        return self

    def _handle(self, signum, frame):
        if self.raised:
            raise KeyboardInterrupt
        self.raised = True

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def _batches_from(loader, epoch, start_step):
    """The batches of ``epoch``, skipping the first ``start_step`` (already trained)."""
    if hasattr(loader, "set_epoch"):
        loader.set_epoch(epoch)
    if start_step and hasattr(loader, "iter_from"):
        return loader.iter_from(start_step)
    return itertools.islice(iter(loader), start_step, None)


def fit(model, optimizer, train_loader, test_loader=None, epochs=10, loss_fn=None, scheduler=None,
        out_dir=None, resume=None, progress=True, skip_nonfinite=False, comm=None, log=print,
        plot=True):
    """Train ``model`` for ``epochs`` epochs; returns the history (dict of per-epoch lists).

    out_dir: where ``last.npz`` (every epoch and on Ctrl-C), ``best.npz``, ``history.json``
    and ``curves.png`` go. resume: a checkpoint path (or True for ``out_dir/last.npz``).
    skip_nonfinite: skip steps whose loss/grads are NaN/inf instead of stopping (loss scaling).
    comm: a minicnn.distributed communicator; only its rank 0 prints and writes files.
    """
    from tqdm.auto import tqdm

    loss_fn = loss_fn or _default_loss
    main = comm is None or comm.is_main
    history = {k: [] for k in HISTORY_KEYS}
    start_epoch, start_step, partial = 0, 0, None
    last_path = os.path.join(out_dir, "last.npz") if out_dir else None

    if resume:
        path = last_path if resume is True else resume
        if path is None:
            raise ValueError("fit(resume=True) needs out_dir (or pass the checkpoint path)")
        state = load_checkpoint(path)
        model.load_state_dict(state["model"])
        if state["optimizer"] is not None:
            optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None and state["scheduler"] is not None:
            scheduler.load_state_dict(state["scheduler"])
        meta = state["meta"]
        history = {k: list(meta.get("history", {}).get(k, [])) for k in HISTORY_KEYS}
        start_epoch, start_step = int(meta["epoch"]), int(meta.get("step", 0))
        partial = meta.get("partial")
        _rng.set_rng_state(meta["rng"])
        if main:
            log(f"resumed from {path}: epoch {start_epoch + 1}, step {start_step}")

    def checkpoint(path, epoch, step, partial_sums=None):
        if main and path:
            save_checkpoint(path, model, optimizer, scheduler, epoch=epoch, step=step, history=history,
                            rng=_rng.get_rng_state(), partial=partial_sums)
        return path

    best_acc = max(history["test_acc"], default=-1.0)
    with _InterruptFlag() as interrupt:
        for epoch in range(start_epoch, epochs):
            model.train()
            loss_sum, correct, count, seconds = partial or (0.0, 0, 0, 0.0)
            partial = None
            step = start_step if epoch == start_epoch else 0
            batches = _batches_from(train_loader, epoch, step)
            total = len(train_loader) if hasattr(train_loader, "__len__") else None
            bar = tqdm(batches, total=total, initial=step, desc=f"epoch {epoch + 1}/{epochs}",
                       disable=not (progress and main), leave=False)
            tick = time.perf_counter()
            for x, y in bar:
                step += 1
                saved_buffers = _copy_buffers(model) if skip_nonfinite else None
                logits = model(Tensor(x))
                loss = loss_fn(logits, y)
                value = float(loss.item())
                finite = math.isfinite(value)
                if comm is not None and comm.size > 1:  # every rank must take the same branch
                    finite = bool(comm.allreduce_scalar(int(finite), op="min"))
                if not finite:
                    where = _first_nonfinite_module(model, Tensor(x))
                    if skip_nonfinite:
                        log(f"epoch {epoch + 1} step {step}: loss is {value}, first in {where}; step skipped")
                        _restore_buffers(saved_buffers)
                        continue
                    raise NonFiniteError(f"epoch {epoch + 1} step {step}: loss is {value}; it first "
                                         f"appeared in {where}. The last good checkpoint is left as it was"
                                         f"{' (' + last_path + ')' if last_path else ''}.")
                optimizer.zero_grad()
                loss.backward()
                if hasattr(optimizer, "synchronize"):  # distributed: average first, so all ranks agree
                    optimizer.synchronize()
                if not _grads_finite(model):
                    name = _first_nonfinite_grad(model)
                    # a finite loss over non-finite activations (e.g. masked or clipped away): name their layer
                    where = _first_nonfinite_module(model, Tensor(x), none_found=None)
                    where = f"; the forward output of {where} was already non-finite" if where else ""
                    if skip_nonfinite:
                        log(f"epoch {epoch + 1} step {step}: gradient of {name} is not finite{where}; step skipped")
                        optimizer.zero_grad()
                        _restore_buffers(saved_buffers)
                        continue
                    raise NonFiniteError(f"epoch {epoch + 1} step {step}: the gradient of {name} is not "
                                         f"finite (loss {value:.4g}){where}. The last good checkpoint is left as it was"
                                         f"{' (' + last_path + ')' if last_path else ''}.")
                optimizer.step()
                n = len(y)
                loss_sum += value * n
                correct += _correct(logits, y)
                count += n
                now = time.perf_counter()
                seconds, tick = seconds + now - tick, now
                bar.set_postfix(loss=f"{loss_sum / count:.4f}", acc=f"{100 * correct / count:.2f}%",
                                img_s=f"{count / max(seconds, 1e-9):.0f}")
                if interrupt.raised:
                    bar.close()
                    saved = checkpoint(last_path, epoch, step, (loss_sum, correct, count, seconds))
                    where = f"; checkpoint saved to {saved}, continue with --resume" if saved else ""
                    raise TrainingInterrupted(f"interrupted at epoch {epoch + 1} step {step}{where}", saved)
            bar.close()
            if comm is not None and comm.size > 1:
                loss_sum, correct, count = (comm.allreduce_scalar(v) for v in (loss_sum, correct, count))
                from .distributed import average_buffers
                average_buffers(model, comm)  # BatchNorm running statistics: one model to test and save
            history["train_loss"].append(loss_sum / max(count, 1))
            history["train_acc"].append(correct / max(count, 1))
            history["lr"].append(_lr(optimizer))
            history["epoch_time"].append(seconds)
            history["images_per_s"].append(count / max(seconds, 1e-9))
            if test_loader is not None:
                result = evaluate(model, test_loader, loss_fn, progress=progress and main, comm=comm)
                history["test_loss"].append(result["loss"])
                history["test_acc"].append(result["accuracy"])
            _step_scheduler(scheduler, history)
            if main:
                log(_epoch_line(history, epoch, epochs))
            checkpoint(last_path, epoch + 1, 0)
            if out_dir and main:
                if history["test_acc"] and history["test_acc"][-1] > best_acc:
                    best_acc = history["test_acc"][-1]
                    checkpoint(os.path.join(out_dir, "best.npz"), epoch + 1, 0)
                write_history(history, out_dir, plot=plot)
    return history


def _step_scheduler(scheduler, history):
    if scheduler is None:
        return
    if hasattr(scheduler, "mode") and hasattr(scheduler, "patience"):  # ReduceLROnPlateau
        scheduler.step(history["test_loss"][-1] if history["test_loss"] else history["train_loss"][-1])
    else:
        scheduler.step()


def _epoch_line(history, epoch, epochs):
    line = (f"epoch {epoch + 1}/{epochs}: train loss {history['train_loss'][-1]:.4f} "
            f"acc {100 * history['train_acc'][-1]:.2f}%")
    if history["test_acc"]:
        line += f" | test loss {history['test_loss'][-1]:.4f} acc {100 * history['test_acc'][-1]:.2f}%"
    return line + f" | {history['epoch_time'][-1]:.1f} s ({history['images_per_s'][-1]:.0f} img/s)"


def write_history(history, out_dir, plot=True):
    """history.json and (with matplotlib) curves.png, both written atomically."""
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "history.json")
    with open(path + ".tmp", "w") as f:
        json.dump(history, f, indent=1)
    os.replace(path + ".tmp", path)
    if plot:
        from .viz import plot_history
        plot_history(history, os.path.join(out_dir, "curves.png"))
