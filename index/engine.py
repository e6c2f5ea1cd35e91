"""The library's front door: settings → model + current snapshot → answers.

The CLI and the bot both hold one Engine. Searches read `self.snapshot` once,
so a refresh can swap in a new snapshot at any moment without locks.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace

from index import store
from index.answer import AnswerConfig, answer
from index.build import BuildReport, build_index
from index.checker import Checker, shared_checker
from index.embed import Embedder, load_embedder
from index.models import Answer, Article, Hit
from index.search import SearchConfig, search
from index.settings import Settings

log = logging.getLogger(__name__)


def model_mismatch(snapshot: store.Snapshot, embedder: Embedder) -> str | None:
    if snapshot.model == embedder.identity:
        return None
    return (
        f"The index was built with the embedding model {snapshot.model!r}, "
        f"but KABAR_EMBEDDING_MODEL gives {embedder.identity!r}: {store.REBUILD_HINT}."
    )


class Engine:
    def __init__(self, settings: Settings, embedder: Embedder | None = None, checker: Checker | None = None):
        self.settings = settings
        self.embedder = embedder or load_embedder(settings.embedding_model, settings.model_cache_dir, settings.runtime)
        self.checker = checker or shared_checker(settings.model_cache_dir, settings.runtime)
        self.search_config = SearchConfig()
        self.answer_config = AnswerConfig()
        self.snapshot: store.Snapshot | None = None
        self._refresh_lock = threading.Lock()

    @classmethod
    def open(
        cls,
        settings: Settings,
        embedder: Embedder | None = None,
        build_if_missing: bool = True,
        checker: Checker | None = None,
    ) -> Engine:
        """Load the models and the index, building the index first on a fresh checkout."""
        engine = cls(settings, embedder, checker)
        if build_if_missing and not store.exists(settings.index_dir):
            log.info("no index yet: building it from %s", settings.corpus_dir)
            engine.refresh()
        else:
            engine.load()
        return engine

    def load(self) -> None:
        snapshot = store.read_snapshot(self.settings.index_dir)
        problem = model_mismatch(snapshot, self.embedder)
        if problem:
            raise store.IndexUnavailable(problem)
        self.snapshot = snapshot

    def reload_if_changed(self) -> bool:
        """Pick up a snapshot written by another process (e.g. `kabar index`)."""
        version = store.current_version(self.settings.index_dir)
        if version is None or (self.snapshot and self.snapshot.path.name == version):
            return False
        self.load()
        return True

    def refresh(self, rebuild: bool = False, progress: bool = False) -> BuildReport:
        with self._refresh_lock:
            report = build_index(
                self.settings.corpus_dir, self.settings.index_dir, self.embedder, rebuild=rebuild, progress=progress
            )
            self.load()
            return report

    def search(self, question: str, k: int = 10) -> list[Hit]:
        snapshot = self._require()
        return search(snapshot, self.embedder, question, k=k, config=self.search_config)

    def ask(self, question: str, k: int | None = None) -> Answer:
        snapshot = self._require()
        q = self.embedder.queries([question])[0]
        hits = search(snapshot, self.embedder, question, k=max(k or 0, 10), config=self.search_config, query_vector=q)
        result = answer(
            question,
            hits,
            self.embedder,
            self.answer_config,
            query_vector=q,
            sentence_vectors=snapshot.sentences_of,
            checker=self.checker,
        )
        return replace(result, hits=result.hits[:k]) if k else result

    def articles(self) -> list[Article]:
        snapshot = self._require()
        return sorted(snapshot.articles.values(), key=lambda a: (a.date or "", a.title), reverse=True)

    def _require(self) -> store.Snapshot:
        if self.snapshot is None:
            raise store.IndexUnavailable(f"No index in {self.settings.index_dir}: run `kabar index`.")
        return self.snapshot
