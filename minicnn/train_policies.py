"""The policies around ``fit``'s loop, each small: resume and save, Ctrl-C, the position in
an epoch, the scheduler's step, the distributed reduction and the GPU memory record."""
import itertools
import numbers
import signal

from . import rng as _rng
from .backend import get_array_module
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .run_dir import check_resume_config


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during fit: a checkpoint was saved at the end of the current step."""

    def __init__(self, message, checkpoint):
        super().__init__(message)
        self.checkpoint = checkpoint


def check_epochs(epochs):
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral):
        raise TypeError(f"fit: epochs must be an int, got {epochs!r} ({type(epochs).__name__})")
    if epochs < 0:
        raise ValueError(f"fit: epochs must be >= 0, got {epochs}")


def save_run(run, path, epoch, step, partial_sums=None):
    """Write the whole run state to ``path`` (rank 0 only); returns the path (None: nothing written)."""
    if not (run["main"] and path):
        return None
    amp = run["amp"]
    save_checkpoint(path, run["model"], run["optimizer"], run["scheduler"], epoch=epoch, step=step,
                    history=run["history"], rng=_rng.get_rng_state(), partial=partial_sums, config=run["config"],
                    amp=amp.loss_scaler.state_dict() if amp is not None else None)
    return path


def restore_run(path, model, optimizer, scheduler, amp, config, epochs, log):
    """Load the checkpoint at ``path`` into the run; returns (history, epoch, step, partial sums)."""
    if path is None:
        raise ValueError("fit(resume=True) needs out_dir (or pass the checkpoint path)")
    state = load_checkpoint(path)
    meta = state["meta"]
    if "epoch" not in meta or "rng" not in meta:
        raise CheckpointError(f"cannot resume from {path}: it holds weights only (no epoch, step, optimizer "
                              "state or RNG state of a run); load it with model.load_state_dict("
                              "load_checkpoint(path)['model']) and start a new run instead")
    check_resume_config(meta.get("config"), config, path)
    if int(meta["epoch"]) > epochs:
        raise ValueError(f"cannot resume {path} with epochs={epochs}: it has already trained {meta['epoch']} "
                         "epochs; pass epochs >= that")
    model.load_state_dict(state["model"])
    if state["optimizer"] is None:
        raise CheckpointError(f"cannot resume from {path}: it holds no optimizer state")
    optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None and state["scheduler"] is not None:
        scheduler.load_state_dict(state["scheduler"])
    if amp is not None and meta.get("amp"):
        amp.loss_scaler.load_state_dict(meta["amp"])
    _rng.set_rng_state(meta["rng"])
    history = {k: list(v) for k, v in (meta.get("history") or {}).items()}
    epoch, step = int(meta["epoch"]), int(meta.get("step", 0))
    log(f"resumed from {path}: epoch {epoch + 1}, step {step}")
    return history, epoch, step, meta.get("partial")


class InterruptFlag:
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


def batches_from(loader, epoch, start_step):
    """The batches of ``epoch``, skipping the first ``start_step`` (already trained)."""
    if hasattr(loader, "set_epoch"):
        loader.set_epoch(epoch)
    if start_step and hasattr(loader, "iter_from"):
        return loader.iter_from(start_step)
    return itertools.islice(iter(loader), start_step, None)


def reduce_epoch(model, comm, loss_sum, correct, count):
    """Distributed: the epoch's sums over all ranks, and one set of BatchNorm statistics."""
    if comm is None or comm.size <= 1:
        return loss_sum, correct, count
    from .distributed import average_buffers
    loss_sum, correct, count = (comm.allreduce_scalar(v) for v in (loss_sum, correct, count))
    average_buffers(model, comm)  # BatchNorm running statistics: one model to test and save
    return loss_sum, correct, count


def _needs_metric(scheduler):
    """ReduceLROnPlateau (duck-typed): its step() takes the epoch's metric."""
    return hasattr(scheduler, "mode") and hasattr(scheduler, "patience")


def check_scheduler_interval(scheduler, interval):
    """fit's scheduler_interval: "epoch" or "step"; "step" needs a scheduler that steps without a metric."""
    if interval not in ("epoch", "step"):
        raise ValueError(f"fit: scheduler_interval must be 'epoch' or 'step', got {interval!r}")
    if interval == "step":
        if scheduler is None:
            raise ValueError("fit: scheduler_interval='step' needs a scheduler, got None")
        if _needs_metric(scheduler):
            raise ValueError("fit: ReduceLROnPlateau needs an epoch's metric; use scheduler_interval='epoch'")


def step_scheduler(scheduler, history):
    if scheduler is None:
        return
    if _needs_metric(scheduler):
        scheduler.step(history["test_loss"][-1] if history["test_loss"] else history["train_loss"][-1])
    else:
        scheduler.step()


def memory_pool_bytes(model):
    """(used, held) bytes of CuPy's default memory pool when the model is on CuPy, else None."""
    params = list(model.parameters())
    if not params or get_array_module(params[0].data).__name__ != "cupy":
        return None
    import cupy
    pool = cupy.get_default_memory_pool()
    return int(pool.used_bytes()), int(pool.total_bytes())
