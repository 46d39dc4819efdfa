"""A tiny model and trainer shared by the 2-rank script and the 1-rank reference in the test.

No dropout or BatchNorm: the forward is a deterministic function of weights and batch, so
2 ranks with batch B/2 each must end with the weights of 1 process with batch B.
"""
import numpy as np

import minicnn as mc
from minicnn import distributed as dist
from minicnn import nn
from minicnn.optim import SGD
from minicnn.rng import get_rng


class TinyNet(nn.Module):
    """x (N, 6) -> sigmoid(x @ w1 + b1) (N, 5) -> @ w2 + b2 (N, 3)."""

    def __init__(self):
        super().__init__()
        rng = get_rng(np)
        self.w1 = nn.Parameter(rng.normal(0.0, 0.5, (6, 5)).astype(np.float32))
        self.b1 = nn.Parameter(rng.normal(0.0, 0.1, (5,)).astype(np.float32))
        self.w2 = nn.Parameter(rng.normal(0.0, 0.5, (5, 3)).astype(np.float32))
        self.b2 = nn.Parameter(np.zeros(3, dtype=np.float32))

    def forward(self, x):
        hidden = 1.0 / (1.0 + (-(x @ self.w1 + self.b1)).exp())
        return hidden @ self.w2 + self.b2


def make_optimizer(params, lr=0.5):
    return SGD(params, lr=lr, momentum=0.9)


def make_data(n=48, seed=7):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype(np.float32)
    y = np.tanh(x[:, :3] * 1.5 - x[:, 3:]).astype(np.float32)
    return x, y


def train(comm, global_batch=8, steps=8, bucket_mb=25, data_seed=3, init_seed=100,
          backend="numpy", allreduce="auto"):
    """Train TinyNet ``steps`` steps on ``comm``'s ranks; each rank sees global_batch/size
    examples per step. Rank r initialises with seed init_seed + r; the broadcast makes them equal."""
    mc.manual_seed(init_seed + comm.rank)
    model = TinyNet()
    if backend == "cupy":
        dist.select_gpu(comm)
        model.to("cupy")
    dist.broadcast_parameters(model, comm)
    opt = dist.DistributedOptimizer(make_optimizer(model.parameters()), comm, bucket_mb=bucket_mb,
                                    allreduce=allreduce)
    x, y = (mc.to_device(a, backend) for a in make_data())
    local = global_batch // comm.size
    step, epoch = 0, 0
    while step < steps:  # 48 examples / batch 8: six steps an epoch, so the run spans two epochs
        shard = dist.shard_indices(len(x), comm.rank, comm.size, epoch=epoch, seed=data_seed)
        for k in range(len(shard) // local):
            if step == steps:
                break
            idx = shard[k * local:(k + 1) * local]
            opt.zero_grad()
            out = model(mc.Tensor(x[idx]))
            loss = ((out - mc.Tensor(y[idx])) ** 2).mean()
            loss.backward()
            opt.step()
            step += 1
        epoch += 1
    return model, opt
