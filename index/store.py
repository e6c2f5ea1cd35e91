"""On-disk index snapshots: SQLite metadata + FAISS vectors + BM25, swapped atomically.

Each build writes a complete snapshot directory, fsyncs it, renames it into
`index/`, then flips the `CURRENT` pointer with one `os.replace`. A reader
(or a crashed writer) therefore only ever sees a whole snapshot.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import bm25s
import faiss
import numpy as np

from index import keyword, vectors
from index.models import Article, Passage

FORMAT = 2  # 2 adds sentence vectors; format 1 is still read (its answers embed sentences per question)
READABLE = (1, 2)
CURRENT = "CURRENT"
KEEP_SNAPSHOTS = 2
REBUILD_HINT = "run `kabar index --rebuild`"


class IndexUnavailable(RuntimeError):
    """The index is missing, unreadable or built for something else; the message names the fix."""


@dataclass
class Snapshot:
    """Everything a search needs, loaded in memory; row i of `passages` is vector i."""

    path: Path
    version: str
    model: str
    articles: dict[str, Article]
    passages: list[Passage]
    vectors: faiss.Index
    bm25: bm25s.BM25
    sentences: np.ndarray | None = None  # float16 sentence vectors, passage by passage, sentence by sentence
    sentence_starts: np.ndarray | None = None  # passage row i owns sentences[starts[i]:starts[i + 1]]
    _rows: dict[str, int] = field(init=False, repr=False)  # passage id → row, derived from `passages`

    def __post_init__(self) -> None:
        self._rows = {p.id: row for row, p in enumerate(self.passages)}

    @property
    def dim(self) -> int:
        return int(self.vectors.d)

    def vector_by_passage(self) -> dict[str, np.ndarray]:
        matrix = vectors.all_vectors(self.vectors)
        return {p.id: matrix[i] for i, p in enumerate(self.passages)}

    def sentences_of(self, passage: Passage) -> np.ndarray | None:
        """The passage's sentence vectors (one per `split_sentences(passage.text)`), if the index has them."""
        row = self._rows.get(passage.id)
        if row is None or self.sentences is None or self.sentence_starts is None:
            return None
        return self.sentences[self.sentence_starts[row] : self.sentence_starts[row + 1]]

    def sentences_by_passage(self) -> dict[str, np.ndarray]:
        if self.sentences is None:
            return {}
        return {p.id: self.sentences_of(p) for p in self.passages}


_ARTICLE_COLUMNS = [f.name for f in fields(Article)]
_PASSAGE_COLUMNS = [f.name for f in fields(Passage)]


def _fsync_tree(root: Path) -> None:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    fsync_dir(root)


def fsync_dir(path: Path) -> None:
    """A new or renamed file's name survives a crash only once its folder is synced."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_sqlite(path: Path, meta: dict, articles: list[Article], passages: list[Passage]) -> None:
    db = sqlite3.connect(path)
    try:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        db.execute(f"CREATE TABLE articles ({', '.join(_ARTICLE_COLUMNS)}, PRIMARY KEY (id))")
        db.execute(f"CREATE TABLE passages (row INTEGER PRIMARY KEY, {', '.join(_PASSAGE_COLUMNS)})")
        db.executemany("INSERT INTO meta VALUES (?, ?)", [(k, json.dumps(v)) for k, v in meta.items()])
        db.executemany(
            f"INSERT INTO articles VALUES ({', '.join('?' * len(_ARTICLE_COLUMNS))})",
            [tuple(asdict(a).values()) for a in articles],
        )
        db.executemany(
            f"INSERT INTO passages VALUES (?, {', '.join('?' * len(_PASSAGE_COLUMNS))})",
            [(row, *asdict(p).values()) for row, p in enumerate(passages)],
        )
        db.commit()
    finally:
        db.close()


def write_snapshot(
    index_dir: Path,
    model: str,
    articles: list[Article],
    passages: list[Passage],
    matrix: np.ndarray,
    sentences: list[np.ndarray] | None = None,
    extra: dict | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> str:
    """Write a complete snapshot and make it current; returns its version.

    `sentences[i]` holds passage i's sentence vectors; without them, answers embed sentences per question.
    """
    if len(passages) != len(matrix) or (sentences is not None and len(sentences) != len(passages)):
        raise ValueError("one vector (and one sentence matrix) per passage")
    say = on_stage or (lambda _: None)
    index_dir.mkdir(parents=True, exist_ok=True)
    version = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    tmp = index_dir / f".tmp-{version}"
    tmp.mkdir()
    final = index_dir / f"snap-{version}"
    pointer = index_dir / f".{CURRENT}.{version}"
    try:
        meta = {
            "format": FORMAT,
            "version": version,
            "model": model,
            "dim": int(matrix.shape[1]) if matrix.ndim == 2 else 0,
            "articles": len(articles),
            "passages": len(passages),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            **(extra or {}),
        }
        _write_sqlite(tmp / "store.sqlite", meta, articles, passages)
        say("metadata written")
        vectors.save(vectors.build(matrix), tmp / "vectors.faiss")
        if sentences is not None:
            dim = matrix.shape[1] if matrix.ndim == 2 else 0
            counts = np.array([0] + [len(s) for s in sentences], dtype=np.int64)
            np.save(tmp / "sentence_starts.npy", np.cumsum(counts))
            parts = [np.asarray(s, np.float16).reshape(-1, dim) for s in sentences]
            np.save(tmp / "sentences.npy", np.concatenate(parts or [np.zeros((0, dim))]).astype(np.float16))
        say("vectors written")
        keyword.save(keyword.build([p.embed_text for p in passages] or [""]), tmp / "bm25")
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2))
        _fsync_tree(tmp)
        say("snapshot written")
        os.rename(tmp, final)
        say("snapshot renamed")
        pointer.write_text(final.name)
        with open(pointer, "rb") as handle:
            os.fsync(handle.fileno())
        say("pointer written")
        os.replace(pointer, index_dir / CURRENT)
        fsync_dir(index_dir)
        say("pointer swapped")
    except BaseException:  # a full disk, an error, an interrupt: leave nothing half-written behind
        if (index_dir / CURRENT).exists() and current_version(index_dir) == final.name:
            raise  # the new snapshot is already current and complete; only the last steps failed
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(final, ignore_errors=True)
        pointer.unlink(missing_ok=True)
        raise
    _collect_garbage(index_dir, keep=final.name)
    return version


def _collect_garbage(index_dir: Path, keep: str) -> None:
    """Drop old snapshots (readers may still hold the previous one) and dead temp dirs."""
    snaps = sorted(p for p in index_dir.glob("snap-*") if p.is_dir())
    for old in [p for p in snaps if p.name != keep][: max(0, len(snaps) - KEEP_SNAPSHOTS)]:
        shutil.rmtree(old, ignore_errors=True)
    for leftover in index_dir.glob(".tmp-*"):
        if time.time() - leftover.stat().st_mtime > 3600:
            shutil.rmtree(leftover, ignore_errors=True)
    for stale in index_dir.glob(f".{CURRENT}.*"):
        stale.unlink(missing_ok=True)


def current_version(index_dir: Path) -> str | None:
    """Cheap to call often: the bot polls it to notice refreshes by other processes."""
    try:
        return (index_dir / CURRENT).read_text().strip() or None
    except OSError:
        return None


def exists(index_dir: Path) -> bool:
    return current_version(index_dir) is not None


def read_snapshot(index_dir: Path) -> Snapshot:
    name = current_version(index_dir)
    if name is None:
        raise IndexUnavailable(f"No index in {index_dir}: run `kabar index`.")
    path = index_dir / name
    try:
        meta = json.loads((path / "meta.json").read_text())
        if meta.get("format") not in READABLE:
            raise IndexUnavailable(
                f"The index in {path} has format {meta.get('format')!r}, this Kabar reads {FORMAT}: {REBUILD_HINT}."
            )
        db = sqlite3.connect(f"file:{path / 'store.sqlite'}?mode=ro", uri=True)
        try:
            articles = {
                row[0]: Article(*row) for row in db.execute(f"SELECT {', '.join(_ARTICLE_COLUMNS)} FROM articles")
            }
            passages = [
                Passage(*row) for row in db.execute(f"SELECT {', '.join(_PASSAGE_COLUMNS)} FROM passages ORDER BY row")
            ]
        finally:
            db.close()
        index = vectors.load(path / "vectors.faiss")
        bm25 = keyword.load(path / "bm25")
        sentences = starts = None
        if (path / "sentences.npy").exists():
            sentences = np.load(path / "sentences.npy", mmap_mode="r")
            starts = np.load(path / "sentence_starts.npy")
    except IndexUnavailable:
        raise
    except Exception as exc:  # sqlite, faiss, json, bm25s: all mean the same to the user
        raise IndexUnavailable(f"The index in {path} is unreadable ({type(exc).__name__}): {REBUILD_HINT}.") from exc
    inconsistent = index.ntotal != len(passages) or any(p.article_id not in articles for p in passages)
    if sentences is not None and starts is not None:
        inconsistent |= len(starts) != len(passages) + 1 or int(starts[-1]) != len(sentences)
        inconsistent |= sentences.ndim != 2 or (len(sentences) > 0 and sentences.shape[1] != index.d)
    if inconsistent:
        raise IndexUnavailable(f"The index in {path} is inconsistent: {REBUILD_HINT}.")
    return Snapshot(path, meta["version"], meta["model"], articles, passages, index, bm25, sentences, starts)
