"""batch_norm through the fused kernels: float64 gradchecks with the Numba kernels and with the
NumPy references, for every input rank, in training and evaluation, with and without affine."""
import numpy as np
import pytest

import minicnn as mc
from minicnn import functional as F


@pytest.mark.parametrize("shape", [(4, 3), (3, 2, 5), (2, 3, 3, 4)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_gradcheck_float64(impl, shape, training, affine):
    rng = np.random.default_rng(len(shape))
    C = shape[1]
    x = mc.Tensor(rng.standard_normal(shape) * 2 + 0.5, requires_grad=True)
    params = [mc.Tensor(rng.standard_normal(C), requires_grad=True) for _ in range(2)] if affine else []
    running_mean, running_var = rng.standard_normal(C), rng.random(C) + 0.5

    def fn(x, *p):
        return F.batch_norm(x, running_mean.copy(), running_var.copy(), *p, training=training)
    assert mc.gradcheck(fn, [x] + params)


def test_batch_norm_saves_no_normalised_copy_of_the_input():
    x = mc.Tensor(np.random.default_rng(0).standard_normal((4, 3, 5, 5)), requires_grad=True)
    y = F.batch_norm(x, None, None, training=True)
    assert not any(isinstance(v, np.ndarray) and v.size == x.data.size and not np.shares_memory(v, x.data)
                   for v in vars(y.creator).values())
