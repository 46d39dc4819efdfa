"""ZFNet-style deconvnet: project one activation back to pixel space (Zeiler & Fergus 2014)."""
import numpy as np

from ..backend import get_array_module
from ..function import Function
from ..tensor import Tensor
from .activations import _batch, _kind, capture_activations
from .figures import _as_numpy, _pyplot, _show, save_figure


class DeconvReLU(Function):
    """Forward: max(x, 0). Backward as in Zeiler & Fergus's deconvnet: the signal going down
    is rectified, max(gy, 0), instead of masked by the forward's sign [x > 0]."""
    def forward(self, x):
        return get_array_module(x).maximum(x, x.dtype.type(0))

    def backward(self, gy):
        return get_array_module(gy).maximum(gy, gy.dtype.type(0))


def deconv_projection(model, x, layer, channel=None):
    """Project the strongest activation of ``channel`` in module ``layer`` (a name from
    ``model.named_modules()``) back to pixel space, as ZFNet's deconvnet does: all other
    activations of the layer are zeroed, max-pools route through their forward arg-max (the
    "switches"), convolutions run transposed, and each ReLU (an ``nn.ReLU`` module,
    swapped in through a forward hook) rectifies the signal going down. ``channel=None``
    picks the channel with the largest activation. Returns (image (C, H, W), channel)."""
    modules = dict(model.named_modules())
    if layer not in modules:
        raise ValueError(f"deconv_projection: no module named {layer!r}; "
                         f"expected one of {[n for n in modules if n][:12]}")
    captured = {}
    handles = [modules[layer].register_forward_hook(lambda m, i, out: captured.setdefault("out", out))]
    handles += [m.register_forward_hook(lambda m, inputs, out: DeconvReLU()(inputs[0]))
                for m in modules.values() if _kind(m, "ReLU")]
    params = list(model.parameters())
    flags = [p.requires_grad for p in params]
    was_training = model.training
    model.eval()
    try:
        for p in params:
            p.requires_grad = False          # only the path back to the pixels is needed
        image = Tensor(_batch(x, model), requires_grad=True)
        model(image)
        out = captured["out"]
        data = _as_numpy(out.data)[0]
        if channel is None:
            channel = int(data.reshape(len(data), -1).max(axis=1).argmax())
        position = np.unravel_index(int(data[channel].argmax()), data[channel].shape)
        seed = np.zeros_like(_as_numpy(out.data))
        seed[(0, channel) + position] = data[(channel,) + position]
        out.backward(get_array_module(out.data).asarray(seed))
        projection = _as_numpy(image.grad.data)[0]
    finally:
        for h in handles:
            h.remove()
        for p, flag in zip(params, flags):
            p.requires_grad = flag
        model.train(was_training)
    return projection, channel


def deconv_figure(model, x, path, layers=None, top=4, title=None):
    """For each layer in ``layers`` (default: every Conv2d), the deconvnet projections of its
    ``top`` most active channels for image ``x``, one row per layer. Returns ``path``."""
    plt = _pyplot()
    if layers is None:
        layers = [n for n, m in model.named_modules() if n and _kind(m, "Conv2d")]
    maps = capture_activations(model, x, lambda name, module: name in layers)
    fig, axes = plt.subplots(len(layers), top + 1, figsize=(1.3 * (top + 1), 1.4 * len(layers)), squeeze=False)
    for row, name in enumerate(layers):
        _show(axes[row, 0], _as_numpy(_batch(x))[0], "input" if row == 0 else None)
        strength = maps[name][0].reshape(maps[name].shape[1], -1).max(axis=1)
        for col, channel in enumerate(np.argsort(-strength, kind="stable")[:top], start=1):
            projection, _ = deconv_projection(model, x, name, int(channel))
            _show(axes[row, col], projection, f"{name} #{int(channel)}")
        for col in range(min(top, len(strength)) + 1, top + 1):
            axes[row, col].set_axis_off()
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)
