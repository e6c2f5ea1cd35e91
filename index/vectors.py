"""The FAISS side: which index to use for how many vectors, in one place.

Measured on real e5 embeddings, on 2 cores (bench/vector_scale.py, bench/results/vector_scale.md):

- up to EXACT_LIMIT vectors, exact search (IndexFlatIP): perfect, and a few ms at 50k;
- past it, an inverted file (4·√n lists, 1/8 of them probed) over 4-bit fast-scan PQ codes,
  whose candidates are re-ranked with a float16 copy of every vector (IndexRefine). At 1M
  vectors: recall@10 0.97 against exact at ~2.6 ms p50, 851 bytes/vector (Flat: 1536).
  HNSW (M=32) reached only 0.6–0.7 there at any efSearch within 5 ms, and took 4× longer to build.

Every kind keeps its vectors (float16 past EXACT_LIMIT: rounding them again changes
nothing, so refreshes that reuse them do not drift), so `all_vectors` and
`index.reconstruct(row)` work for each.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import faiss
import numpy as np

EXACT_LIMIT = 50_000
IVF_PROBE_SHARE = 8  # probe 1/8 of the lists
IVF_MIN_PROBES = 16
IVF_TRAIN_PER_LIST = 64  # k-means sample: 64 vectors per list
REFINE_FACTOR = 16  # re-rank 16·k PQ candidates with the float16 vectors
MIN_K = 50  # approximate searches fetch at least this many (index/search.py's depth), then cut
CORES = max(1, os.cpu_count() or 1)


def kind_for(n: int) -> str:
    """The one decision by size: "exact" (Flat) or "ivfpq" (IVF + fast-scan PQ, float16 re-ranking)."""
    return "exact" if n <= EXACT_LIMIT else "ivfpq"


def _threads(n: int) -> None:
    """FAISS's OpenMP thread count, which is per calling thread (the bot searches from a pool).

    One question searches on one thread: a 2-thread Flat search of one query took 24 ms
    instead of 0.4 ms at 10k vectors on 2 busy cores (bench/results/vector_scale.md).
    Training, adding and searching many queries at once use every core.
    """
    faiss.omp_set_num_threads(n)


def _nlist(n: int) -> int:
    """4·√n lists as a power of two, with at least 39 training vectors per list."""
    wanted = 2 ** round(math.log2(4 * math.sqrt(max(n, 1))))
    return max(1, min(wanted, 2 ** int(math.log2(max(1, n // 39)))))


def _pq_m(dim: int) -> int:
    """Sub-quantizers: one per 3 dimensions (128 for 384), a divisor of dim."""
    return next(m for m in range(max(1, dim // 3), 0, -1) if dim % m == 0)


def build(vectors: np.ndarray) -> faiss.Index:
    """Inner-product index over unit vectors (inner product = cosine)."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    if kind_for(n) == "exact":
        index = faiss.IndexFlatIP(dim)
        if n:
            index.add(vectors)
        return index
    nlist = _nlist(n)
    index = faiss.index_factory(dim, f"IVF{nlist},PQ{_pq_m(dim)}x4fs,Refine(SQfp16)", faiss.METRIC_INNER_PRODUCT)
    sample = vectors[np.random.default_rng(0).permutation(n)[: IVF_TRAIN_PER_LIST * nlist]]
    _threads(CORES)
    try:
        index.train(sample)
        index.add(vectors)
    finally:
        _threads(1)
    _tune(index)
    return index


def _tune(index: faiss.Index) -> None:
    """Search-time parameters: applied on build and on load, so changing them needs no rebuild."""
    if isinstance(index, faiss.IndexRefine):
        index.k_factor = REFINE_FACTOR
        ivf = faiss.extract_index_ivf(index)
        ivf.nprobe = min(ivf.nlist, max(IVF_MIN_PROBES, ivf.nlist // IVF_PROBE_SHARE))


def search(index: faiss.Index, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(scores, rows) of the k nearest vectors; rows are -1 past the end."""
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    k = max(1, min(k, index.ntotal))
    fetch = k if isinstance(index, faiss.IndexFlat) else max(k, min(MIN_K, index.ntotal))
    _threads(1 if len(queries) == 1 else CORES)
    scores, rows = index.search(queries, fetch)
    return scores[:, :k], rows[:, :k]


def all_vectors(index: faiss.Index) -> np.ndarray:
    """The stored vectors, so unchanged passages are reused instead of re-embedded."""
    if index.ntotal == 0:
        return np.zeros((0, index.d), dtype=np.float32)
    return index.reconstruct_n(0, index.ntotal)


def save(index: faiss.Index, path: Path) -> None:
    faiss.write_index(index, str(path))


def load(path: Path) -> faiss.Index:
    index = faiss.read_index(str(path))
    _tune(index)
    return index
