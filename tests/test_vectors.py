"""index/vectors.py: the index chosen per size, its neighbours vs brute force, reconstruct, save/load.

Small random data and a tiny EXACT_LIMIT keep these fast; speed lives in bench/vector_scale.py.
"""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from index import vectors

DIM = 48
ANN_N = 2_000  # past the test limit of 100: enough to train 4-bit PQ (16 centroids) quietly


def unit(n: int, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture
def small_limit(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(vectors, "EXACT_LIMIT", 100)
    return 100


def recall(rows: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(r) & set(t)) / truth.shape[1] for r, t in zip(rows, truth, strict=True)]))


def brute_force(data: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-(queries @ data.T), axis=1, kind="stable")[:, :k]


def test_kind_by_size(small_limit: int) -> None:
    assert vectors.kind_for(0) == "exact"
    assert vectors.kind_for(small_limit) == "exact"
    assert vectors.kind_for(small_limit + 1) == "ivfpq"


def test_default_limit_is_the_measured_one() -> None:
    assert vectors.EXACT_LIMIT == 50_000
    assert vectors.kind_for(50_000) == "exact" and vectors.kind_for(50_001) == "ivfpq"


def test_ivf_parameters_follow_size() -> None:
    assert vectors._nlist(1_000_000) == 4096  # the size measured in bench/vector_scale.py
    assert vectors._nlist(50_001) == 1024
    assert vectors._nlist(1_000) == 16  # small corpora: at least 39 training vectors per list
    assert vectors._pq_m(384) == 128 and vectors._pq_m(768) == 256 and vectors._pq_m(1024) == 256


def test_exact_up_to_the_limit(small_limit: int) -> None:
    index = vectors.build(unit(small_limit))
    assert type(index) is faiss.IndexFlatIP
    assert index.metric_type == faiss.METRIC_INNER_PRODUCT and index.ntotal == small_limit


def assert_ivfpq(index: faiss.Index, n: int) -> None:
    assert type(index) is faiss.IndexRefine and index.ntotal == n
    assert index.metric_type == faiss.METRIC_INNER_PRODUCT and index.k_factor == vectors.REFINE_FACTOR
    base = faiss.downcast_index(index.base_index)
    assert type(base) is faiss.IndexIVFPQFastScan and vectors._pq_m(DIM) == base.pq.M and base.pq.nbits == 4
    assert base.nlist == vectors._nlist(n)
    assert base.nprobe == min(base.nlist, max(vectors.IVF_MIN_PROBES, base.nlist // vectors.IVF_PROBE_SHARE))
    refine = faiss.downcast_index(index.refine_index)
    assert type(refine) is faiss.IndexScalarQuantizer and refine.sq.qtype == faiss.ScalarQuantizer.QT_fp16


def test_ivfpq_past_the_limit(small_limit: int) -> None:
    assert_ivfpq(vectors.build(unit(ANN_N)), ANN_N)


def test_empty_index_searches_and_reconstructs() -> None:
    index = vectors.build(np.zeros((0, DIM), dtype=np.float32))
    scores, rows = vectors.search(index, unit(1), 5)
    assert rows.shape == (1, 1) and rows[0, 0] == -1
    assert vectors.all_vectors(index).shape == (0, DIM)


@pytest.mark.parametrize("n", [80, ANN_N])  # exact, then IVF-PQ (limit 100)
def test_neighbours_match_brute_force(small_limit: int, n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vectors, "IVF_PROBE_SHARE", 1)  # every list: only PQ + re-ranking approximate
    data, queries = unit(n, seed=1), unit(20, seed=2)
    index = vectors.build(data)
    scores, rows = vectors.search(index, queries, 10)
    truth = brute_force(data, queries, 10)
    if n <= small_limit:
        np.testing.assert_array_equal(rows, truth)
    else:
        assert recall(rows, truth) >= 0.98
    # Scores are the cosines of the rows returned (float16 storage: to ~1e-3).
    expected = np.take_along_axis(queries @ data.T, rows, axis=1)
    np.testing.assert_allclose(scores, expected, atol=2e-3)


def test_default_probes_find_neighbours_in_clustered_data(small_limit: int) -> None:
    """Embeddings cluster by topic; uniform random vectors (no neighbours to speak of) are IVF's worst case."""
    rng = np.random.default_rng(6)
    centres = unit(40, seed=7)
    data = centres[rng.integers(40, size=ANN_N)] + 0.05 * rng.standard_normal((ANN_N, DIM)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    queries = data[:50] + 0.02 * rng.standard_normal((50, DIM)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    _, rows = vectors.search(vectors.build(data), queries, 10)
    assert recall(rows, brute_force(data, queries, 10)) >= 0.95


def test_k_larger_than_the_index_is_cut() -> None:
    scores, rows = vectors.search(vectors.build(unit(3)), unit(1, seed=5), 10)
    assert rows.shape == (1, 3) and sorted(rows[0]) == [0, 1, 2]


@pytest.mark.parametrize("n", [80, ANN_N])
def test_reconstruct_each_kind(small_limit: int, n: int) -> None:
    data = unit(n, seed=3)
    index = vectors.build(data)
    back = vectors.all_vectors(index)
    assert back.shape == data.shape and back.dtype == np.float32
    np.testing.assert_allclose(back, data, atol=0 if n <= small_limit else 1e-3)
    np.testing.assert_allclose(index.reconstruct(7), back[7])  # index/search.py scores keyword-only hits so
    # A refresh rebuilds from reconstructed vectors: doing it again must not drift.
    np.testing.assert_array_equal(vectors.all_vectors(vectors.build(back)), back)


@pytest.mark.parametrize("n", [80, ANN_N])
def test_save_and_load_keep_kind_and_parameters(small_limit: int, n: int, tmp_path, monkeypatch) -> None:
    data = unit(n, seed=4)
    path = tmp_path / "vectors.faiss"
    vectors.save(vectors.build(data), path)
    monkeypatch.setattr(vectors, "REFINE_FACTOR", 4)  # a new setting applies to an old index on load
    loaded = vectors.load(path)
    assert loaded.ntotal == n
    if n > small_limit:
        assert_ivfpq(loaded, n)
    else:
        assert type(loaded) is faiss.IndexFlatIP
    np.testing.assert_allclose(vectors.all_vectors(loaded), data, atol=1e-3)


def test_threads_one_per_question_all_to_build(small_limit: int, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(vectors, "_threads", calls.append)
    index = vectors.build(unit(ANN_N))
    assert calls == [vectors.CORES, 1]  # training and adding use every core
    vectors.search(index, unit(1), 5)
    vectors.search(index, unit(8), 5)
    assert calls[2:] == [1, vectors.CORES]
