"""Run directories: where a training run writes, and the rule that keeps finished runs safe.

A *run directory* holds what ``fit`` writes: ``last.npz``, ``best.npz``, ``history.json``
and ``curves.png``. The rule (the examples' ``--out``, ``--resume`` and ``--overwrite``):

* a directory that holds no run is used as it is (created when missing);
* one that holds a run is never written over in silence: ``--resume`` continues it,
  ``--overwrite`` replaces it, and otherwise a fresh sibling ``<out>-2``, ``<out>-3``, ...
  is chosen and named (as YOLO's ``increment_path`` versions ``runs/train/exp2``);
* ``--out`` must be a creatable, writable directory; that is checked before any data is
  loaded or any step runs.

A checkpoint also records the run's configuration (model, data, optimizer, seed, ...):
resuming with a different value is refused, naming each key with its saved and given value.
"""
import os
import tempfile

RUN_FILES = ("last.npz", "best.npz", "history.json", "curves.png")


class RunDirectoryError(ValueError):
    """An output directory that cannot be used, or that holds a run nobody said to replace."""


class ResumeMismatchError(ValueError):
    """``--resume`` with a configuration that differs from the one the checkpoint was trained with."""


def holds_run(path):
    """Whether ``path`` is a directory that already holds a run's files."""
    return path is not None and os.path.isdir(path) and any(
        os.path.exists(os.path.join(path, name)) for name in RUN_FILES)


def check_writable(path):
    """Create ``path`` (and its parents) if needed and prove a file can be written there.
    RunDirectoryError naming the path and the reason otherwise."""
    path = os.fspath(path)
    probe = os.path.abspath(path)
    while not os.path.exists(probe):   # the deepest existing ancestor must be a directory
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        where = "is a file" if probe == os.path.abspath(path) else f"lies under the file {probe}"
        raise RunDirectoryError(f"output directory {path} {where}; choose a directory for --out (out_dir)")
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as e:
        raise RunDirectoryError(f"output directory {path} is not writable ({e.strerror or e}); "
                                "choose another --out (out_dir)") from None
    return path


def fresh_sibling(path):
    """``path-2``, ``path-3``, ...: the first that holds no run."""
    n = 2
    while holds_run(f"{path}-{n}") or os.path.isfile(f"{path}-{n}"):
        n += 1
    return f"{path}-{n}"


def choose_run_dir(path, resume=False, overwrite=False, log=print, writer=True):
    """The directory a run writes to, by the rule in the module docstring; checked writable.
    writer=False (the ranks of a distributed run other than 0): the same choice, nothing touched."""
    log = log or (lambda message: None)
    if resume and overwrite:
        raise RunDirectoryError("--resume continues the run in --out and --overwrite replaces it: choose one")
    if resume and not holds_run(path):
        raise RunDirectoryError(f"--resume: {path} holds no run to continue (no {' or '.join(RUN_FILES[:3])})")
    if holds_run(path) and not resume:
        if overwrite:
            log(f"{path} holds an earlier run; --overwrite: replacing it")
            if writer:
                remove_run(path)
        else:
            chosen = fresh_sibling(path)
            log(f"{path} holds an earlier run; writing to {chosen} instead "
                f"(--resume continues {path}, --overwrite replaces it)")
            path = chosen
    return check_writable(path) if writer else path


def remove_run(path):
    """Delete the run files of ``path`` (and nothing else in it)."""
    for name in RUN_FILES:
        try:
            os.remove(os.path.join(path, name))
        except FileNotFoundError:   # absent, or already removed by another rank
            pass


def config_differences(saved, given):
    """[(key, saved value, given value)] for every key whose values differ (a key missing on
    one side counts as None there), sorted by key."""
    keys = sorted(set(saved) | set(given))
    return [(k, saved.get(k), given.get(k)) for k in keys if _normal(saved.get(k)) != _normal(given.get(k))]


def check_resume_config(saved, given, path):
    """ResumeMismatchError naming each key whose saved and given values differ."""
    if not saved or not given:        # a checkpoint from before configurations were recorded
        return
    differences = config_differences(saved, given)
    if differences:
        listed = "; ".join(f"{k}: saved {s!r}, given {g!r}" for k, s, g in differences)
        raise ResumeMismatchError(f"cannot resume {path}: it was trained with a different configuration "
                                  f"({listed}). Resume with the saved values, or start a new run "
                                  "(a fresh --out, or --overwrite)")


def _normal(value):
    """JSON round-trips turn tuples into lists: compare them alike."""
    if isinstance(value, (list, tuple)):
        return [_normal(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _normal(v) for k, v in value.items()}
    return value
