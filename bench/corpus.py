"""Benchmark passages and questions from ../shared/benchmarks, at any size, for speed tests.

The real passages (facqa + tydiqa_id, about 6k) come first; past them, copy r of
passage i is passage i plus the first sentence of another passage, so every text
is distinct (no dedupe, a new embedding) and still reads like news. Nothing is
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
    copy = 0
    while len(out) < n:
        copy += 1
        for text in real:
            if len(out) >= n:
                break
            other = real[rng.randrange(len(real))]
            match = _FIRST_SENTENCE.match(other)
            out.append(f"{text} {match.group(0) if match else other[:200]} ({copy})")
    return out


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


def cached_vectors(embedder, texts: list[str], kind: str) -> np.ndarray:
    """Embeddings of `texts` ("passage" or "query"), computed once and kept in CACHE as .npy."""
    digest = hashlib.sha256("\x00".join([embedder.identity, kind, *texts]).encode()).hexdigest()[:16]
    path = CACHE / f"{kind}-{len(texts)}-{digest}.npy"
    if path.exists():
        return np.load(path)
    started = time.perf_counter()
    encode = embedder.passages if kind == "passage" else embedder.queries
    vectors = encode(texts)
    print(f"embedded {len(texts)} {kind} texts in {time.perf_counter() - started:.0f}s (cached in {path})", flush=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path.with_suffix(".tmp.npy"), vectors)
    path.with_suffix(".tmp.npy").replace(path)
    return vectors
