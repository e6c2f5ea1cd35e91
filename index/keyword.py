"""Keyword search with bm25s, tokenised the plain way that works for Indonesian.

Lower-cased `\\w+` tokens, no stemming, no stop words: the Snowball Indonesian
stemmer over-stems and English stop-word lists hurt (measured in issue 5).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np

TOKEN = re.compile(r"\w+", re.UNICODE)
K1, B = 0.9, 0.4


def tokenize(text: str) -> list[str]:
    return TOKEN.findall(text.lower())


def build(texts: Sequence[str]) -> bm25s.BM25:
    retriever = bm25s.BM25(k1=K1, b=B)
    retriever.index([tokenize(t) for t in texts], show_progress=False)
    return retriever


def scores(retriever: bm25s.BM25, question: str) -> np.ndarray:
    """BM25 score of every passage for the question (zeros when nothing matches)."""
    n = int(retriever.scores["num_docs"])
    ids = retriever.get_tokens_ids(tokenize(question))
    if not ids or n == 0:
        return np.zeros(n, dtype=np.float32)
    return np.asarray(retriever.get_scores(ids), dtype=np.float32)


def save(retriever: bm25s.BM25, path: Path) -> None:
    retriever.save(str(path))


def load(path: Path) -> bm25s.BM25:
    return bm25s.BM25.load(str(path))
