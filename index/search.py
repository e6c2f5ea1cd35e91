"""Question → ranked passages: dense and BM25 scores fused into one ranking."""

from __future__ import annotations

from dataclasses import dataclass, replace

import faiss
import numpy as np

from index import keyword, vectors
from index.embed import Embedder
from index.models import Hit
from index.store import Snapshot


@dataclass(frozen=True)
class SearchConfig:
    """Fusion knobs; the defaults are the measured best (see README, Quality)."""

    depth: int = 50  # candidates taken from each retriever
    keyword_weight: float = 0.15  # convex weight of z-normalised BM25 vs dense (swept 0–0.3, bench/tune.py)
    dedupe_jaccard: float = 0.8  # a hit this similar to a better one is dropped
    # A passage's best sentence beside its own vector: a fact in the middle of a long passage is
    # found although the passage as a whole leans elsewhere (bench/results/quality-tuning.md).
    sentence_weight: float = 0.0


def _z(x: np.ndarray) -> np.ndarray:
    std = float(x.std())
    return (x - float(x.mean())) / std if std > 1e-9 else np.zeros_like(x)


def _flat_matrix(index: faiss.Index) -> np.ndarray | None:
    """A zero-copy view of an exact index's vectors (None for approximate indexes)."""
    if not isinstance(index, faiss.IndexFlat) or index.ntotal == 0:
        return None
    return faiss.rev_swig_ptr(index.get_xb(), index.ntotal * index.d).reshape(index.ntotal, index.d)


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _best_sentence(snapshot: Snapshot, row: int, q: np.ndarray) -> float:
    start, end = int(snapshot.sentence_starts[row]), int(snapshot.sentence_starts[row + 1])
    if end <= start:
        return -1.0
    return float(np.max(np.asarray(snapshot.sentences[start:end], dtype=np.float32) @ q))


def search(
    snapshot: Snapshot,
    embedder: Embedder,
    question: str,
    k: int = 10,
    config: SearchConfig = SearchConfig(),
    query_vector: np.ndarray | None = None,
) -> list[Hit]:
    n = len(snapshot.passages)
    if n == 0 or not question.strip():
        return []
    q = embedder.queries([question])[0] if query_vector is None else query_vector
    kw_all = keyword.scores(snapshot.bm25, question)[:n]
    matrix = _flat_matrix(snapshot.vectors)
    if matrix is not None:
        # Exact index: score every passage, so both scores are normalised over the whole corpus
        # (measured better than over the candidates alone: FacQA R@5 0.930 vs 0.920).
        dense_all = matrix @ q
        d_mean, d_std = float(dense_all.mean()), float(dense_all.std()) or 1.0
        k_mean, k_std = float(kw_all.mean()), float(kw_all.std()) or 1.0
        fused_all = (1 - config.keyword_weight) * (dense_all - d_mean) / d_std
        fused_all += config.keyword_weight * (kw_all - k_mean) / k_std
        rows = [int(r) for r in np.argsort(-fused_all, kind="stable")[: max(config.depth, k * 3)]]
        d, kw, fused = dense_all[rows], kw_all[rows], fused_all[rows]
    else:
        # Approximate index: normalise over the union of both retrievers' candidates.
        dense_scores, dense_rows = vectors.search(snapshot.vectors, q[None, :], config.depth)
        dense = {int(r): float(s) for r, s in zip(dense_rows[0], dense_scores[0], strict=True) if r >= 0}
        rows = list(dense)
        for row in np.argsort(-kw_all)[: config.depth]:
            row = int(row)
            if kw_all[row] > 0 and row not in dense:
                dense[row] = float(snapshot.vectors.reconstruct(row) @ q)
                rows.append(row)
        d = np.array([dense[r] for r in rows], dtype=np.float32)
        kw = np.array([kw_all[r] for r in rows], dtype=np.float32)
        fused = (1 - config.keyword_weight) * _z(d) + config.keyword_weight * _z(kw)

    if config.sentence_weight and snapshot.sentences is not None and snapshot.sentence_starts is not None:
        best = np.array([_best_sentence(snapshot, r, q) for r in rows], dtype=np.float32)
        fused = (1 - config.sentence_weight) * _z(fused) + config.sentence_weight * _z(best)

    hits: list[Hit] = []
    kept_tokens: list[set[str]] = []
    for i in np.argsort(-fused, kind="stable"):
        passage = snapshot.passages[rows[i]]
        tokens = set(keyword.tokenize(passage.text))
        if any(_jaccard(tokens, t) >= config.dedupe_jaccard for t in kept_tokens):
            continue
        kept_tokens.append(tokens)
        hits.append(
            Hit(
                passage=passage,
                article=snapshot.articles[passage.article_id],
                score=float(fused[i]),
                dense=float(d[i]),
                keyword=float(kw[i]),
                rank=len(hits) + 1,
            )
        )
        if len(hits) >= k:
            break
    return hits


def merged(first: list[Hit], then: list[Hit]) -> list[Hit]:
    """Two rankings as one: `first`, then the passages of `then` it lacks, ranked on."""
    seen = {h.passage.id for h in first}
    hits = first + [h for h in then if h.passage.id not in seen]
    return [replace(h, rank=i + 1) for i, h in enumerate(hits)]
