"""minicnn: a from-scratch deep-learning engine on NumPy (CPU) and CuPy (GPU)."""
from .backend import (cupy_available, get_array_module, get_backend, set_backend, to_device,
                      to_numpy)
from .function import Function, enable_grad, is_grad_enabled, no_grad
from .tensor import Tensor, as_tensor
from .gradcheck import GradcheckError, gradcheck
from .rng import get_rng_state, manual_seed, set_rng_state
from . import functional, nn
from . import optim, data
from .functional import concatenate, pad, stack

__version__ = "0.1.0"
from . import models
from .summary import Summary, summary
from . import amp
from . import viz
from . import monitor
# PyTorch's names: factories (mc.tensor, mc.zeros, ...) and dtypes (mc.float32, ...). The
# function mc.tensor shadows the submodule's attribute; `from minicnn.tensor import Tensor` still works.
from .dtypes import (bool, double, float16, float32, float64, half, int8, int32, int64,  # noqa: A004
                     long, uint8)
from .factories import (abs, arange, cat, eye, exp, full, log, matmul, maximum, normal,  # noqa: A004
                        ones, ones_like, rand, randint, randn, sqrt, stack, tensor, where, zeros,
                        zeros_like)
from . import backends, threads
threads.apply_default_policy()
