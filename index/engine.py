"""The library's front door: settings → model + current snapshot → answers.

The CLI and the bot both hold one Engine. Searches read `self.snapshot` once,
so a refresh can swap in a new snapshot at any moment without locks.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace

from index import store
from index.answer import AnswerConfig, answer, language
from index.build import BuildReport, build_index
from index.checker import Checker, settings_checker
from index.colloquial import chat_words, formal, root_words, truecase, typed_without_capitals
from index.embed import Embedder, load_embedder
from index.ingest import newest_first
from index.introduction import asked_subject, names
from index.models import Answer, Article, Hit
from index.search import SearchConfig, merged, search
from index.settings import Settings
from index.translate import lexicon

log = logging.getLogger(__name__)
ANSWER_CACHE = 512  # answers kept per engine, keyed by (snapshot, question, k)


def model_mismatch(snapshot: store.Snapshot, embedder: Embedder) -> str | None:
    if snapshot.model == embedder.identity:
        return None
    return (
        f"The index was built with the embedding model {snapshot.model!r}, "
        f"but KABAR_EMBEDDING_MODEL gives {embedder.identity!r}: {store.REBUILD_HINT}."
    )


class Coalescing:
    """Runs `work` on one worker thread; every request made before a run starts shares that run.

    Five /refresh presses while a refresh runs become one more refresh, not five, and the waiting
    callers hold futures, not threads.
    """

    def __init__(self, work: Callable[[], BuildReport]):
        self._work = work
        self._lock = threading.Lock()
        self._pending: Future[BuildReport] | None = None
        self._running = False
        self.runs = 0

    def request(self) -> Future[BuildReport]:
        with self._lock:
            if self._pending is None:
                self._pending = Future()
            pending = self._pending
            if not self._running:
                self._running = True
                threading.Thread(target=self._loop, name="kabar-refresh", daemon=True).start()
        return pending

    def _loop(self) -> None:
        while True:
            with self._lock:
                future, self._pending = self._pending, None
                if future is None:
                    self._running = False
                    return
            if not future.set_running_or_notify_cancel():
                continue  # every waiter gave up (cancelled) before the run began
            self.runs += 1
            try:
                future.set_result(self._work())
            except BaseException as error:  # handed to every waiter; the worker goes on
                future.set_exception(error)


class Engine:
    def __init__(self, settings: Settings, embedder: Embedder | None = None, checker: Checker | None = None):
        self.settings = settings
        self.embedder = embedder or load_embedder(settings.embedding_model, settings.model_cache_dir, settings.runtime)
        self.checker = checker or settings_checker(settings)
        self.search_config = SearchConfig()
        self.answer_config = AnswerConfig()
        self.snapshot: store.Snapshot | None = None
        self._refresh_lock = threading.Lock()
        self._refresher = Coalescing(lambda: self.refresh())
        self._cache: OrderedDict[tuple, Answer] = OrderedDict()
        self._cache_lock = threading.Lock()

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
        """Rebuild from the corpus now (in this thread); the bot goes through `refresh_soon` instead."""
        with self._refresh_lock:
            report = build_index(
                self.settings.corpus_dir,
                self.settings.index_dir,
                self.embedder,
                rebuild=rebuild,
                progress=progress,
                loaded=self.snapshot,
            )
            if self.snapshot is None or self.snapshot.path.name != store.current_version(self.settings.index_dir):
                self.load()  # a refresh that changed nothing keeps the snapshot it has
            return report

    def refresh_soon(self) -> Future[BuildReport]:
        """Ask the one refresh worker for a refresh; requests made while it works share its next run,
        and no caller holds a thread while it waits."""
        return self._refresher.request()

    def search(self, question: str, k: int = 10) -> list[Hit]:
        snapshot = self._require()
        return search(snapshot, self.embedder, question, k=k, config=self.search_config)

    def ask(self, question: str, k: int | None = None) -> Answer:
        """The answer from the current snapshot; the same question on the same snapshot is answered
        from a small cache (a "More" press, a repeated inline query, a flood of one question)."""
        snapshot = self._require()
        key = (snapshot.path.name, question, k)
        with self._cache_lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        result = self._ask(snapshot, question, k)
        with self._cache_lock:
            self._cache[key] = result
            while len(self._cache) > ANSWER_CACHE:
                self._cache.popitem(last=False)
        return result

    def forget_answers(self) -> None:
        """Empty the answer cache (benchmarks time answering, not remembering)."""
        with self._cache_lock:
            self._cache.clear()

    def _ask(self, snapshot: store.Snapshot, question: str, k: int | None) -> Answer:
        asked = question
        if self.answer_config.colloquial and language(question) == "id":  # chat words in the articles' words
            question = formal(question, snapshot.bm25.vocab_dict)
        q = self.embedder.queries([question])[0]
        hits = search(snapshot, self.embedder, question, k=max(k or 0, 10), config=self.search_config, query_vector=q)
        if self.answer_config.colloquial and typed_without_capitals(question):  # names in the articles' spelling
            question = truecase(question, [h.passage.text for h in hits])
        if subject := asked_subject(question):  # "Siapa Kim Taewoo?", "Apa itu juche?": the passages naming it too
            by_name = replace(self.search_config, keyword_weight=1.0)  # a name is a keyword, not a meaning
            named = search(snapshot, self.embedder, subject.name, k=10, config=by_name, query_vector=q)
            hits = merged(hits, [h for h in named if names(h.passage.text, subject)])
        result = answer(
            question,
            hits,
            self.embedder,
            self.answer_config,
            query_vector=q,
            sentence_vectors=snapshot.sentences_of,
            checker=self.checker,
        )
        return replace(result, question=asked, hits=result.hits[:k] if k else result.hits)

    def warm(self) -> None:
        """Load and run once what the first question would (the question encoder, the checker's first
        run), so a bot's first user does not wait for it."""
        self.embedder.queries(["warm-up"])
        if self.checker is not None:
            self.checker.probabilities("warm-up", ["warm-up"])
            lexicon()  # the English word list English questions are read through
        chat_words()  # the chat words Indonesian questions are read through
        root_words()  # the root words no Jakarta verb form is read into

    def articles(self) -> list[Article]:
        return newest_first(list(self._require().articles.values()))

    def _require(self) -> store.Snapshot:
        if self.snapshot is None:
            raise store.IndexUnavailable(f"No index in {self.settings.index_dir}: run `kabar index`.")
        return self.snapshot
