"""The training loop: ``train_step`` (one step of gradient descent), ``fit`` (epochs of them,
with the policies around) and ``evaluate``.

One step is: forward, loss, backward, optimizer step. Around it ``fit`` keeps the policies,
each in its own small function or module: the non-finite guard (``minicnn.nonfinite``: only
finite weights are ever kept or saved), crash-safe checkpoints and exact resume (a checkpoint
holds the model, the optimizer, the scheduler, the library RNG, the loss scaler, the history,
the run configuration and the position: epoch and step), a clean Ctrl-C, the distributed
reduction of the epoch's numbers, the progress bar and the callbacks.

Callbacks are duck-typed objects with any of ``on_fit_start(model)``,
``on_step_end(model, step, loss_value)`` (after a successful step, ``step`` counted from 1 in
the epoch; the gradients are still there) and ``on_epoch_end(model, epoch, history)`` (``epoch``
counted from 0, after the epoch's row is appended and the scheduler stepped, before
history.json and the checkpoint are written: keys a callback adds to ``history`` are saved
and survive a resume).
"""
import json
import os
import time

from .backend import get_array_module
from .function import no_grad
from .nonfinite import Guard, NonFiniteError
from .tensor import Tensor
from .train_policies import (InterruptFlag, TrainingInterrupted, batches_from, check_epochs, check_scheduler_interval,
                             memory_pool_bytes, reduce_epoch, restore_run, save_run, step_scheduler)

__all__ = ["fit", "evaluate", "train_step", "write_history", "NonFiniteError", "TrainingInterrupted",
           "HISTORY_KEYS"]

HISTORY_KEYS = ("train_loss", "train_acc", "test_loss", "test_acc", "lr", "epoch_time", "images_per_s", "step_loss")


def _default_loss(logits, target):
    from .functional import cross_entropy
    return cross_entropy(logits, target)


def _correct(logits, target):
    xp = get_array_module(logits.data)
    return int((xp.argmax(logits.data, axis=1) == xp.asarray(target)).sum())


def train_step(model, loss_fn, optimizer, x, y, amp=None):
    """One step of gradient descent on the batch (x, y): forward, loss, backward, update.

    amp: a minicnn.amp.MixedPrecision (float16 forward, scaled loss; its step unscales the
    gradients and skips the update when one overflowed). Returns (logits, the loss as a
    float, whether the optimizer stepped)."""
    logits = amp.forward(x) if amp is not None else model(x)
    loss = loss_fn(logits, y)
    optimizer.zero_grad()
    loss.backward()
    if amp is not None:
        stepped = amp.step(optimizer)
    else:
        optimizer.step()
        stepped = True
    return logits, float(loss.item()), stepped


def fit(model, optimizer, train_loader, test_loader=None, epochs=10, loss_fn=None, scheduler=None,
        out_dir=None, resume=None, progress=True, skip_nonfinite=False, comm=None, log=print,
        plot=True, callbacks=(), amp=None, config=None, overwrite=False, scheduler_interval="epoch"):
    """Train ``model`` for ``epochs`` epochs; returns the history (dict of per-epoch lists,
    and "step_loss": the loss of every step).

    out_dir: where ``last.npz`` (every epoch and on Ctrl-C), ``best.npz``, ``history.json``
    and ``curves.png`` go; a directory that holds a run is continued only with ``resume``
    and replaced only with ``overwrite=True``. resume: a checkpoint path (or True for
    ``out_dir/last.npz``). config: a JSON-able dict describing the run (model, data,
    optimizer, ...); it is saved, and a resume with a different one is refused.
    skip_nonfinite: undo and skip steps that leave NaN/inf instead of stopping.
    comm: a minicnn.distributed communicator; only its rank 0 prints and writes files.
    callbacks: see the module docstring. amp: a minicnn.amp.MixedPrecision.
    scheduler_interval: "epoch" (``scheduler.step()`` after each epoch) or "step" (after each
    step that was kept, for schedules counted in batches such as
    ``CosineAnnealingLR(optimizer, T_max=epochs * len(train_loader))``).
    """
    from tqdm.auto import tqdm
    from .run_dir import RunDirectoryError, check_writable, holds_run

    check_epochs(epochs)
    check_scheduler_interval(scheduler, scheduler_interval)
    if resume and overwrite:
        raise ValueError("fit: resume continues the run in out_dir and overwrite replaces it; pass one of them")
    loss_fn = loss_fn or _default_loss
    main = comm is None or comm.is_main
    if out_dir is not None and main:
        if not resume and not overwrite and holds_run(out_dir):
            raise RunDirectoryError(f"{out_dir} already holds a run (last.npz/best.npz/history.json); "
                                    "pass resume=True to continue it or overwrite=True to replace it")
        check_writable(out_dir)
    last_path = os.path.join(out_dir, "last.npz") if out_dir else None
    history = {k: [] for k in HISTORY_KEYS}
    start_epoch, start_step, partial = 0, 0, None
    if resume:
        history, start_epoch, start_step, partial = restore_run(
            last_path if resume is True else resume, model, optimizer, scheduler, amp, config, epochs,
            log if main else (lambda s: None))
        history = {**{k: [] for k in HISTORY_KEYS}, **history}
    run = {"model": model, "optimizer": optimizer, "scheduler": scheduler, "amp": amp, "config": config,
           "history": history, "main": main}
    _notify(callbacks, "on_fit_start", model)

    guard = Guard(model, optimizer, skip=skip_nonfinite, comm=comm)
    best_acc = max(history["test_acc"], default=-1.0)
    with InterruptFlag() as interrupt, guard.watching():
        for epoch in range(start_epoch, epochs):
            model.train()
            loss_sum, correct, count, seconds = partial or (0.0, 0, 0, 0.0)
            partial, skipped = None, 0
            step = start_step if epoch == start_epoch else 0
            total = len(train_loader) if hasattr(train_loader, "__len__") else None
            bar = tqdm(batches_from(train_loader, epoch, step), total=total, initial=step,
                       desc=f"epoch {epoch + 1}/{epochs}", disable=not (progress and main), leave=False)
            tick = time.perf_counter()
            for x, y in bar:
                step += 1
                guard.before_step(x)
                logits, value, _ = train_step(model, loss_fn, optimizer, Tensor(x), y, amp)
                if not guard.check(value):
                    what = f"epoch {epoch + 1} step {step}: {guard.diagnose(value)}"
                    if not skip_nonfinite:
                        raise NonFiniteError(f"{what}. {_last_good(last_path)}")
                    guard.undo()
                    skipped += 1
                    if main:
                        log(f"{what}; step skipped")
                    continue
                loss_sum, correct, count = loss_sum + value * len(y), correct + _correct(logits, y), count + len(y)
                history["step_loss"].append(value)
                if scheduler_interval == "step":
                    scheduler.step()
                _notify(callbacks, "on_step_end", model, step, value)
                now = time.perf_counter()
                seconds, tick = seconds + now - tick, now
                bar.set_postfix(loss=f"{loss_sum / count:.4f}", acc=f"{100 * correct / count:.2f}%",
                                img_s=f"{count / max(seconds, 1e-9):.0f}")
                if interrupt.raised:
                    bar.close()
                    saved = save_run(run, last_path, epoch, step, (loss_sum, correct, count, seconds))
                    where = f"; checkpoint saved to {saved}, continue with --resume" if saved else ""
                    raise TrainingInterrupted(f"interrupted at epoch {epoch + 1} step {step}{where}", saved)
            bar.close()
            loss_sum, correct, count = reduce_epoch(model, comm, loss_sum, correct, count)
            if count == 0:
                _no_step_error(epoch, skipped, last_path)
            _append_row(history, model, optimizer, loss_sum, correct, count, seconds)
            if test_loader is not None:
                result = evaluate(model, test_loader, loss_fn, progress=progress and main, comm=comm)
                history["test_loss"].append(result["loss"])
                history["test_acc"].append(result["accuracy"])
            if scheduler_interval == "epoch":
                step_scheduler(scheduler, history)
            _notify(callbacks, "on_epoch_end", model, epoch, history)
            if main:
                log(_epoch_line(history, epoch, epochs))
            save_run(run, last_path, epoch + 1, 0)
            if out_dir and main:
                if history["test_acc"] and history["test_acc"][-1] > best_acc:
                    best_acc = history["test_acc"][-1]
                    save_run(run, os.path.join(out_dir, "best.npz"), epoch + 1, 0)
                write_history(history, out_dir, plot=plot)
    return history


def _notify(callbacks, event, *args):
    """Call ``event`` on each callback that has it (callbacks are duck-typed)."""
    for callback in callbacks:
        method = getattr(callback, event, None)
        if method is not None:
            method(*args)


def _last_good(last_path):
    """The sentence about checkpoints after a stop: true, since only finite states are saved."""
    if last_path and os.path.exists(last_path):
        return f"The last good checkpoint is left as it was ({last_path})"
    return "No checkpoint of this run was written" + (f" to {os.path.dirname(last_path)}" if last_path else "")


def _no_step_error(epoch, skipped, last_path):
    if skipped:
        raise NonFiniteError(f"epoch {epoch + 1}: all {skipped} steps were skipped (non-finite), so the epoch "
                             f"trained nothing. {_last_good(last_path)}; lower the learning rate or check the data")
    raise ValueError(f"fit: the training loader gave no batches in epoch {epoch + 1}; expected at least one "
                     "(an empty dataset, or drop_last with fewer samples than batch_size?)")


def _append_row(history, model, optimizer, loss_sum, correct, count, seconds):
    history["train_loss"].append(loss_sum / count)
    history["train_acc"].append(correct / count)
    history["lr"].append(float(optimizer.param_groups[0]["lr"]))
    history["epoch_time"].append(seconds)
    history["images_per_s"].append(count / max(seconds, 1e-9))
    pool = memory_pool_bytes(model)
    if pool is not None:           # CuPy only: how much of the GPU the run holds
        history.setdefault("gpu_pool_used_bytes", []).append(pool[0])
        history.setdefault("gpu_pool_held_bytes", []).append(pool[1])


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
    if count == 0:
        raise ValueError("evaluate: the loader gave no batches; expected at least one (an empty test set?)")
    return {"loss": loss_sum / count, "accuracy": correct / count}


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

