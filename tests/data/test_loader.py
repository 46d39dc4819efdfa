"""DataLoader: batching, backend arrays, seeded per-epoch order, resume, transforms, prefetch."""
import threading

import numpy as np
import pytest

import minicnn as mc
from minicnn.data import ArrayDataset, DataLoader, transforms as T


def make_dataset(n=10, transform=None):
    images = np.arange(n * 2 * 3, dtype=np.uint8).reshape(n, 2, 3) * 2
    return ArrayDataset(images, np.arange(n) % 7, transform=transform)


class ItemDataset:
    """A dataset with only __len__/__getitem__ (the per-item path)."""

    def __init__(self, inner):
        self.inner = inner

    def __len__(self):
        return len(self.inner)

    def __getitem__(self, i):
        return self.inner[i]


def collect(loader):
    return [(mc.to_numpy(x), mc.to_numpy(y)) for x, y in loader]


def test_batches_are_float32_nchw_and_int64_on_the_current_backend(xp):
    loader = DataLoader(make_dataset(10), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and [len(y) for _, y in batches] == [4, 4, 2]
    x, y = batches[0]
    assert mc.get_array_module(x) is xp and mc.get_array_module(y) is xp
    assert x.shape == (4, 1, 2, 3) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(mc.to_numpy(x)[1, 0], make_dataset(10).data[1] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(mc.to_numpy(batches[2][1]), [8 % 7, 9 % 7])


def test_drop_last_skips_the_short_batch():
    loader = DataLoader(make_dataset(10), batch_size=4, drop_last=True)
    assert len(loader) == 2 and [len(y) for _, y in loader] == [4, 4]


def test_per_item_path_gives_the_same_batches_as_the_fast_path():
    ds = make_dataset(9)
    fast = collect(DataLoader(ds, batch_size=4, shuffle=True, seed=3))
    slow = collect(DataLoader(ItemDataset(ds), batch_size=4, shuffle=True, seed=3))
    for (x1, y1), (x2, y2) in zip(fast, slow):
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)


def test_fast_path_does_not_touch_getitem(monkeypatch):
    ds = make_dataset(8)
    monkeypatch.setattr(ArrayDataset, "__getitem__", lambda self, i: pytest.fail("per-item access"))
    assert sum(len(y) for _, y in DataLoader(ds, batch_size=3)) == 8


def test_shuffle_visits_every_sample_once_in_a_new_order_each_epoch():
    loader = DataLoader(make_dataset(50), batch_size=8, shuffle=True, seed=0)
    epochs = [np.concatenate([y for _, y in collect(loader)]) for _ in range(3)]
    order = [loader.order(e) for e in range(3)]
    assert all(sorted(o.tolist()) == list(range(50)) for o in order)
    assert not np.array_equal(order[0], order[1]) and not np.array_equal(order[1], order[2])
    for e in range(3):
        np.testing.assert_array_equal(epochs[e], order[e] % 7)


def test_manual_seed_fixes_the_order_when_no_seed_is_given():
    mc.manual_seed(11)
    a = DataLoader(make_dataset(30), batch_size=30, shuffle=True).order(0)
    mc.manual_seed(11)
    b = DataLoader(make_dataset(30), batch_size=30, shuffle=True).order(0)
    mc.manual_seed(12)
    c = DataLoader(make_dataset(30), batch_size=30, shuffle=True).order(0)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_resume_replays_the_order_and_augmentation_of_an_epoch():
    augment = T.Compose([T.RandomCrop(2, padding=1), T.RandomHorizontalFlip()])
    loader = DataLoader(make_dataset(20), batch_size=6, shuffle=True, transform=augment, seed=None)
    run = [collect(loader) for _ in range(3)]
    saved = {"seed": loader.state_dict()["seed"], "epoch": 2}

    mc.manual_seed(999)  # whatever the library RNG did in between
    resumed = DataLoader(make_dataset(20), batch_size=6, shuffle=True, transform=augment)
    resumed.load_state_dict(saved)
    for (x1, y1), (x2, y2) in zip(run[2], collect(resumed)):
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)
    resumed.set_epoch(0)
    np.testing.assert_array_equal(collect(resumed)[0][0], run[0][0][0])


def test_iter_from_replays_the_rest_of_an_epoch_exactly():
    augment = T.Compose([T.RandomCrop(2, padding=1), T.RandomHorizontalFlip()])
    loader = DataLoader(make_dataset(20), batch_size=3, shuffle=True, transform=augment, seed=4)
    loader.set_epoch(1)
    full = collect(loader)
    loader.set_epoch(1)
    rest = [(mc.to_numpy(x), mc.to_numpy(y)) for x, y in loader.iter_from(4)]
    assert len(rest) == len(full) - 4 and loader.epoch == 2
    for (x1, y1), (x2, y2) in zip(full[4:], rest):
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)


def test_dataset_transform_then_loader_transform_on_whole_batches():
    calls = []

    def record(name):
        def transform(x):
            calls.append((name, x.shape))
            return x + 1 if name == "dataset" else x * 10
        return transform
    loader = DataLoader(make_dataset(5, transform=record("dataset")), batch_size=5, transform=record("loader"))
    (x, _), = list(loader)
    assert calls == [("dataset", (5, 1, 2, 3)), ("loader", (5, 1, 2, 3))]
    np.testing.assert_allclose(x, (make_dataset(5).data[:, None] / 255.0 + 1) * 10, rtol=1e-6)


def test_resize_transform_runs_on_the_batch_backend(xp):
    (x, _), = list(DataLoader(make_dataset(4), batch_size=4, transform=T.Resize((6, 9))))
    assert x.shape == (4, 1, 6, 9) and x.dtype == np.float32 and mc.get_array_module(x) is xp


def test_prefetch_gives_identical_batches():
    augment = T.RandomCrop(2, padding=1)
    plain = collect(DataLoader(make_dataset(23), batch_size=4, shuffle=True, transform=augment, seed=5))
    ahead = collect(DataLoader(make_dataset(23), batch_size=4, shuffle=True, transform=augment, seed=5,
                               prefetch=2))
    assert len(plain) == len(ahead) == 6
    for (x1, y1), (x2, y2) in zip(plain, ahead):
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)


def test_prefetch_prepares_batches_in_a_background_thread():
    threads = set()

    def where(x):
        threads.add(threading.current_thread().name)
        return x
    list(DataLoader(make_dataset(8), batch_size=2, transform=where, prefetch=1))
    assert threads == {"minicnn-prefetch"}


def test_prefetch_reraises_errors_and_stops_on_break():
    def boom(x):
        raise RuntimeError("bad batch")
    with pytest.raises(RuntimeError, match="bad batch"):
        list(DataLoader(make_dataset(8), batch_size=2, transform=boom, prefetch=2))

    before = threading.active_count()
    iterator = iter(DataLoader(make_dataset(40), batch_size=2, prefetch=2))
    next(iterator)
    iterator.close()  # what a `break` does to the generator
    assert threading.active_count() <= before


@pytest.mark.parametrize("kwargs, message", [(dict(batch_size=0), "batch_size >= 1, got 0"),
                                             (dict(prefetch=-1), "prefetch >= 0"),
                                             ])
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DataLoader(make_dataset(3), **kwargs)
