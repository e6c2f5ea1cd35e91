"""Benchmark passages and questions from ../shared/benchmarks, at any size, for speed tests.

The real passages (facqa + tydiqa_id, about 6k) come first; past them, a variant of
passage i is the first sentence of another passage + passage i + the first sentence
of a third, so every text is distinct (and under the near-duplicate threshold of
index/dedupe.py, mostly) and still reads like news. Nothing is
copied into the repository: corpora are written to temporary directories.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import tempfile
import time
from functools import lru_cache
from pathlib import Path

import numpy as np

from bench.common import BENCHMARKS

SETS = ("facqa", "tydiqa_id")
CACHE = Path(tempfile.gettempdir()) / "kabar-bench"  # embeddings reused between runs, outside the repo
_FIRST_SENTENCE = re.compile(r"^.+?[.!?](?=\s|$)")


def _jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@lru_cache(maxsize=1)
def real_passages() -> tuple[str, ...]:
    return tuple(row["text"] for name in SETS for row in _jsonl(BENCHMARKS / name / "corpus.jsonl"))


def passages(n: int) -> list[str]:
    """n distinct passage texts: the real ones, then light variations of them."""
    real = real_passages()
    out = list(real[:n])
    rng = random.Random(0)
    while len(out) < n:
        for text in real[: n - len(out)]:
            before, after = (_first_sentence(real[rng.randrange(len(real))]) for _ in range(2))
            out.append(f"{before} {text} {after}")
    return out


def _first_sentence(text: str) -> str:
    match = _FIRST_SENTENCE.match(text)
    return match.group(0) if match else " ".join(text.split()[:25])


def questions(n: int | None = None, seed: int = 0) -> list[str]:
    """Real answerable benchmark questions, shuffled reproducibly."""
    rows = [row["question"] for name in SETS for row in _jsonl(BENCHMARKS / name / "queries.jsonl")]
    random.Random(seed).shuffle(rows)
    return rows[:n] if n else rows


def title_of(text: str, words: int = 8) -> str:
    return " ".join(text.split()[:words]).rstrip(".,;:")


def write_corpus(directory: Path, n: int) -> Path:
    """A corpus folder of n articles (title line + one benchmark passage each), as `kabar index` reads it."""
    directory.mkdir(parents=True, exist_ok=True)
    for i, text in enumerate(passages(n)):
        (directory / f"bench-{i:06d}.txt").write_text(f"{title_of(text)}\n\n{text}\n", encoding="utf-8")
    return directory


def bundled_embedder():
    """The model `kabar` uses by default, from the project's model cache (converted there if missing)."""
    from index.embed import load_embedder
    from index.settings import BUNDLED, get_settings

    return load_embedder(BUNDLED, get_settings().model_cache_dir)


def cached_vectors(texts: list[str], kind: str, embedder=None) -> np.ndarray:
    """Embeddings of `texts` ("passage" or "query") by the bundled model (or `embedder`),
    computed once and kept in CACHE as .npy."""
    from index.convert import BUNDLED_MODEL_ID

    identity = embedder.identity if embedder else BUNDLED_MODEL_ID
    digest = hashlib.sha256("\x00".join([identity, kind, *texts]).encode()).hexdigest()[:16]
    path = CACHE / f"{kind}-{len(texts)}-{digest}.npy"
    if path.exists():
        return np.load(path)
    embedder = embedder or bundled_embedder()
    started = time.perf_counter()
    encode = embedder.passages if kind == "passage" else embedder.queries
    vectors = encode(texts)
    print(f"embedded {len(texts)} {kind} texts in {time.perf_counter() - started:.0f}s (cached in {path})", flush=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path.with_suffix(".tmp.npy"), vectors)
    path.with_suffix(".tmp.npy").replace(path)
    return vectors


def benchmark_vectors(n_questions: int, n_variants: int = 500, embedder=None):
    """(real passage vectors, the first n real question vectors, (alpha, target cosine) for `perturbed`)."""
    base = cached_vectors(list(real_passages()), "passage", embedder)
    queries = cached_vectors(questions(), "query", embedder)[:n_questions]
    texts, rows = variants(n_variants)
    return base, queries, calibrate_alpha(base, cached_vectors(texts, "passage", embedder), rows)


def variants(n: int) -> tuple[list[str], np.ndarray]:
    """The first n varied texts past the real passages, and the index of the real passage each varies."""
    real = len(real_passages())
    return passages(real + n)[real:], np.arange(n) % real


def perturbed(base: np.ndarray, n: int, alpha: float, seed: int = 0) -> np.ndarray:
    """n unit vectors: the real `base` ones first, then copies normalize(base[i] + alpha·(base[j] − base[k])).

    The noise is a difference of two real embeddings, so it lies in the directions real
    passages differ in (e5 vectors share a large common component; isotropic noise would not).
    """
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    m = min(n, len(base))
    out[:m] = base[:m]
    rng = np.random.default_rng(seed)
    for start in range(m, n, 1 << 16):
        stop = min(n, start + (1 << 16))
        rows = np.arange(start, stop) % len(base)
        j, k = rng.integers(len(base), size=(2, stop - start))
        v = base[rows] + alpha * (base[j] - base[k])
        out[start:stop] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out


def calibrate_alpha(base: np.ndarray, variant_vectors: np.ndarray, variant_rows: np.ndarray) -> tuple[float, float]:
    """The alpha whose perturbed copies are as close to their originals as real text variants are:
    (alpha, median cosine of real variant vs original)."""
    target = float(np.median(np.sum(variant_vectors * base[variant_rows], axis=1)))
    sample = base[variant_rows]
    lo, hi = 0.0, 4.0
    for _ in range(30):
        alpha = (lo + hi) / 2
        copies = perturbed(sample, 2 * len(sample), alpha)[len(sample) :]
        cos = float(np.median(np.sum(copies * sample, axis=1)))
        lo, hi = (alpha, hi) if cos > target else (lo, alpha)
    return (lo + hi) / 2, target
