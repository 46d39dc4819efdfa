"""minicnn/amp.py: float16 compute with float32 master weights and dynamic loss scaling."""
import math

import numpy as np
import pytest

import minicnn as mc
from minicnn import nn
from minicnn.amp import DynamicLossScaler, MixedPrecision
from minicnn.nn.module import Parameter


class TinyMLP(nn.Module):
    """x (N, 4) -> (N, 3); records the dtypes its forward sees."""

    def __init__(self, xp, rng, extra_float64=False):
        super().__init__()
        self.w1 = Parameter(xp.asarray(rng.standard_normal((8, 4)).astype(np.float32) * 0.5))
        self.b1 = Parameter(xp.asarray(rng.standard_normal(8).astype(np.float32) * 0.1))
        self.w2 = Parameter(xp.asarray(rng.standard_normal((3, 8)).astype(np.float32) * 0.5))
        if extra_float64:
            self.gain = Parameter(xp.asarray(np.array([1.5])))
        self.seen = []

    def forward(self, x):
        self.seen.append((x.dtype, self.w1.dtype))
        h = (x @ self.w1.T + self.b1).clip(0, None)
        out = h @ self.w2.T
        return out * self.gain if "gain" in self._parameters else out


class RecordingSGD:
    def __init__(self, params, lr=0.1):
        self.params, self.lr, self.steps = list(params), lr, 0

    def step(self):
        self.steps += 1
        for p in self.params:
            p.data -= p.data.dtype.type(self.lr) * p.grad.data

    def zero_grad(self):
        for p in self.params:
            p.grad = None


def squared_error(out, target):
    return ((out - target) ** 2).mean()


def _data(xp, rng, n=16):
    x = xp.asarray(rng.standard_normal((n, 4)).astype(np.float32))
    target = xp.asarray(rng.standard_normal((n, 3)).astype(np.float32))
    return mc.Tensor(x), target


def test_forward_computes_in_float16_and_returns_float32_with_masters_untouched(xp, rng):
    model = TinyMLP(xp, rng)
    masters = {name: (p, p.data.copy()) for name, p in model.named_parameters()}
    x, _ = _data(xp, rng)
    out = MixedPrecision(model).forward(x)
    assert model.seen == [(np.float16, np.float16)]
    assert out.dtype == np.float32
    for name, p in model.named_parameters():
        assert p is masters[name][0] and p.dtype == np.float32
        np.testing.assert_array_equal(mc.to_numpy(p.data), mc.to_numpy(masters[name][1]))


def test_master_grads_are_float32_scaled_then_unscaled_to_the_full_precision_grads(xp, rng):
    model = TinyMLP(xp, rng)
    x, target = _data(xp, rng)
    squared_error(model(x), target).backward()
    full = {name: mc.to_numpy(p.grad.data) for name, p in model.named_parameters()}
    model.zero_grad()

    amp = MixedPrecision(model, DynamicLossScaler(init_scale=1024.0))
    squared_error(amp.forward(x), target).backward()
    for name, p in model.named_parameters():
        assert p.grad.dtype == np.float32
        np.testing.assert_allclose(mc.to_numpy(p.grad.data), 1024 * full[name], rtol=2e-2, atol=1024 * 2e-3)
    optimizer = RecordingSGD(model.parameters(), lr=0.0)
    assert amp.step(optimizer) is True and optimizer.steps == 1
    for name, p in model.named_parameters():
        np.testing.assert_allclose(mc.to_numpy(p.grad.data), full[name], rtol=2e-2, atol=2e-3)


@pytest.mark.filterwarnings("ignore:.*encountered:RuntimeWarning")   # the overflow is the point
def test_overflowing_grads_skip_the_step_and_halve_the_scale(xp, rng):
    model = TinyMLP(xp, rng)
    before = {name: mc.to_numpy(p.data) for name, p in model.named_parameters()}
    x, target = _data(xp, rng)
    amp = MixedPrecision(model, DynamicLossScaler(init_scale=2.0 ** 30))  # scaled grads > float16 max 65504
    squared_error(amp.forward(x), target).backward()
    optimizer = RecordingSGD(model.parameters())
    assert amp.step(optimizer) is False
    assert optimizer.steps == 0 and amp.scale == 2.0 ** 29 and amp.loss_scaler.skipped_steps == 1
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(mc.to_numpy(p.data), before[name])


def test_scale_grows_after_growth_interval_finite_steps_and_an_overflow_restarts_the_count():
    scaler = DynamicLossScaler(init_scale=8.0, growth_interval=3)
    for _ in range(2):
        scaler.update(True)
    assert scaler.scale == 8.0
    scaler.update(True)
    assert scaler.scale == 16.0 and scaler.finite_steps == 0
    scaler.update(True)
    scaler.update(True)
    scaler.update(False)
    assert scaler.scale == 8.0 and scaler.finite_steps == 0
    scaler.update(True)
    scaler.update(True)
    assert scaler.scale == 8.0


def test_unscale_divides_exactly_in_float32_and_reports_non_finite_grads(xp):
    grads = np.array([3.0, -0.75, 1e-3], dtype=np.float32)
    p = Parameter(xp.zeros(3, dtype=np.float32))
    p.grad = mc.Tensor(xp.asarray(grads * 1024))
    assert DynamicLossScaler(init_scale=1024.0).unscale_([p]) is True
    assert p.grad.dtype == np.float32
    np.testing.assert_array_equal(mc.to_numpy(p.grad.data), grads)
    q = Parameter(xp.zeros(2, dtype=np.float32))
    q.grad = mc.Tensor(xp.asarray(np.array([1.0, np.nan], dtype=np.float32)))
    assert DynamicLossScaler().unscale_([p, q]) is False


def test_shared_parameter_is_cast_once_and_receives_both_grads(xp, rng):
    class Shared(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Module(), nn.Module()
            w = Parameter(xp.asarray(rng.standard_normal((4, 4)).astype(np.float32)))
            self.a.w = w
            self.b.w = w

        def forward(self, x):
            assert self.a.w is self.b.w   # one cast, seen by both
            return (x @ self.a.w) @ self.b.w

    model = Shared()
    x = mc.Tensor(xp.asarray(rng.standard_normal((2, 4)).astype(np.float32)))
    model(x).sum().backward()
    full = mc.to_numpy(model.a.w.grad.data)
    model.zero_grad()
    amp = MixedPrecision(model, DynamicLossScaler(init_scale=1.0))
    amp.forward(x).sum().backward()
    np.testing.assert_allclose(mc.to_numpy(model.a.w.grad.data), full, rtol=2e-2, atol=2e-2)


def test_float64_parameters_stay_float64_but_their_grads_are_unscaled_too(xp, rng):
    model = TinyMLP(xp, rng, extra_float64=True)
    x, target = _data(xp, rng)
    squared_error(model(x), target).backward()
    full_gain = mc.to_numpy(model.gain.grad.data)
    model.zero_grad()
    amp = MixedPrecision(model, DynamicLossScaler(init_scale=256.0))
    squared_error(amp.forward(x), target).backward()
    assert model.gain.dtype == np.float64
    amp.step(RecordingSGD(model.parameters(), lr=0.0))
    np.testing.assert_allclose(mc.to_numpy(model.gain.grad.data), full_gain, rtol=2e-2)


def test_parameters_come_back_when_the_forward_raises(xp, rng):
    class Broken(TinyMLP):
        def forward(self, x):
            raise RuntimeError("boom")

    model = Broken(xp, rng)
    with pytest.raises(RuntimeError, match="boom"):
        MixedPrecision(model).forward(_data(xp, rng)[0])
    assert all(isinstance(p, Parameter) and p.dtype == np.float32 for p in model._parameters.values())


@pytest.mark.filterwarnings("ignore:.*encountered:RuntimeWarning")
def test_mixed_precision_training_follows_full_precision_training(xp, rng):
    """Same init, same data, 60 SGD steps: the loss curves end close together, and the
    scaler recovers from a scale that starts far too high (it skips the first steps)."""
    x, target = _data(xp, rng, n=32)
    losses = {}
    for mode in ("float32", "amp"):
        model = TinyMLP(xp, np.random.default_rng(7))
        optimizer = RecordingSGD(model.parameters(), lr=0.05)
        amp = MixedPrecision(model, DynamicLossScaler(init_scale=2.0 ** 24, growth_interval=20))
        for _ in range(60):
            optimizer.zero_grad()
            out = amp.forward(x) if mode == "amp" else model(x)
            squared_error(out, target).backward()
            if mode == "amp":
                amp.step(optimizer)
            else:
                optimizer.step()
        with mc.no_grad():
            losses[mode] = float(squared_error(model(x), target).item())
        if mode == "amp":
            assert amp.loss_scaler.skipped_steps >= 1 and optimizer.steps == 60 - amp.loss_scaler.skipped_steps
    first = float(squared_error(TinyMLP(xp, np.random.default_rng(7))(x), target).item())
    assert losses["float32"] < 0.8 * first
    assert abs(losses["amp"] - losses["float32"]) < 0.05 * losses["float32"]


def test_scaler_state_dict_round_trips():
    scaler = DynamicLossScaler(init_scale=64.0, growth_interval=2)
    scaler.update(True)
    scaler.update(False)
    scaler.update(True)
    restored = DynamicLossScaler()
    restored.load_state_dict(scaler.state_dict())
    assert restored.state_dict() == {"scale": 32.0, "finite_steps": 1, "skipped_steps": 1}


@pytest.mark.parametrize("kwargs, message", [
    ({"init_scale": 0.0}, "init_scale must be a finite positive number, got 0.0"),
    ({"init_scale": float("inf")}, "init_scale must be a finite positive number"),
    ({"growth_factor": 1.0}, "growth_factor must be > 1, got 1.0"),
    ({"backoff_factor": 1.5}, r"backoff_factor must be in \(0, 1\), got 1.5"),
    ({"growth_interval": 0}, "growth_interval must be a positive integer, got 0"),
])
def test_scaler_rejects_bad_hyperparameters_by_name(kwargs, message):
    with pytest.raises(ValueError, match="DynamicLossScaler: " + message):
        DynamicLossScaler(**kwargs)


def test_mixed_precision_rejects_a_non_module_and_a_wide_compute_dtype(rng):
    with pytest.raises(TypeError, match="MixedPrecision: expected an nn.Module, got function"):
        MixedPrecision(lambda x: x)
    with pytest.raises(ValueError, match="compute_dtype must be a 16-bit float, got float32"):
        MixedPrecision(TinyMLP(np, rng), compute_dtype=np.float32)


def test_library_layers_stay_float16_under_amp_and_reach_the_float32_accuracy(xp, rng):
    """BatchNorm1d/Linear/ReLU/Dropout + cross-entropy + Adam: no layer silently promotes
    to float32 inside the amp forward, and training ends as accurate as in float32."""
    from minicnn import functional as F, nn, optim
    centers = rng.standard_normal((3, 4)) * 3
    labels = np.arange(96) % 3
    x = mc.Tensor(xp.asarray((centers[labels] + rng.standard_normal((96, 4))).astype(np.float32)))
    y = xp.asarray(labels)
    accuracy = {}
    for mode in ("float32", "amp"):
        mc.manual_seed(3)
        model = nn.Sequential(nn.BatchNorm1d(4), nn.Linear(4, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 3))
        out_dtypes = set()
        for m in model.modules():
            m.register_forward_hook(lambda module, inputs, out: out_dtypes.add(out.dtype))
        optimizer = optim.Adam(model.parameters(), lr=1e-2)
        amp = MixedPrecision(model)
        for _ in range(40):
            optimizer.zero_grad()
            F.cross_entropy(amp.forward(x) if mode == "amp" else model(x), y).backward()
            amp.step(optimizer) if mode == "amp" else optimizer.step()
        assert out_dtypes == {np.dtype(np.float16) if mode == "amp" else np.dtype(np.float32)}
        assert all(p.dtype == np.float32 for p in model.parameters())
        model.eval()
        with mc.no_grad():
            accuracy[mode] = float((mc.to_numpy(model(x).data).argmax(axis=1) == labels).mean())
    assert accuracy["float32"] > 0.9
    assert accuracy["amp"] >= accuracy["float32"] - 0.03


def test_conv_lrn_pool_layers_run_in_float16_with_float32_master_grads(xp, rng):
    """The AlexNet-era layers under amp: every output float16, every master grad float32.
    On NumPy the plain reference kernels run (Numba's CPU kernels have no float16)."""
    from minicnn import functional as F, kernels, nn
    previous = kernels.get_kernels()
    kernels.set_kernels("numpy")
    try:
        model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.LocalResponseNorm(3, k=2.0),
                              nn.MaxPool2d(3, 2), nn.Flatten(), nn.Linear(4 * 3 * 3, 3))
        out_dtypes = set()
        for m in model.modules():
            m.register_forward_hook(lambda module, inputs, out: out_dtypes.add(out.dtype))
        x = mc.Tensor(xp.asarray(rng.standard_normal((4, 1, 7, 7)).astype(np.float32)))
        amp = MixedPrecision(model, DynamicLossScaler(init_scale=128.0))
        logits = amp.forward(x)
        F.cross_entropy(logits, xp.asarray(np.arange(4) % 3)).backward()
        assert out_dtypes == {np.dtype(np.float16)} and logits.dtype == np.float32
        assert amp.step(RecordingSGD(model.parameters(), lr=0.0))
        assert all(p.grad.dtype == np.float32 and np.isfinite(mc.to_numpy(p.grad.data)).all()
                   for p in model.parameters())
    finally:
        kernels.set_kernels(previous)


# --- mixed precision in the trainer: fit(..., amp=MixedPrecision(model)) ----------------------------

def _blob_loaders(n=96):
    """Three separable Gaussian blobs as 1x4x4 images; a shuffled train loader, a test loader."""
    from minicnn.data import ArrayDataset, DataLoader
    centers = np.random.default_rng(42).standard_normal((3, 16)) * 3

    def blobs(count, seed):
        rng = np.random.default_rng(seed)
        y = rng.integers(0, 3, count)
        x = (centers[y] + rng.standard_normal((count, 16))).astype(np.float32)
        return ArrayDataset(x.reshape(count, 1, 4, 4), y)
    return DataLoader(blobs(n, 0), batch_size=16, shuffle=True, seed=0), DataLoader(blobs(48, 1), batch_size=48)


def _amp_run(init_scale=2.0 ** 16, growth_interval=2000):
    from minicnn import optim
    mc.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 3))
    amp = MixedPrecision(model, DynamicLossScaler(init_scale=init_scale, growth_interval=growth_interval))
    return model, optim.Adam(model.parameters(), lr=1e-2), amp


class ScaleLog:
    """A fit callback: the loss scale when fit starts (after a resume) and after every step."""

    def __init__(self, amp):
        self.amp, self.at_start, self.after_step = amp, None, []

    def on_fit_start(self, model):
        self.at_start = self.amp.scale

    def on_step_end(self, model, step, loss_value):
        self.after_step.append(self.amp.scale)


@pytest.mark.filterwarnings("ignore:.*encountered:RuntimeWarning")
def test_fit_with_amp_trains_a_tiny_model_in_float16_with_float32_masters():
    from minicnn.train import fit
    model, optimizer, amp = _amp_run()
    seen = set()
    model[1].register_forward_hook(lambda module, inputs, out: seen.add(out.dtype))
    train, test = _blob_loaders()
    history = fit(model, optimizer, train, test, epochs=4, amp=amp, progress=False, log=lambda s: None, plot=False)
    assert np.dtype(np.float16) in seen                       # the training forward ran in float16
    assert all(p.dtype == np.float32 for p in model.parameters())
    assert history["test_acc"][-1] > 0.9
    assert history["train_loss"][-1] < 0.5 * history["train_loss"][0]
    assert "gpu_pool_used_bytes" not in history                # the CuPy pool is recorded on CuPy only


@pytest.mark.filterwarnings("ignore:.*encountered:RuntimeWarning")   # the overflows are the point
def test_fit_with_amp_halves_the_scale_on_overflow_and_doubles_it_after_clean_steps():
    """A scale of 2**20 overflows float16 (max 65504) on the first steps: each is skipped and
    halves the scale; once the scaled grads fit, every 3 clean steps double it again."""
    from minicnn.train import fit
    model, optimizer, amp = _amp_run(init_scale=2.0 ** 20, growth_interval=3)
    log = ScaleLog(amp)
    train, _ = _blob_loaders()
    fit(model, optimizer, train, None, epochs=4, amp=amp, callbacks=[log], progress=False, log=lambda s: None,
        plot=False)
    scales = [2.0 ** 20] + log.after_step
    changes = [b / a for a, b in zip(scales, scales[1:]) if b != a]
    assert set(changes) <= {0.5, 2.0}
    first_growth = changes.index(2.0)
    assert first_growth >= 3 and changes[:first_growth] == [0.5] * first_growth   # backed off step by step
    grown = [i for i, (a, b) in enumerate(zip(scales, scales[1:]), 1) if b == 2 * a]
    assert all(scales[i - 3:i] == [scales[i - 1]] * 3 for i in grown)   # each growth after 3 steady steps
    assert scales[-1] == amp.scale and math.isfinite(amp.scale)


@pytest.mark.filterwarnings("ignore:.*encountered:RuntimeWarning")
def test_amp_checkpoint_round_trips_the_scaler_and_resume_matches_an_unbroken_run(tmp_path):
    from minicnn.checkpoint import load_checkpoint
    from minicnn.train import fit
    quiet = dict(progress=False, log=lambda s: None, plot=False)

    model, optimizer, amp = _amp_run(init_scale=2.0 ** 20, growth_interval=3)
    train, test = _blob_loaders()
    fit(model, optimizer, train, test, epochs=3, amp=amp, out_dir=tmp_path / "unbroken", **quiet)
    unbroken = {k: mc.to_numpy(v) for k, v in model.state_dict().items()}

    model, optimizer, amp = _amp_run(init_scale=2.0 ** 20, growth_interval=3)
    train, test = _blob_loaders()
    fit(model, optimizer, train, test, epochs=1, amp=amp, out_dir=tmp_path / "broken", **quiet)
    saved = load_checkpoint(tmp_path / "broken" / "last.npz")["meta"]["amp"]
    assert saved == amp.loss_scaler.state_dict() and saved["skipped_steps"] >= 1

    model, optimizer, amp = _amp_run()                         # a fresh scaler: 2**16, growth after 2000
    resumed = DynamicLossScaler(init_scale=2.0 ** 16, growth_interval=3)
    amp = MixedPrecision(model, resumed)
    log = ScaleLog(amp)
    train, test = _blob_loaders()
    fit(model, optimizer, train, test, epochs=3, amp=amp, out_dir=tmp_path / "broken", resume=True,
        callbacks=[log], **quiet)
    assert log.at_start == saved["scale"]                      # the resumed run starts at the saved scale
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(mc.to_numpy(value), unbroken[key])


def test_scaler_load_state_dict_refuses_a_damaged_state():
    scaler = DynamicLossScaler()
    with pytest.raises(ValueError, match="missing finite_steps"):
        scaler.load_state_dict({"scale": 2.0})
    with pytest.raises(ValueError, match="expected a finite positive scale.*got scale inf"):
        scaler.load_state_dict({"scale": float("inf"), "finite_steps": 0})
    assert scaler.scale == 2.0 ** 16


@pytest.mark.filterwarnings("ignore:.*encountered:RuntimeWarning")
def test_a_distributed_optimizer_averages_before_the_overflow_check_so_ranks_agree(rng):
    """The skip decision is taken on the averaged gradients: here this rank's own grads are
    finite, but another rank's overflowed, so the average is inf and every rank skips."""
    model = TinyMLP(np, rng)

    class OtherRankOverflowed(RecordingSGD):
        def synchronize(self):
            self.params[0].grad.data[0, 0] = np.inf

    optimizer = OtherRankOverflowed(model.parameters())
    amp = MixedPrecision(model, DynamicLossScaler(init_scale=4.0))
    x, target = _data(np, rng)
    squared_error(amp.forward(x), target).backward()
    assert amp.step(optimizer) is False and optimizer.steps == 0 and amp.scale == 2.0
