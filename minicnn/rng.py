"""The library's random number generators: one for NumPy, one for CuPy, seeded together.

Initialisation, dropout masks and shuffling all draw from here, so ``manual_seed`` makes a
run repeatable, and ``get_rng_state``/``set_rng_state`` let a checkpoint resume it exactly.
"""
import numpy as np

from .backend import backend_module, cupy_available

_seed = 0
_generators = {}


def manual_seed(seed):
    """Seed every generator of the library (NumPy's now, CuPy's when first used)."""
    global _seed
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed: expected a non-negative integer, got {seed!r}")
    _seed = int(seed)
    _generators.clear()


def get_rng(xp=np):
    """The library generator for array module ``xp`` (numpy or cupy)."""
    key = xp.__name__
    if key not in _generators:
        _generators[key] = xp.random.default_rng(_seed)
    return _generators[key]


def get_rng_state():
    """A picklable snapshot of the generators (for checkpoints)."""
    state = {"seed": _seed, "numpy": get_rng(np).bit_generator.state}
    return state


def set_rng_state(state):
    global _seed
    _seed = int(state["seed"])
    _generators.clear()
    get_rng(np).bit_generator.state = state["numpy"]


def current_rng():
    """The generator of the current backend."""
    return get_rng(backend_module() if cupy_available() else np)
