"""Hits → answer: the sentences that best answer the question, or a plain "not found"."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index import keyword
from index.chunk import split_sentences
from index.embed import Embedder
from index.models import Answer, Hit

# Function words of questions (Indonesian and English): they say nothing about the topic.
STOP_WORDS = frozenset(
    """
    apa apakah yang siapa siapakah kapan kapankah di mana dimana manakah mengapa kenapa bagaimana
    berapa ke dari dan atau ini itu adalah ialah untuk dengan pada oleh dalam akan sebagai nya
    saja juga tidak bisa dapat ada para sang si telah sudah sedang masih lebih kah pun
    what who whom whose when where why which how does do did is are was were be been the a an of
    in on at to for and or with by from as about into than that this these those it its will would
    can could should has have had not any some there their they he she his her
    """.split()
)


@dataclass(frozen=True)
class AnswerConfig:
    """When to answer and how many sentences; calibrated on benchmarks (README, Quality)."""

    dense_min: float = 0.80  # below this cosine the top passage is unrelated
    dense_sure: float = 0.87  # above it, answer even without shared key terms
    coverage_min: float = 0.5  # share of the question's key terms found in the top passages
    sentences: int = 2
    candidates: int = 3  # passages whose sentences may form the answer
    second_sentence_gap: float = 0.03  # a second sentence must score this close to the best


NOT_FOUND = "Artikel yang ada tidak menjawab pertanyaan ini."


def key_terms(question: str) -> set[str]:
    return {t for t in keyword.tokenize(question) if t not in STOP_WORDS and len(t) > 1}


def coverage(question: str, hits: list[Hit]) -> float:
    """Share of the question's key terms that appear in the hits (1.0 when it has none)."""
    terms = key_terms(question)
    if not terms:
        return 1.0
    text = set()
    for hit in hits:
        text.update(keyword.tokenize(hit.passage.embed_text))
    return len(terms & text) / len(terms)


def is_answerable(question: str, hits: list[Hit], config: AnswerConfig) -> tuple[bool, float]:
    """A sane rule on dense similarity and shared key terms; returns (found, confidence)."""
    if not hits:
        return False, 0.0
    top = hits[0].dense
    cov = coverage(question, hits[: config.candidates])
    found = top >= config.dense_sure or (top >= config.dense_min and cov >= config.coverage_min)
    return found, float(top)


def best_sentences(
    question: str, hits: list[Hit], embedder: Embedder, config: AnswerConfig, query_vector: np.ndarray | None = None
) -> list[str]:
    """Score each sentence of the top passages against the question; keep the best one or two."""
    pool: list[tuple[int, int, str]] = []  # (hit index, sentence index, sentence)
    for h, hit in enumerate(hits[: config.candidates]):
        for s, sentence in enumerate(split_sentences(hit.passage.text)):
            if sentence.rstrip().endswith("?") and not sentence.rstrip().endswith('?"'):
                continue  # a section header restating the question is no answer
            pool.append((h, s, sentence))
    if not pool:
        return []
    q = embedder.queries([question])[0] if query_vector is None else query_vector
    sims = embedder.passages([s for _, _, s in pool]) @ q
    terms = key_terms(question)
    overlap = np.array(
        [len(terms & set(keyword.tokenize(s))) / max(1, len(terms)) for _, _, s in pool], dtype=np.float32
    )
    rank_prior = np.array([-0.01 * h for h, _, _ in pool], dtype=np.float32)
    score = sims + 0.05 * overlap + rank_prior
    order = np.argsort(-score, kind="stable")
    best = int(order[0])
    chosen = [best]
    for i in order[1 : config.sentences + 3]:
        i = int(i)
        same_passage = pool[i][0] == pool[best][0]
        if len(chosen) < config.sentences and same_passage and score[best] - score[i] <= config.second_sentence_gap:
            chosen.append(i)
    chosen.sort(key=lambda i: (pool[i][0], pool[i][1]))
    return [pool[i][2] for i in chosen]


def answer(
    question: str,
    hits: list[Hit],
    embedder: Embedder,
    config: AnswerConfig = AnswerConfig(),
    query_vector: np.ndarray | None = None,
) -> Answer:
    found, confidence = is_answerable(question, hits, config)
    if not found:
        return Answer(question=question, found=False, text=NOT_FOUND, hits=[], confidence=confidence)
    sentences = best_sentences(question, hits, embedder, config, query_vector)
    return Answer(
        question=question,
        found=True,
        text=" ".join(sentences) if sentences else hits[0].passage.text,
        hits=hits,
        confidence=confidence,
    )
