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
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import bm25s
import faiss
import numpy as np

from index import keyword, vectors
from index.models import Article, Passage

FORMAT = 1
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

    @property
    def dim(self) -> int:
        return int(self.vectors.d)

    def vector_by_passage(self) -> dict[str, np.ndarray]:
        matrix = vectors.all_vectors(self.vectors)
        return {p.id: matrix[i] for i, p in enumerate(self.passages)}


_ARTICLE_COLUMNS = [f.name for f in fields(Article)]
_PASSAGE_COLUMNS = [f.name for f in fields(Passage)]


def _fsync_tree(root: Path) -> None:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(root)


def _fsync_dir(path: Path) -> None:
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
    extra: dict | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> str:
    """Write a complete snapshot and make it current; returns its version."""
    if len(passages) != len(matrix):
        raise ValueError("one vector per passage")
    say = on_stage or (lambda _: None)
    index_dir.mkdir(parents=True, exist_ok=True)
    version = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    tmp = index_dir / f".tmp-{version}"
    tmp.mkdir()
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
    say("vectors written")
    keyword.save(keyword.build([p.embed_text for p in passages] or [""]), tmp / "bm25")
    (tmp / "meta.json").write_text(json.dumps(meta, indent=2))
    _fsync_tree(tmp)
    say("snapshot written")
    final = index_dir / f"snap-{version}"
    os.rename(tmp, final)
    say("snapshot renamed")
    pointer = index_dir / f".{CURRENT}.{version}"
    pointer.write_text(final.name)
    with open(pointer, "rb") as handle:
        os.fsync(handle.fileno())
    say("pointer written")
    os.replace(pointer, index_dir / CURRENT)
    _fsync_dir(index_dir)
    say("pointer swapped")
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
        if meta.get("format") != FORMAT:
            raise IndexUnavailable(
                f"The index in {path} has format {meta.get('format')!r}, this Kabar reads {FORMAT}: {REBUILD_HINT}."
            )
        db = sqlite3.connect(f"file:{path / 'store.sqlite'}?mode=ro", uri=True)
        try:
            articles = {
                row[0]: Article(*row)
                for row in db.execute(f"SELECT {', '.join(_ARTICLE_COLUMNS)} FROM articles")
            }
            passages = [
                Passage(*row)
                for row in db.execute(f"SELECT {', '.join(_PASSAGE_COLUMNS)} FROM passages ORDER BY row")
            ]
        finally:
            db.close()
        index = vectors.load(path / "vectors.faiss")
        bm25 = keyword.load(path / "bm25")
    except IndexUnavailable:
        raise
    except Exception as exc:  # sqlite, faiss, json, bm25s: all mean the same to the user
        raise IndexUnavailable(f"The index in {path} is unreadable ({type(exc).__name__}): {REBUILD_HINT}.") from exc
    if index.ntotal != len(passages) or any(p.article_id not in articles for p in passages):
        raise IndexUnavailable(f"The index in {path} is inconsistent: {REBUILD_HINT}.")
    return Snapshot(path, meta["version"], meta["model"], articles, passages, index, bm25)
