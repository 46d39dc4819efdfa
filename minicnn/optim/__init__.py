"""Optimizers (SGD, Adam) and learning-rate schedules (``optim.lr_scheduler``)."""
from . import lr_scheduler
from .adam import Adam
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "lr_scheduler"]
