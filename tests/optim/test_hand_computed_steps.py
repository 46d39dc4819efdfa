"""Update rules checked against trajectories worked out by hand, so they hold without PyTorch:
SGD's dampening (not applied on the first step), Nesterov momentum, Adam's bias correction and
where its eps sits.

Each expected number is written as the arithmetic of the rule's definition (PyTorch's docs),
small enough to redo on paper; the comments show the steps."""
import numpy as np

import minicnn as mc
from minicnn.nn.module import Parameter
from minicnn.optim import SGD, Adam


def run(make_opt, w0, grads):
    """Apply the given gradients one step each; return w after every step."""
    w = Parameter(np.array(w0, dtype=np.float64))
    opt = make_opt([w])
    out = []
    for g in grads:
        w.grad = mc.Tensor(np.array(g, dtype=np.float64))
        opt.step()
        out.append(w.data.copy())
    return out


def test_sgd_dampening_is_not_applied_on_the_first_step():
    # momentum 0.9, dampening 0.3, lr 0.1, gradients 2, 4, -1
    # step 1: buf = g = 2 (no dampening on the first step)   w = 1 - 0.1*2 = 0.8
    # step 2: buf = 0.9*2 + 0.7*4 = 4.6                       w = 0.8 - 0.46 = 0.34
    # step 3: buf = 0.9*4.6 + 0.7*(-1) = 3.44                 w = 0.34 - 0.344 = -0.004
    ws = run(lambda ps: SGD(ps, lr=0.1, momentum=0.9, dampening=0.3), 1.0, [2.0, 4.0, -1.0])
    np.testing.assert_allclose(ws, [0.8, 0.34, -0.004], rtol=0, atol=1e-15)


def test_sgd_dampening_one_freezes_the_buffer_after_the_first_gradient():
    # dampening 1: buf = g1 on step 1, then buf = 0.5*buf (later gradients are ignored)
    # w: 0 - 1*3 = -3, -3 - 1.5 = -4.5, -4.5 - 0.75 = -5.25
    ws = run(lambda ps: SGD(ps, lr=1.0, momentum=0.5, dampening=1.0), 0.0, [3.0, 100.0, -100.0])
    np.testing.assert_allclose(ws, [-3.0, -4.5, -5.25], rtol=0, atol=1e-15)


def test_sgd_nesterov_steps_along_gradient_plus_momentum_times_buffer():
    # momentum 0.9, lr 0.1, gradients 2, 4, 0
    # step 1: buf = 2;               update = g + 0.9*buf = 2 + 1.8 = 3.8      w = 1 - 0.38 = 0.62
    # step 2: buf = 0.9*2 + 4 = 5.8; update = 4 + 0.9*5.8 = 9.22              w = 0.62 - 0.922 = -0.302
    # step 3: buf = 0.9*5.8 = 5.22;  update = 0 + 0.9*5.22 = 4.698            w = -0.302 - 0.4698 = -0.7718
    ws = run(lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True), 1.0, [2.0, 4.0, 0.0])
    np.testing.assert_allclose(ws, [0.62, -0.302, -0.7718], rtol=0, atol=1e-14)


def test_sgd_nesterov_with_weight_decay_adds_the_decay_to_the_gradient_first():
    # weight_decay 0.5, momentum 0.5, lr 0.1, w0 = 2, gradients 1, 1
    # step 1: g = 1 + 0.5*2 = 2; buf = 2; update = 2 + 0.5*2 = 3          w = 2 - 0.3 = 1.7
    # step 2: g = 1 + 0.5*1.7 = 1.85; buf = 0.5*2 + 1.85 = 2.85;
    #         update = 1.85 + 0.5*2.85 = 3.275                              w = 1.7 - 0.3275 = 1.3725
    ws = run(lambda ps: SGD(ps, lr=0.1, momentum=0.5, weight_decay=0.5, nesterov=True), 2.0, [1.0, 1.0])
    np.testing.assert_allclose(ws, [1.7, 1.3725], rtol=0, atol=1e-14)


def test_adam_bias_correction_and_eps_outside_the_square_root():
    # lr 0.1, betas (0.5, 0.75), eps 0.1 (large, so its place shows), w0 = 1, gradients 2, 3
    # step 1: m = 0.5*2 = 1; v = 0.25*4 = 1
    #         m_hat = 1/(1-0.5) = 2; v_hat = 1/(1-0.75) = 4; sqrt(v_hat) = 2
    #         w = 1 - 0.1 * 2 / (2 + 0.1) = 1 - 0.2/2.1
    # step 2: m = 0.5*1 + 0.5*3 = 2; v = 0.75*1 + 0.25*9 = 3
    #         m_hat = 2/(1-0.25) = 8/3; v_hat = 3/(1-0.5625) = 48/7
    #         w -= 0.1 * (8/3) / (sqrt(48/7) + 0.1)
    ws = run(lambda ps: Adam(ps, lr=0.1, betas=(0.5, 0.75), eps=0.1), 1.0, [2.0, 3.0])
    w1 = 1 - 0.2 / 2.1
    w2 = w1 - 0.1 * (8 / 3) / (np.sqrt(48 / 7) + 0.1)
    np.testing.assert_allclose(ws, [w1, w2], rtol=1e-14)
    # the neighbours this rules out: no bias correction, eps inside the root, eps before the correction
    assert abs(w1 - (1 - 0.1 * 1 / (1 + 0.1))) > 1e-3
    assert abs(w1 - (1 - 0.1 * 2 / np.sqrt(4 + 0.1))) > 1e-3
    assert abs(w1 - (1 - 0.1 * 2 / ((1 + 0.1) / 0.5))) > 1e-3


def test_adam_first_step_moves_by_lr_whatever_the_gradient_scale():
    # with eps = 0 the bias-corrected first step is lr * g/|g| = lr * sign(g)
    for g in (1e-6, 3.0, -250.0):
        (w,) = run(lambda ps: Adam(ps, lr=0.01, eps=0.0), 0.0, [g])
        np.testing.assert_allclose(w, -0.01 * np.sign(g), rtol=1e-12)


def test_adam_weight_decay_is_added_to_the_gradient():
    # weight_decay 1, w0 = 2, gradient 0: g = 0 + 1*2 = 2; first step moves by lr*sign(g) (eps 0)
    (w,) = run(lambda ps: Adam(ps, lr=0.5, eps=0.0, weight_decay=1.0), 2.0, [0.0])
    np.testing.assert_allclose(w, 1.5, rtol=1e-14)
