"""Activations read through forward hooks: each conv layer's maps for one image, the
penultimate-layer features of many, their Euclidean nearest neighbours (the AlexNet paper's
Figure 4), and a zoo model rebuilt from a checkpoint."""
import os

import numpy as np

from ..backend import backend_module
from ..checkpoint import load_checkpoint
from ..function import no_grad
from ..tensor import Tensor
from .figures import _as_numpy, _pyplot, _show, save_figure


def _kind(module, *names):
    """True when ``module`` is an instance of a class called one of ``names`` (no import needed)."""
    return any(cls.__name__ in names for cls in type(module).__mro__)


def _batch(x, model=None):
    """x as a (1, C, H, W) batch (accepts (H, W), (C, H, W) or (N, C, H, W)) on the current
    backend, in the dtype of ``model``'s parameters (float32 without a model)."""
    x = np.asarray(_as_numpy(x))
    while x.ndim < 4:
        x = x[None]
    first = next(iter(model.parameters()), None) if model is not None else None
    dtype = first.data.dtype if first is not None else np.float32
    return backend_module().asarray(x.astype(dtype, copy=False))


def capture_activations(model, x, select=lambda name, module: _kind(module, "Conv2d")):
    """{module name: output as a NumPy array} for every module with ``select(name, module)``
    true, from one forward in eval mode under no_grad (the mode is restored after)."""
    captured, handles = {}, []

    def grab(name):
        def hook(module, inputs, output):
            # a copy: an in-place ReLU after this layer (the zoo's) would otherwise rectify it
            captured[name] = np.array(_as_numpy(output.data if isinstance(output, Tensor) else output))
        return hook

    for name, module in model.named_modules():
        if name and select(name, module):
            handles.append(module.register_forward_hook(grab(name)))
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            model(Tensor(_batch(x, model)))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return captured


def feature_maps(model, x, path, max_maps=8, select=None, title=None):
    """Feature maps of each conv layer of ``model`` for one image ``x`` (C, H, W): the input in
    the first row, then one row per captured layer with its first ``max_maps`` channels,
    each normalised on its own. Layers are captured with forward hooks (``select(name,
    module)``, default: every Conv2d). Returns ``path``."""
    plt = _pyplot()
    select = select or (lambda name, module: _kind(module, "Conv2d"))
    maps = capture_activations(model, x, select)
    if not maps:
        raise ValueError(f"feature_maps: no module of {type(model).__name__} was selected "
                         "(the default selects Conv2d layers)")
    cols = max(2, min(max_maps, max(m.shape[1] for m in maps.values())))
    fig, axes = plt.subplots(len(maps) + 1, cols, figsize=(1.3 * cols, 1.4 * (len(maps) + 1)), squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    axes[0, 0].set_axis_on()
    _show(axes[0, 0], _as_numpy(_batch(x))[0], "input")
    for row, (name, fmap) in enumerate(maps.items(), start=1):
        for channel in range(min(cols, fmap.shape[1])):
            axes[row, channel].set_axis_on()
            label = f"{name} {tuple(fmap.shape[1:])}" if channel == 0 else f"#{channel}"
            _show(axes[row, channel], fmap[0, channel], label)
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)


def penultimate_features(model, images, batch_size=256):
    """The input of the model's last Linear layer (AlexNet: the 4096-d activations of the
    last hidden layer) for ``images`` (N, C, H, W), as a float64 (N, D) NumPy array; captured
    with a forward hook, in eval mode under no_grad."""
    last = [m for _, m in model.named_modules() if _kind(m, "Linear")]
    if not last:
        raise ValueError(f"penultimate_features: {type(model).__name__} has no Linear layer to hook")
    chunks = []
    handle = last[-1].register_forward_hook(
        lambda module, inputs, output: chunks.append(_as_numpy(inputs[0].data).reshape(len(inputs[0].data), -1)))
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            for start in range(0, len(images), batch_size):
                model(Tensor(_batch(images[start:start + batch_size], model)))
    finally:
        handle.remove()
        model.train(was_training)
    return np.concatenate(chunks).astype(np.float64)


def nearest_neighbours(features_query, features_train, k=5):
    """Indices (Q, k) and Euclidean distances (Q, k) of the ``k`` rows of ``features_train``
    (M, D) closest to each row of ``features_query`` (Q, D), nearest first (ties: lower index)."""
    q = np.asarray(_as_numpy(features_query), dtype=np.float64)
    t = np.asarray(_as_numpy(features_train), dtype=np.float64)
    if q.ndim != 2 or t.ndim != 2 or q.shape[1] != t.shape[1]:
        raise ValueError(f"nearest_neighbours: expected (Q, D) and (M, D) features, got {q.shape} and {t.shape}")
    if not 1 <= k <= len(t):
        raise ValueError(f"nearest_neighbours: expected 1 <= k <= {len(t)} (training rows), got k={k}")
    # |q - t|^2 = |q|^2 + |t|^2 - 2 q.t : one matrix product instead of a (Q, M, D) difference
    squared = (q * q).sum(1)[:, None] + (t * t).sum(1)[None, :] - 2.0 * q @ t.T
    distances = np.sqrt(np.maximum(squared, 0.0))
    order = np.argsort(distances, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(distances, order, axis=1)


def model_from_checkpoint(checkpoint, name, **kwargs):
    """Build zoo model ``name`` (``minicnn.models.get_model``) and load the model state of
    ``checkpoint`` (a path or a ``load_checkpoint`` result) into it. ``in_channels`` and
    ``num_classes`` are read from the first conv weight and the last linear weight unless
    given; other builder arguments (``input_size``) must match the trained model."""
    from .. import models      # lazily: the zoo is only needed here
    source = os.fspath(checkpoint) if isinstance(checkpoint, (str, os.PathLike)) else "the checkpoint"
    state = load_checkpoint(checkpoint)["model"] if isinstance(checkpoint, (str, os.PathLike)) else checkpoint["model"]
    accepted = models.model_arguments(name)
    weights = [v for k, v in state.items() if k.endswith("weight")]
    convs, linears = [w for w in weights if w.ndim == 4], [w for w in weights if w.ndim == 2]
    if "in_channels" in accepted and convs:
        kwargs.setdefault("in_channels", int(convs[0].shape[1]))
    if "num_classes" in accepted and linears:
        kwargs.setdefault("num_classes", int(linears[-1].shape[0]))
    model = models.get_model(name, **{k: v for k, v in kwargs.items() if v is not None})
    try:
        model.load_state_dict(state)
    except ValueError as e:
        hint = " (pass the input size it was trained with)" if "input_size" in accepted else ""
        raise ValueError(f"{source} does not fit {name}({', '.join(f'{k}={v}' for k, v in kwargs.items())})"
                         f"{hint}: {e}") from None
    return model.eval()
