"""Random augmentation is seeded per (seed, epoch, batch): each epoch draws new crops and
flips, and setting the epoch back replays exactly what that epoch saw (the basis of resume)."""
import numpy as np
import pytest

from minicnn.data import ArrayDataset, DataLoader
from minicnn.data.transforms import Compose, RandomCrop, RandomHorizontalFlip

N, BATCH, EPOCHS = 10, 4, 4


def images():
    """Distinct pixels everywhere, so any different crop offset or flip changes the batch."""
    return np.arange(N * 1 * 8 * 8, dtype=np.float32).reshape(N, 1, 8, 8)


def augment():
    return Compose([RandomCrop(6, padding=1), RandomHorizontalFlip()])


def loaders():
    """The same augmentation applied by the loader, and by the dataset the loader cuts from."""
    labels = np.arange(N) % 3
    yield DataLoader(ArrayDataset(images(), labels), batch_size=BATCH, transform=augment(), seed=7)
    yield DataLoader(ArrayDataset(images(), labels, transform=augment()), batch_size=BATCH, seed=7)


def epoch(loader, e):
    loader.set_epoch(e)
    return [x.copy() for x, _ in loader]


@pytest.mark.parametrize("loader", loaders(), ids=["loader transform", "dataset transform"])
def test_every_epoch_draws_new_augmentations_for_every_batch(loader):
    seen = [epoch(loader, e) for e in range(EPOCHS)]
    for b in range(len(loader)):
        for e1 in range(EPOCHS):
            for e2 in range(e1 + 1, EPOCHS):
                assert not np.array_equal(seen[e1][b], seen[e2][b]), \
                    f"batch {b} got the same crops and flips in epochs {e1} and {e2}"


@pytest.mark.parametrize("loader", loaders(), ids=["loader transform", "dataset transform"])
def test_batches_of_one_epoch_draw_different_augmentations(loader):
    # without shuffling, batch b of every epoch holds the same images; the offsets must still differ
    # between batches (samples 0..3 and 4..7 are cropped with different draws)
    x0, x1 = epoch(loader, 0)[:2]
    crops_0 = x0 - images()[:BATCH, :, 1:7, 1:7]
    crops_1 = x1 - images()[BATCH:2 * BATCH, :, 1:7, 1:7]
    assert not np.array_equal(crops_0, crops_1)


@pytest.mark.parametrize("loader", loaders(), ids=["loader transform", "dataset transform"])
def test_a_resumed_epoch_replays_its_augmentations_exactly(loader):
    first = [epoch(loader, e) for e in range(EPOCHS)]
    for e in (2, 0, 3):  # any order: an epoch depends on nothing but (seed, epoch, batch)
        assert all(np.array_equal(a, b) for a, b in zip(epoch(loader, e), first[e]))
    # mid-epoch: from batch 1 on, as a resumed run skips the batches it already trained
    loader.set_epoch(2)
    tail = [x for x, _ in loader.iter_from(1)]
    assert len(tail) == len(first[2]) - 1
    assert all(np.array_equal(a, b) for a, b in zip(tail, first[2][1:]))


def test_a_new_loader_with_the_saved_state_replays_the_epoch():
    labels = np.arange(N) % 3
    before = DataLoader(ArrayDataset(images(), labels), batch_size=BATCH, shuffle=True, transform=augment(), seed=3)
    for _ in range(2):
        list(before)
    state = before.state_dict()
    expected = epoch(before, 2)
    after = DataLoader(ArrayDataset(images(), labels), batch_size=BATCH, shuffle=True, transform=augment(), seed=99)
    after.load_state_dict(state)
    assert all(np.array_equal(a, b) for a, b in zip([x for x, _ in after], expected))
