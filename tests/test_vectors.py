"""index/vectors.py: the index chosen per size, its neighbours vs brute force, reconstruct, save/load.

Small random data and a tiny EXACT_LIMIT keep these fast; speed lives in bench/vector_scale.py.
"""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from index import vectors

DIM = 48


def unit(n: int, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture
def small_limit(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(vectors, "EXACT_LIMIT", 100)
    return 100


def brute_force(data: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-(queries @ data.T), axis=1, kind="stable")[:, :k]


def test_kind_by_size(small_limit: int) -> None:
    assert vectors.kind_for(0) == "exact"
    assert vectors.kind_for(small_limit) == "exact"
    assert vectors.kind_for(small_limit + 1) == "hnsw"


def test_default_limit_is_the_measured_one() -> None:
    assert vectors.EXACT_LIMIT == 50_000
    assert vectors.kind_for(50_000) == "exact" and vectors.kind_for(50_001) == "hnsw"


def test_exact_up_to_the_limit(small_limit: int) -> None:
    index = vectors.build(unit(small_limit))
    assert type(index) is faiss.IndexFlatIP
    assert index.metric_type == faiss.METRIC_INNER_PRODUCT and index.ntotal == small_limit


def test_hnsw_fp16_past_the_limit(small_limit: int) -> None:
    index = vectors.build(unit(small_limit + 1))
    assert type(index) is faiss.IndexHNSWSQ
    assert index.metric_type == faiss.METRIC_INNER_PRODUCT
    assert index.hnsw.efSearch == vectors.HNSW_EF_SEARCH
    assert faiss.downcast_index(index.storage).sq.qtype == faiss.ScalarQuantizer.QT_fp16
    assert index.ntotal == small_limit + 1


def test_empty_index_searches_and_reconstructs() -> None:
    index = vectors.build(np.zeros((0, DIM), dtype=np.float32))
    scores, rows = vectors.search(index, unit(1), 5)
    assert rows.shape == (1, 1) and rows[0, 0] == -1
    assert vectors.all_vectors(index).shape == (0, DIM)


@pytest.mark.parametrize("n", [80, 600])  # exact, then HNSW (limit 100)
def test_neighbours_match_brute_force(small_limit: int, n: int) -> None:
    data, queries = unit(n, seed=1), unit(20, seed=2)
    index = vectors.build(data)
    scores, rows = vectors.search(index, queries, 10)
    truth = brute_force(data, queries, 10)
    if n <= small_limit:
        np.testing.assert_array_equal(rows, truth)
    else:
        recall = np.mean([len(set(r) & set(t)) / 10 for r, t in zip(rows, truth, strict=True)])
        assert recall >= 0.95
    # Scores are the cosines of the rows returned (float16 storage: to ~1e-3).
    expected = np.take_along_axis(queries @ data.T, rows, axis=1)
    np.testing.assert_allclose(scores, expected, atol=2e-3)


def test_k_larger_than_the_index_is_cut() -> None:
    scores, rows = vectors.search(vectors.build(unit(3)), unit(1, seed=5), 10)
    assert rows.shape == (1, 3) and sorted(rows[0]) == [0, 1, 2]


@pytest.mark.parametrize("n", [80, 600])
def test_reconstruct_each_kind(small_limit: int, n: int) -> None:
    data = unit(n, seed=3)
    index = vectors.build(data)
    back = vectors.all_vectors(index)
    assert back.shape == data.shape and back.dtype == np.float32
    np.testing.assert_allclose(back, data, atol=0 if n <= small_limit else 1e-3)
    np.testing.assert_allclose(index.reconstruct(7), back[7])  # index/search.py scores keyword-only hits so
    # A refresh rebuilds from reconstructed vectors: doing it again must not drift.
    np.testing.assert_array_equal(vectors.all_vectors(vectors.build(back)), back)


@pytest.mark.parametrize("n", [80, 600])
def test_save_and_load_keep_kind_and_parameters(small_limit: int, n: int, tmp_path, monkeypatch) -> None:
    data = unit(n, seed=4)
    path = tmp_path / "vectors.faiss"
    vectors.save(vectors.build(data), path)
    monkeypatch.setattr(vectors, "HNSW_EF_SEARCH", 200)  # a new setting applies to an old index on load
    loaded = vectors.load(path)
    assert loaded.ntotal == n
    if n > small_limit:
        assert type(loaded) is faiss.IndexHNSWSQ and loaded.hnsw.efSearch == 200
    else:
        assert type(loaded) is faiss.IndexFlatIP
    np.testing.assert_allclose(vectors.all_vectors(loaded), data, atol=1e-3)


def test_one_query_searches_on_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(vectors, "_threads", calls.append)
    index = vectors.build(unit(50))
    vectors.search(index, unit(1), 5)
    vectors.search(index, unit(8), 5)
    assert calls == [vectors.CORES, 1, 1, vectors.CORES]
