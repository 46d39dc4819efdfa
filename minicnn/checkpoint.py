"""Crash-safe checkpoints in one ``.npz`` file.

Arrays (model parameters and buffers, optimizer state) are stored under prefixed keys;
everything else (epoch, history, hyper-parameters, RNG state) goes into one JSON string.
A save writes a temporary file in the same directory, flushes and fsyncs it, then renames
it over the target: a crash at any moment leaves either the old checkpoint or the new one.
"""
import json
import os
import tempfile

import numpy as np

from .backend import to_numpy

FORMAT = "minicnn-checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint file that is truncated, corrupt, or not a minicnn checkpoint."""


def _flatten_optimizer_state(opt_state):
    """Split an optimizer state_dict into arrays (for npz) and a JSON-able rest."""
    arrays, state_meta = {}, {}
    for index, slots in opt_state.get("state", {}).items():
        state_meta[str(index)] = {}
        for key, value in slots.items():
            if hasattr(value, "shape") and getattr(value, "ndim", 0) > 0:
                arrays[f"optim/{index}/{key}"] = to_numpy(value)
                state_meta[str(index)][key] = {"array": f"optim/{index}/{key}"}
            else:
                state_meta[str(index)][key] = {"value": _jsonable(value)}
    return arrays, {"state": state_meta, "param_groups": _jsonable(opt_state.get("param_groups", []))}


def _unflatten_optimizer_state(meta, arrays):
    state = {}
    for index, slots in meta["state"].items():
        state[int(index)] = {k: (arrays[v["array"]] if "array" in v else v["value"]) for k, v in slots.items()}
    return {"state": state, "param_groups": meta["param_groups"]}


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "shape") and getattr(value, "ndim", 1) == 0:
        return to_numpy(value).item()
    return value


def save_checkpoint(path, model, optimizer=None, scheduler=None, **meta):
    """Atomically write model (+ optimizer, scheduler and any JSON-able ``meta``) to ``path``."""
    arrays = {f"model/{k}": to_numpy(v) for k, v in model.state_dict().items()}
    record = {"format": FORMAT, "version": VERSION, "meta": _jsonable(meta)}
    if optimizer is not None:
        opt_arrays, record["optimizer"] = _flatten_optimizer_state(optimizer.state_dict())
        arrays.update(opt_arrays)
    if scheduler is not None:
        record["scheduler"] = _jsonable(scheduler.state_dict())
    arrays["__record__"] = np.frombuffer(json.dumps(record).encode(), dtype=np.uint8)

    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def load_checkpoint(path):
    """Read a checkpoint: {"model": state_dict, "optimizer": ..., "scheduler": ..., "meta": ...}.
    Raises CheckpointError naming the path when the file is truncated or foreign."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"checkpoint {path!r} does not exist")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except Exception as e:  # a damaged zip header can raise BadZipFile, NotImplementedError, RuntimeError, ...
        raise CheckpointError(f"checkpoint {path!r} is truncated or corrupt ({e}); "
                              "use an earlier checkpoint or retrain") from None
    if "__record__" not in arrays:
        raise CheckpointError(f"{path!r} is not a minicnn checkpoint: expected a '__record__' entry, "
                              f"found keys {sorted(arrays)[:5]}")
    try:
        record = json.loads(arrays.pop("__record__").tobytes().decode())
    except ValueError as e:
        raise CheckpointError(f"checkpoint {path!r} has an unreadable record ({e})") from None
    if record.get("format") != FORMAT:
        raise CheckpointError(f"{path!r} is not a minicnn checkpoint (format {record.get('format')!r})")
    out = {"model": {k[len("model/"):]: v for k, v in arrays.items() if k.startswith("model/")},
           "meta": record.get("meta", {}), "scheduler": record.get("scheduler")}
    out["optimizer"] = _unflatten_optimizer_state(record["optimizer"], arrays) if "optimizer" in record else None
    return out
