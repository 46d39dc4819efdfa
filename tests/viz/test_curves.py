"""minicnn.viz.curves: curves.png with the smoothed loss of every step, and the gradient
flow across layers (the AlexNet paper's init against d2l's)."""
import numpy as np
import pytest

import minicnn as mc
from minicnn import functional as F, viz
from minicnn.monitor import LayerStats
from minicnn.viz import curves


def is_png(path):
    with open(path, "rb") as f:
        return f.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def drawn(monkeypatch):
    """The figures the curves module would save, kept open for the test to look at."""
    figures = []

    def keep(fig, path, dpi=100):
        figures.append(fig)
        return path
    monkeypatch.setattr(curves, "save_figure", keep)
    return figures


def test_smooth_is_a_bias_corrected_moving_average():
    np.testing.assert_allclose(viz.smooth([2.0, 2.0, 2.0], 0.9), [2.0, 2.0, 2.0])     # no pull toward 0
    np.testing.assert_allclose(viz.smooth([1.0, 3.0], 0.5), [1.0, (0.25 * 1 + 0.5 * 3) / 0.75])
    np.testing.assert_allclose(viz.smooth([5.0, -1.0], 0.0), [5.0, -1.0])
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        viz.smooth([1.0], 1.0)


def test_one_epoch_history_draws_the_steps_as_a_curve_on_the_epoch_axis(tmp_path, drawn):
    steps = list(np.linspace(2.3, 0.6, 40) + 0.1 * np.sin(np.arange(40)))
    history = {"train_loss": [float(np.mean(steps))], "train_acc": [0.7], "test_loss": [0.5], "test_acc": [0.8],
               "step_loss": steps}
    viz.plot_history(history, tmp_path / "curves.png")
    ax_loss = drawn[0].axes[0]
    raw, smoothed, epoch_dot, test_dot = ax_loss.get_lines()
    np.testing.assert_allclose(raw.get_xdata(), np.arange(1, 41) / 40)
    np.testing.assert_allclose(raw.get_ydata(), steps)
    np.testing.assert_allclose(smoothed.get_ydata(), viz.smooth(steps, 0.8))
    assert np.ptp(np.diff(smoothed.get_ydata())) < np.ptp(np.diff(steps))          # smoother than the raw steps
    assert list(epoch_dot.get_xdata()) == [1] and list(test_dot.get_ydata()) == [0.5]
    assert "smoothed" in smoothed.get_label()


def test_without_step_losses_the_epoch_curves_are_drawn_as_before(tmp_path):
    history = {"train_loss": [0.9, 0.5], "train_acc": [0.7, 0.85], "test_loss": [0.6, 0.45], "test_acc": [0.8, 0.86]}
    assert is_png(viz.plot_history(history, tmp_path / "curves.png"))


def stats_after_one_step(variant, rng):
    mc.manual_seed(0)
    model = mc.models.alexnet(variant=variant, input_size=67)
    x = mc.Tensor(rng.normal(size=(8, 1, 67, 67)).astype(np.float32))
    stats, history = LayerStats(dead_relus=False), {}
    stats.on_fit_start(model)
    loss = F.cross_entropy(model(x), rng.integers(0, 10, 8))
    loss.backward()
    stats.on_step_end(model, 1, loss.item())
    stats.on_epoch_end(model, 0, history)
    return history


def test_paper_init_gradients_vanish_toward_the_input_and_d2l_init_stays_level(tmp_path, rng):
    paper, d2l = stats_after_one_step("paper", rng), stats_after_one_step("d2l", rng)
    names, paper_flow = viz.gradient_flow(paper)
    _, d2l_flow = viz.gradient_flow(d2l)
    assert len(names) == len(paper_flow) == len(d2l_flow) == 8          # 5 conv kernels and 3 FC matrices
    assert names[0] == "0.weight" and all(n.endswith(".weight") for n in names)
    # N(0, 0.01) weights shrink the backward signal at each layer: the first layer gets orders of
    # magnitude less than the last; d2l's scaled init keeps them within about two orders
    paper_span, d2l_span = np.log10(paper_flow[-1] / paper_flow[0]), np.log10(d2l_flow[-1] / d2l_flow[0])
    assert paper_span > 3 and d2l_span < 2.5 and paper_span > d2l_span + 1.5
    path = viz.plot_gradient_flow({"paper init N(0, 0.01)": paper, "d2l init": d2l}, tmp_path / "flow.png",
                                  title="AlexNet, one step")
    assert is_png(path)


def test_gradient_flow_names_what_is_missing(tmp_path):
    with pytest.raises(TypeError, match="LayerStats"):
        viz.plot_gradient_flow([1, 2], tmp_path / "f.png")
    with pytest.raises(ValueError, match="run 'a' has no 'layer_stats'"):
        viz.plot_gradient_flow({"a": {"train_loss": [1.0]}}, tmp_path / "f.png")
    history = {"layer_stats": [{"params": {"w": {"shape": [2, 2], "weight_mean_abs": 1.0}}, "dead_relu": {}}]}
    with pytest.raises(ValueError, match="no weight has the statistic 'grad_mean_abs'"):
        viz.gradient_flow(history)


def test_in_the_middle_of_the_first_epoch_steps_per_epoch_places_the_steps(tmp_path, drawn):
    viz.plot_history({"train_loss": [], "train_acc": [], "step_loss": [2.0, 1.5, 1.2]}, tmp_path / "c.png",
                     steps_per_epoch=10)
    raw = drawn[0].axes[0].get_lines()[0]
    np.testing.assert_allclose(raw.get_xdata(), [0.1, 0.2, 0.3])
