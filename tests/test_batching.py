import numpy as np
import pytest
from datasets import Dataset

from hfsent.batching import bucket_boundaries, make_dataset, ordered_batches


def test_boundaries_known_answer():
    # lower quartiles of 1..100 are 25, 50, 75; bounds are exclusive, so 25 rows per bucket
    assert bucket_boundaries(np.arange(1, 101), 4) == [26, 51, 76]


def test_boundaries_merge_duplicates_and_handle_edge_cases():
    assert bucket_boundaries([400] * 90 + [10] * 10, 10) == [11]  # 400 is the max: no empty top bucket
    assert bucket_boundaries([5, 6, 7], 1) == []
    assert bucket_boundaries([], 4) == []


def _encoded(seqs):
    return Dataset.from_dict({"input_ids": seqs, "label": [i % 2 for i in range(len(seqs))]})


def test_batches_are_right_padded_truncated_and_never_empty():
    rng = np.random.default_rng(0)
    seqs = [list(rng.integers(2, 50, size=n)) for n in rng.integers(0, 60, size=200)]
    n_nonempty = sum(len(s) > 0 for s in seqs)
    data = make_dataset(_encoded(seqs), batch_size=16, max_length=40, boundaries=[10, 20, 30], shuffle=True)
    rows = 0
    for ids, labels in data:
        ids = ids.numpy()
        assert ids.shape[1] <= 40
        real = ids != 0
        assert real[:, 0].all(), "every row has a real first token: no all-padding row"
        # right padding: once padding starts, it continues to the end of the row
        assert (np.diff(real.astype(int), axis=1) <= 0).all()
        assert labels.shape[0] == ids.shape[0]
        rows += ids.shape[0]
    assert rows == n_nonempty


def test_bucketing_groups_similar_lengths():
    seqs = [[7] * n for n in range(1, 101)] * 4
    data = make_dataset(_encoded(seqs), batch_size=20, max_length=100,
                        boundaries=bucket_boundaries([len(s) for s in seqs], 5), shuffle=True)
    real = total = 0
    for ids, _ in data:
        real += int((ids.numpy() != 0).sum())
        total += int(np.prod(ids.shape))
    # Whatever the shuffle order, a batch is padded at most to its bucket's top length: five
    # buckets of 80 reviews topping at 20, 40, ... 100 tokens bound the share from below.
    # Padding everything to the longest review would give 20200 / 40000 = 0.505.
    assert real == 4 * sum(range(1, 101)) == 20200
    assert real / total >= 20200 / (80 * (20 + 40 + 60 + 80 + 100))


def test_ordered_batches_restore_the_input_order():
    seqs = [[5] * n for n in (3, 1, 7, 2, 5)]
    seen = {}
    for positions, padded in ordered_batches(seqs, batch_size=2):
        for row, pos in enumerate(positions):
            seen[int(pos)] = int((padded[row] != 0).sum())
    assert seen == {0: 3, 1: 1, 2: 7, 3: 2, 4: 5}
    with pytest.raises(ValueError, match="empty"):
        ordered_batches([[1], []], batch_size=4)


def test_streaming_from_arrow_gives_the_same_rows_as_in_memory(monkeypatch):
    rng = np.random.default_rng(1)
    seqs = [list(rng.integers(2, 50, size=n)) for n in rng.integers(0, 40, size=300)]
    ds = _encoded(seqs)

    def rows(data):
        out = []
        for ids, labels in data:
            for row, label in zip(ids.numpy(), labels.numpy()):
                out.append((tuple(int(t) for t in row if t != 0), float(label)))
        return sorted(out)

    kwargs = dict(batch_size=16, max_length=30, boundaries=[10, 20], shuffle=True, seed=3)
    monkeypatch.setattr("hfsent.batching.STREAM_CHUNK_ROWS", 64)  # several chunks, even here
    streamed = rows(make_dataset(ds, in_memory=False, shuffle_buffer=50, **kwargs))
    assert streamed == rows(make_dataset(ds, in_memory=True, **kwargs))
    assert len(streamed) == sum(len(s) > 0 for s in seqs)
