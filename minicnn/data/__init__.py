"""Data: IDX/CIFAR readers, FashionMNIST/MNIST/CIFAR10, the DataLoader and batch transforms."""
from . import identity, transforms
from .cifar import CIFAR10
from .datasets import MNIST, ArrayDataset, FashionMNIST, IDXDataset, Subset
from .download import ChecksumError
from .idx import read_idx, write_idx
from .loader import DataLoader

__all__ = ["read_idx", "write_idx", "ArrayDataset", "Subset", "IDXDataset", "FashionMNIST", "MNIST",
           "CIFAR10", "ChecksumError", "DataLoader", "identity", "transforms"]
