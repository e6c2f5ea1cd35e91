"""Corpus → snapshot, embedding only the passages the index has not seen."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout

from index import store
from index.chunk import chunk_article, is_question_header, sentence_spans, split_sentences
from index.dedupe import SAME, near_duplicates, same_text
from index.embed import PASSAGE_BATCH, Embedder
from index.loader import Skipped, load_corpus
from index.models import Article, Passage

log = logging.getLogger(__name__)


@dataclass
class BuildReport:
    """What a build did, in the words `kabar index` and `/refresh` print."""

    articles: int = 0
    passages: int = 0
    embedded: int = 0
    reused: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (kept, dropped)
    near_duplicates: list[tuple[str, str, float]] = field(default_factory=list)  # both kept
    skipped: list[Skipped] = field(default_factory=list)
    version: str = ""

    def summary(self) -> str:
        return (
            f"{self.articles} articles, {self.passages} passages, {self.embedded} embedded, "
            f"{self.reused} reused, {len(self.skipped)} skipped"
        )


class IndexBusy(RuntimeError):
    """Another process is refreshing the same index."""


def _previous(index_dir: Path, model: str, rebuild: bool, loaded: store.Snapshot | None) -> store.Snapshot | None:
    """The current snapshot: the one a serving engine already holds when it is still current (no second
    copy in memory), else read from disk."""
    if rebuild or not store.exists(index_dir):
        return None
    if loaded is not None and loaded.path.name == store.current_version(index_dir):
        return loaded if loaded.model == model else None
    try:
        snap = store.read_snapshot(index_dir)
    except store.IndexUnavailable as exc:
        log.warning("ignoring the old index: %s", exc)
        return None
    return snap if snap.model == model else None


def _dedupe(
    articles: list[Article], indexed: frozenset[str] = frozenset()
) -> tuple[list[Article], list[tuple[str, str]], list[tuple[str, str, float]]]:
    """The same story is indexed once; similar stories (two outlets' takes on one wire) are kept and reported.

    Same story: identical cleaned text, or near-identical (different leftover boilerplate).
    Of two copies, one already in the index wins: re-adding a story never displaces the original.
    """
    seen: dict[str, str] = {}
    kept, dropped = [], []
    for article in sorted(articles, key=lambda a: a.id not in indexed):  # stable: corpus order otherwise
        key = same_text(article.text)
        if key in seen:
            dropped.append((seen[key], article.id))
            continue
        seen[key] = article.id
        kept.append(article)
    near = []
    same: set[str] = set()
    for first, second, similarity in near_duplicates(kept):
        if similarity >= SAME and first not in same:
            same.add(second)
            dropped.append((first, second))
        else:
            near.append((first, second, similarity))
    keep = {a.id for a in kept} - same
    return [a for a in articles if a.id in keep], dropped, near


def embed_passages(
    embedder: Embedder, passages: list[Passage], batch_size: int = PASSAGE_BATCH, progress: bool = False
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Passage vectors, and sentence vectors pooled from the same forward pass (index/embed.py).

    Question headers are the exception: they are embedded on their own, because what the answer
    picker needs from them is how closely they restate the reader's question, not their context.
    """
    matrix, sentences = embedder.passages_and_sentences(
        [p.embed_text for p in passages], [sentence_spans(p) for p in passages], batch_size, progress
    )
    headers = [
        (i, j, sentence)
        for i, p in enumerate(passages)
        for j, sentence in enumerate(split_sentences(p.text))
        if is_question_header(sentence)
    ]
    if headers:
        for (i, j, _), vector in zip(headers, embedder.passages([h for _, _, h in headers]), strict=True):
            sentences[i][j] = vector
    return matrix, sentences


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    rebuild: bool = False,
    progress: bool = False,
    lock_timeout: float = 600,
    on_stage: Callable[[str], None] | None = None,
    loaded: store.Snapshot | None = None,
) -> BuildReport:
    """Scan the corpus and write a new snapshot; holds a lock so refreshes never interleave."""
    index_dir.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(index_dir / "build.lock", timeout=lock_timeout):
            return _build(corpus_dir, index_dir, embedder, rebuild, progress, on_stage, loaded)
    except Timeout as exc:
        raise IndexBusy(f"Another `kabar index` is running on {index_dir}; try again when it ends.") from exc


def _build(corpus_dir, index_dir, embedder, rebuild, progress, on_stage, loaded) -> BuildReport:
    say = on_stage or (lambda _: None)
    say("reading corpus")
    articles, skipped = load_corpus(corpus_dir)
    previous = _previous(index_dir, embedder.identity, rebuild, loaded)
    articles, duplicates, near = _dedupe(articles, frozenset(previous.articles) if previous else frozenset())
    known = previous.vector_by_passage() if previous else {}
    known_sentences = previous.sentences_by_passage() if previous else {}
    known = {pid: v for pid, v in known.items() if pid in known_sentences}  # a format-1 index is re-embedded
    old_articles = previous.articles if previous else {}

    passages: list[Passage] = []
    for article in articles:
        passages.extend(chunk_article(article, embedder.identity))
    todo = [p for p in passages if p.id not in known]
    unique_todo = list({p.id: p for p in todo}.values())
    say(f"embedding {len(unique_todo)} passages")
    fresh, fresh_sentences = embed_passages(embedder, unique_todo, progress=progress)
    vec, sent = dict(known), dict(known_sentences)
    vec.update({p.id: v for p, v in zip(unique_todo, fresh, strict=True)})
    sent.update({p.id: v for p, v in zip(unique_todo, fresh_sentences, strict=True)})
    matrix = np.stack([vec[p.id] for p in passages]) if passages else np.zeros((0, embedder.dim), np.float32)
    sentences = [sent[p.id] for p in passages]
    current = {a.id: a for a in articles}
    unchanged = previous is not None and not todo and [p.id for p in previous.passages] == [p.id for p in passages]
    if unchanged and {a: old_articles[a].hash for a in old_articles} == {a: current[a].hash for a in current}:
        version = previous.version  # nothing to write: running readers keep their snapshot
    else:
        say("writing index")
        version = store.write_snapshot(
            index_dir, embedder.identity, articles, passages, matrix, sentences, on_stage=say
        )

    report = BuildReport(
        articles=len(articles),
        passages=len(passages),
        embedded=len(unique_todo),
        reused=len(passages) - len(todo),
        added=sum(1 for a in current if a not in old_articles),
        updated=sum(1 for a in current if a in old_articles and old_articles[a].hash != current[a].hash),
        removed=sum(1 for a in old_articles if a not in current),
        duplicates=duplicates,
        near_duplicates=near,
        skipped=skipped,
        version=version,
    )
    report.unchanged = report.articles - report.added - report.updated
    return report
