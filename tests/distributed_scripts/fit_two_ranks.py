"""Run under mpiexec -n 2: the trainer (minicnn.train.fit) with a DistributedOptimizer, the
per-rank training shard from shard_dataset and an exact test shard. Checks that the ranks
keep identical weights and histories and that only rank 0 writes files; prints FIT OK.
Usage: mpiexec -n 2 python tests/distributed_scripts/fit_two_ranks.py OUT_DIR"""
import os
import sys

import numpy as np

import minicnn as mc
from minicnn import distributed as dist
from minicnn import nn, optim
from minicnn.data import ArrayDataset, DataLoader
from minicnn.train import evaluate, fit

comm = dist.init()
out_dir = os.path.join(sys.argv[1], f"rank{comm.rank}")
rng = np.random.default_rng(0)
images = rng.normal(size=(90, 1, 4, 4)).astype(np.float32)
labels = (images[:, 0, 0, 0] > 0).astype(np.int64) + (images[:, 0, 1, 1] > 0.5)
train_set, test_set = ArrayDataset(images[:64], labels[:64]), ArrayDataset(images[64:], labels[64:])

mc.manual_seed(10 + comm.rank)  # different dropout masks / init per rank; the broadcast unifies init
model = nn.Sequential(nn.Flatten(), nn.Linear(16, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 3))
dist.broadcast_parameters(model, comm)
opt = dist.DistributedOptimizer(optim.Adam(model.parameters(), lr=1e-2), comm)
train_loader = DataLoader(dist.shard_dataset(train_set, comm, seed=1), batch_size=8, shuffle=True, seed=1)
test_loader = DataLoader(dist.shard_dataset(test_set, comm, shuffle=False, pad=False), batch_size=10)
history = fit(model, opt, train_loader, test_loader, epochs=3, out_dir=out_dir, progress=False,
              comm=comm, log=lambda *a, **k: None, plot=False)

params = {name: mc.to_numpy(p.data) for name, p in model.named_parameters()}
everyone = comm.allgather_object((params, history["test_acc"], history["train_loss"]))
for rank, (theirs, test_acc, train_loss) in enumerate(everyone):
    for name in params:
        assert np.array_equal(theirs[name], everyone[0][0][name]), f"rank {rank}'s {name} differs"
    assert test_acc == everyone[0][1] and train_loss == everyone[0][2], f"rank {rank}'s history differs"
assert history["train_loss"][-1] < history["train_loss"][0], history["train_loss"]
assert os.path.isdir(out_dir) == comm.is_main, f"rank {comm.rank}: out_dir exists {os.path.isdir(out_dir)}"
dist.average_buffers(model, comm)  # now every rank holds the same model, running stats included
whole = evaluate(model, DataLoader(test_set, batch_size=26))
sharded = evaluate(model, test_loader, comm=comm)
assert abs(whole["accuracy"] - sharded["accuracy"]) < 1e-12, (whole, sharded)
assert abs(whole["loss"] - sharded["loss"]) < 1e-5, (whole, sharded)
print(f"FIT OK rank {comm.rank} train_loss {history['train_loss']} test_acc {history['test_acc']}")
