"""BatchNorm's running statistics against numbers worked out by hand (no PyTorch needed):
momentum=None keeps the cumulative average of the batch statistics, a number mixes them
exponentially. Running variances use the unbiased batch variance, as PyTorch does."""
import numpy as np
import pytest

import minicnn as mc
from minicnn import nn


def test_batchnorm_momentum_none_keeps_the_cumulative_average_of_batch_statistics():
    # batch means 2, 4, 5 and unbiased variances 2, 16, 0:
    # running_mean = 2, (2+4)/2 = 3, (2+4+5)/3 = 11/3; running_var = 2, (2+16)/2 = 9, 18/3 = 6
    bn = nn.BatchNorm1d(1, momentum=None)
    batches = [[[1.0], [3.0]], [[0.0], [4.0], [8.0]], [[5.0], [5.0]]]
    expected = [(2.0, 2.0), (3.0, 9.0), (11 / 3, 6.0)]
    for batch, (mean, var) in zip(batches, expected):
        bn(mc.Tensor(np.array(batch, dtype=np.float32)))
        np.testing.assert_allclose(bn.running_mean, [mean], rtol=1e-6)
        np.testing.assert_allclose(bn.running_var, [var], rtol=1e-6)
    assert int(bn.num_batches_tracked) == 3


@pytest.mark.parametrize("momentum, mean, var", [(0.1, 0.2, 1.1), (1.0, 2.0, 2.0)])
def test_batchnorm_numeric_momentum_mixes_running_and_batch_statistics(momentum, mean, var):
    # one batch [1, 3]: mean 2, unbiased var 2; from (0, 1): (1-m)*0 + m*2, (1-m)*1 + m*2
    bn = nn.BatchNorm1d(1, momentum=momentum)
    bn(mc.Tensor(np.array([[1.0], [3.0]], dtype=np.float32)))
    np.testing.assert_allclose(bn.running_mean, [mean], rtol=1e-6)
    np.testing.assert_allclose(bn.running_var, [var], rtol=1e-6)
