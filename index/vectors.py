"""The FAISS side: which index to use for how many vectors, in one place.

Up to EXACT_LIMIT vectors: exact inner-product search (IndexFlatIP). Past it: an HNSW
graph over float16-stored vectors (IndexHNSWSQ, QT_fp16). Measured on real e5 embeddings
(bench/vector_scale.py, bench/results/vector_scale.md).

Every kind keeps the vectors it stores, so `all_vectors` (which a refresh uses to reuse
embeddings instead of recomputing them) and `index.reconstruct(row)` work for each.
"""

from __future__ import annotations

import os
from pathlib import Path

import faiss
import numpy as np

EXACT_LIMIT = 50_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 40
HNSW_EF_SEARCH = 128

CORES = max(1, os.cpu_count() or 1)


def _threads(n: int) -> None:
    """FAISS's OpenMP thread count, which is per calling thread (the bot searches from a pool).

    One question searches on one thread: a 2-thread Flat search of one query took 24 ms
    instead of 0.4 ms at 10k vectors on 2 busy cores (bench/results/vector_scale.md).
    Building a graph and searching many queries at once use every core.
    """
    faiss.omp_set_num_threads(n)


def kind_for(n: int) -> str:
    """The one decision by size: "exact" (Flat) or "hnsw" (graph over float16 vectors)."""
    return "exact" if n <= EXACT_LIMIT else "hnsw"


def build(vectors: np.ndarray) -> faiss.Index:
    """Inner-product index over unit vectors (inner product = cosine)."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    if kind_for(n) == "exact":
        index = faiss.IndexFlatIP(dim)
    else:
        index = faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_fp16, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.train(vectors[:1])  # fp16 needs no statistics; train() only marks it ready
    _tune(index)
    if n:
        _threads(CORES)
        try:
            index.add(vectors)
        finally:
            _threads(1)
    return index


def _tune(index: faiss.Index) -> None:
    """Search-time parameters: applied on build and on load, so changing them needs no rebuild."""
    if isinstance(index, faiss.IndexHNSW):
        index.hnsw.efSearch = HNSW_EF_SEARCH


def search(index: faiss.Index, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(scores, rows) of the k nearest vectors; rows are -1 past the end."""
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    _threads(1 if len(queries) == 1 else CORES)
    return index.search(queries, max(1, min(k, index.ntotal)))


def all_vectors(index: faiss.Index) -> np.ndarray:
    """The stored vectors, so unchanged passages are reused instead of re-embedded.

    Exact for Flat; float16-rounded past EXACT_LIMIT (a relative error of ~1e-3, and
    rounding a float16 value again changes nothing, so refreshes do not drift).
    """
    if index.ntotal == 0:
        return np.zeros((0, index.d), dtype=np.float32)
    return index.reconstruct_n(0, index.ntotal)


def save(index: faiss.Index, path: Path) -> None:
    faiss.write_index(index, str(path))


def load(path: Path) -> faiss.Index:
    index = faiss.read_index(str(path))
    _tune(index)
    return index
