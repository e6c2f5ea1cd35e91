"""Measure retrieval and answer quality on a BEIR-like benchmark, with the real pipeline.

The benchmark passages go through the same cleaning, chunking, model, snapshot and
hybrid search as news articles, so a figure measured here is a figure of the shipped
bot, not of a lab copy. Every embedding (passage, sentence, question) is cached on
disk by model and text, so re-running after a fusion or threshold change costs only
the search itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from index import keyword, store, vectors
from index.answer import AnswerConfig, answer, best_sentences, coverage
from index.build import embed_passages
from index.checker import Checker
from index.chunk import chunk_article
from index.clean import clean
from index.embed import Embedder, hidden_unless
from index.models import Answer, Article, Hit
from index.search import SearchConfig, search

MODES = ("hybrid", "dense", "bm25")
KS = (1, 5, 10)
MRR_K = 10
GOLD_K = 5  # "gold passage retrieved": in the top 5 distinct benchmark passages
ANSWER_HITS = 10  # hits handed to answer(), as Engine.ask does
# Hits asked for so that 10 distinct benchmark passages remain after mapping chunks back (20 dense
# hits hold < 10 for 2 of 11,288 TyDi questions); more costs O(k²) in the near-duplicate filter.
SEARCH_K = 20
UNANSWERABLE_FILE = "unanswerable_idk_mrc.jsonl"
HELD_OUT = "held-out"  # every split but train: where a calibration on train is judged
_NO_TITLE = "\x00"  # clean() takes a short first line for a title unless told the title


# --- metrics (pure) ------------------------------------------------------------


def first_rank(ranked_ids: Sequence[str], positives: Iterable[str]) -> int | None:
    """1-based rank of the first positive among the ranked ids, or None."""
    pos = set(positives)
    return next((i for i, pid in enumerate(ranked_ids, 1) if pid in pos), None)


def recall_at(ranked_ids: Sequence[str], positives: Iterable[str], k: int) -> float:
    """1.0 when any positive is in the top k: positives are copies of one passage, not a set to cover."""
    rank = first_rank(ranked_ids, positives)
    return 1.0 if rank is not None and rank <= k else 0.0


def reciprocal_rank(ranked_ids: Sequence[str], positives: Iterable[str], k: int = MRR_K) -> float:
    rank = first_rank(ranked_ids, positives)
    return 1.0 / rank if rank is not None and rank <= k else 0.0


def normalize_text(text: str) -> str:
    return " ".join(text.lower().split())


def contains_answer(text: str, answers: Iterable[str]) -> bool:
    """Case-insensitive, whitespace-normalised substring match of any gold answer."""
    norm = normalize_text(text)
    return any(a.strip() and normalize_text(a) in norm for a in answers)


def distinct_ids(hits: Iterable[Hit]) -> list[str]:
    """Benchmark ids in ranked order, each once (a long passage becomes several chunks)."""
    return list(dict.fromkeys(h.passage.article_id for h in hits))


def mean(values: Sequence[float]) -> float | None:
    return float(np.mean(values)) if values else None


# --- benchmark files -------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    positives: tuple[str, ...]  # empty: unanswerable
    answers: tuple[str, ...]
    split: str

    @property
    def answerable(self) -> bool:
        return bool(self.positives)


@dataclass
class Bench:
    name: str
    corpus: dict[str, str]  # benchmark passage id → text
    questions: list[Question]


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _questions(path: Path, splits: Sequence[str], limit: int) -> list[Question]:
    out = [
        Question(
            id=row["id"],
            text=row["question"],
            positives=tuple(row.get("positive_ids") or ()),
            answers=tuple(row.get("answers") or ()),
            split=row.get("source_split") or "all",
        )
        for row in _read_jsonl(path)
    ]
    out = [q for q in out if not splits or q.split in splits]
    return out[:limit] if limit > 0 else out


def load_bench(bench_dir: Path, unanswerable: Path | None = None, splits: Sequence[str] = (), limit: int = 0) -> Bench:
    """Read corpus.jsonl + queries.jsonl (+ unanswerable questions); `limit` applies to each question file.

    Without `unanswerable`, a `unanswerable_idk_mrc.jsonl` beside the queries is used if present.
    """
    bench_dir = Path(bench_dir)
    corpus = {row["id"]: row["text"] for row in _read_jsonl(bench_dir / "corpus.jsonl")}
    questions = _questions(bench_dir / "queries.jsonl", splits, limit)
    unanswerable = unanswerable or (bench_dir / UNANSWERABLE_FILE)
    if unanswerable.exists():
        questions += [q for q in _questions(unanswerable, splits, limit) if not q.answerable]
    return Bench(bench_dir.name, corpus, questions)


# --- embedding cache ---------------------------------------------------------------


class CachedEmbedder(Embedder):
    """The real embedder behind an on-disk cache keyed by (model identity, prompt, text).

    A drop-in for `Embedder`: search and answer code call it unchanged, and only
    texts never seen before reach the model.
    """

    CHUNK = 512  # texts per encode call, so long runs show progress and save as they go

    def __init__(self, inner: Embedder, cache_dir: Path):
        self.model, self.identity, self.dim = inner.model, inner.identity, inner.dim
        self.prompts, self._lock = inner.prompts, inner._lock
        slug = re.sub(r"[^\w.-]+", "_", self.identity)
        self.path = Path(cache_dir) / slug
        self._rows: dict[str, int] = {}
        self._matrix = np.zeros((0, self.dim), np.float32)
        self._new: list[np.ndarray] = []
        self._new_keys: list[str] = []
        self.progress = False  # show a bar for long encodes, even where callers pass no flag
        if (self.path / "vectors.npy").exists():
            keys = (self.path / "keys.txt").read_text().split()
            matrix = np.load(self.path / "vectors.npy")
            if len(keys) == len(matrix) and matrix.shape[1] == self.dim:
                self._rows, self._matrix = {k: i for i, k in enumerate(keys)}, matrix

    def _key(self, kind: str, text: str) -> str:
        prompt = self.prompts.get(kind, "")
        return hashlib.sha256(f"{prompt}\x00{text}".encode()).hexdigest()[:24]

    def _encode(self, texts: Sequence[str], kind: str, batch_size: int, progress: bool) -> np.ndarray:
        keys = [self._key(kind, t) for t in texts]
        todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in self._rows}
        if todo:
            pending = list(todo.items())
            chunks = range(0, len(pending), self.CHUNK)
            bar = tqdm(
                chunks,
                desc=f"embedding {kind} texts",
                unit="chunk",
                **hidden_unless((progress or self.progress) and len(chunks) > 1),
            )
            for start in bar:
                part = pending[start : start + self.CHUNK]
                vecs = super()._encode([t for _, t in part], kind, max(batch_size, 64), False)
                self._add([k for k, _ in part], vecs)
                if len(pending) >= self.CHUNK:
                    self.flush()
        if not keys:
            return np.zeros((0, self.dim), np.float32)
        return self._matrix[[self._rows[k] for k in keys]]

    def passages_and_sentences(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]],
        batch_size: int = 32,
        progress: bool = False,
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors under their usual keys, each sentence vector under (text, span)."""

        def span_keys(text: str, text_spans: Sequence[tuple[int, int]]) -> list[str]:
            return [self._key("late-sentence", f"{a}:{b}\x00{text}") for a, b in text_spans]

        keys = [[self._key("passage", t), *span_keys(t, s)] for t, s in zip(texts, spans, strict=True)]
        todo = [i for i, row in enumerate(keys) if any(k not in self._rows for k in row)]
        for start in tqdm(
            range(0, len(todo), self.CHUNK),
            desc="embedding passages and sentences",
            unit="chunk",
            **hidden_unless((progress or self.progress) and len(todo) >= 2 * self.CHUNK),
        ):
            part = todo[start : start + self.CHUNK]
            vecs, pooled = super().passages_and_sentences(
                [texts[i] for i in part], [spans[i] for i in part], max(batch_size, 64)
            )
            for i, vec, sentence_vectors in zip(part, vecs, pooled, strict=True):
                self._add(keys[i], np.vstack([vec[None, :], sentence_vectors]))
            self.flush()
        rows = [[self._rows[k] for k in row] for row in keys]
        matrix = self._matrix[[r[0] for r in rows]] if rows else np.zeros((0, self.dim), np.float32)
        return matrix, [self._matrix[r[1:]] for r in rows]

    def _add(self, keys: list[str], vecs: np.ndarray) -> None:
        base = len(self._matrix)
        self._matrix = np.concatenate([self._matrix, vecs.astype(np.float32)])
        self._rows.update({k: base + i for i, k in enumerate(keys)})
        self._new_keys += keys

    def flush(self) -> None:
        """Write the cache (whole-file replace, so an interrupted run leaves the old one readable)."""
        if not self._new_keys:
            return
        self.path.mkdir(parents=True, exist_ok=True)
        keys = sorted(self._rows, key=self._rows.__getitem__)
        np.save(self.path / "vectors.tmp.npy", self._matrix)
        (self.path / "keys.tmp").write_text("\n".join(keys))
        (self.path / "vectors.tmp.npy").replace(self.path / "vectors.npy")
        (self.path / "keys.tmp").replace(self.path / "keys.txt")
        self._new_keys = []


# --- indexing and searching --------------------------------------------------------


def bench_article(pid: str, text: str) -> Article:
    """A benchmark passage as an Article: cleaned (e.g. "Jakarta, Kompas -" datelines), no title."""
    cleaned = clean(text, known_title=_NO_TITLE)
    body = cleaned.body or text.strip()
    return Article(id=pid, path=pid, title="", text=body, outlet=cleaned.outlet, date=cleaned.date)


@dataclass
class Prepared:
    """An indexed benchmark plus its question vectors: everything a run needs."""

    bench: Bench
    snapshot: store.Snapshot
    embedder: Embedder
    query_vectors: np.ndarray  # row i belongs to bench.questions[i]
    checker: Checker | None = None  # the answer checker; None: the similarity rule decides


def prepare(bench: Bench, embedder: Embedder, cache_dir: Path | None = None, progress: bool = True) -> Prepared:
    """Index the benchmark corpus into a temporary data dir and embed every question (batched)."""
    if cache_dir is not None and not isinstance(embedder, CachedEmbedder):
        embedder = CachedEmbedder(embedder, cache_dir)
    if isinstance(embedder, CachedEmbedder):
        embedder.progress = progress
    articles = [bench_article(pid, text) for pid, text in bench.corpus.items()]
    bar = tqdm(articles, desc="chunking", **hidden_unless(progress))
    passages = [p for a in bar for p in chunk_article(a, embedder.identity)]
    matrix, sentences = embed_passages(embedder, passages, batch_size=64, progress=progress)
    with tempfile.TemporaryDirectory(prefix="kabar-eval-") as tmp:
        index_dir = Path(tmp) / "index"
        store.write_snapshot(index_dir, embedder.identity, articles, passages, matrix, sentences)
        snapshot = store.read_snapshot(index_dir)
        snapshot.sentences = np.array(snapshot.sentences)  # off the memory map: the directory goes now
    query_vectors = embedder.queries([q.text for q in bench.questions], batch_size=64)
    if isinstance(embedder, CachedEmbedder):
        embedder.flush()
    return Prepared(bench, snapshot, embedder, query_vectors)


def _hit(snapshot: store.Snapshot, row: int, score: float, dense: float, kw: float, rank: int) -> Hit:
    passage = snapshot.passages[row]
    return Hit(passage, snapshot.articles[passage.article_id], score, dense, kw, rank)


def single_retriever(snapshot: store.Snapshot, question: str, q: np.ndarray, mode: str, k: int) -> list[Hit]:
    """Dense-only or BM25-only ranking, built here rather than via fusion weights, so a
    baseline stays a baseline whatever the fusion becomes. Both scores are filled in for answer()."""
    kw_all = keyword.scores(snapshot.bm25, question)[: len(snapshot.passages)]
    if mode == "dense":
        scores, rows = vectors.search(snapshot.vectors, q[None, :], k)
        pairs = [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0]
        return [_hit(snapshot, r, s, s, float(kw_all[r]), i) for i, (r, s) in enumerate(pairs, 1)]
    rows = [int(r) for r in np.argsort(-kw_all, kind="stable")[:k] if kw_all[r] > 0]
    return [
        _hit(snapshot, r, float(kw_all[r]), float(snapshot.vectors.reconstruct(r) @ q), float(kw_all[r]), i)
        for i, r in enumerate(rows, 1)
    ]


def retrieve(
    prepared: Prepared, index: int, mode: str = "hybrid", config: SearchConfig | None = None, k: int = SEARCH_K
) -> list[Hit]:
    """Hits for question `index` of the benchmark, with its cached query vector."""
    question, q = prepared.bench.questions[index].text, prepared.query_vectors[index]
    if mode == "hybrid":
        return search(
            prepared.snapshot, prepared.embedder, question, k, config=config or SearchConfig(), query_vector=q
        )
    if mode in ("dense", "bm25"):
        return single_retriever(prepared.snapshot, question, q, mode, k)
    raise ValueError(f"unknown mode {mode!r}; one of {', '.join(MODES)}")


# --- results -------------------------------------------------------------------------


@dataclass
class Outcome:
    """One question's result: enough to recompute every metric and to read a miss."""

    id: str
    split: str
    answerable: bool
    rank: int | None  # of the first positive among distinct benchmark ids (None: not retrieved)
    top_ids: list[str]
    found: bool
    answer: str
    answer_hit: bool | None  # shown answer contains gold; None unless gold is in the top GOLD_K
    sentence_hit: bool | None  # best sentences contain gold, even when the answer abstained
    dense_top: float = 0.0
    dense_second: float = 0.0
    keyword_top: float = 0.0
    coverage: float = 0.0
    confidence: float = 0.0
    answer_rank: int | None = None  # of the first distinct benchmark passage holding a gold answer string


@dataclass
class Metrics:
    questions: int  # answerable questions
    recall: dict[int, float | None]  # None (like every rate here) when nothing was there to count
    mrr: float | None
    answer_recall: float | None  # R@GOLD_K counting any passage that holds a gold answer: positives are
    # not exhaustive (FacQA labels one snippet of an article; its siblings often answer too)
    gold_in_top: int  # answerable questions with gold in the top GOLD_K
    answer_hit: float | None  # of gold_in_top: the shown answer contains a gold answer
    sentence_hit: float | None  # of gold_in_top: the best sentences contain it, abstention ignored
    answered: float | None  # of gold_in_top: share answered (not "not found")
    unanswerable: int
    abstention: float | None  # of unanswerable: share answered "not found"

    @classmethod
    def of(cls, outcomes: Sequence[Outcome]) -> Metrics:
        ans = [o for o in outcomes if o.answerable]
        gold = [o for o in ans if o.rank is not None and o.rank <= GOLD_K]
        unans = [o for o in outcomes if not o.answerable]
        within = [(o.rank or 10**9) for o in ans]
        return cls(
            questions=len(ans),
            recall={k: mean([float(r <= k) for r in within]) for k in KS},
            mrr=mean([1.0 / r if r <= MRR_K else 0.0 for r in within]),
            answer_recall=mean([float(min(r, o.answer_rank or r) <= GOLD_K) for r, o in zip(within, ans, strict=True)]),
            gold_in_top=len(gold),
            answer_hit=mean([float(bool(o.answer_hit)) for o in gold]),
            sentence_hit=mean([float(bool(o.sentence_hit)) for o in gold]),
            answered=mean([float(o.found) for o in gold]),
            unanswerable=len(unans),
            abstention=mean([float(not o.found) for o in unans]),
        )


@dataclass
class EvalResult:
    bench: str
    mode: str
    model: str
    passages: int  # benchmark passages
    chunks: int  # passages after chunking
    search_config: dict
    answer_config: dict
    seconds: float
    splits: dict[str, Metrics]  # per source split (+ "all", HELD_OUT when several)
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def overall(self) -> Metrics:
        return self.splits.get("all") or next(iter(self.splits.values()))

    def to_json(self, outcomes: bool = False) -> dict:
        data = asdict(self)
        if not outcomes:
            data.pop("outcomes")
        return data


def _ranks(prepared: Prepared, i: int, hits: list[Hit]) -> tuple[list[str], int | None, int | None]:
    """Distinct benchmark ids, rank of the first positive, rank of the first passage holding an answer."""
    q, ids = prepared.bench.questions[i], distinct_ids(hits)
    if not q.answerable:
        return ids, None, None
    holds = [pid for pid in ids[:MRR_K] if contains_answer(prepared.bench.corpus[pid], q.answers)]
    return ids, first_rank(ids, q.positives), first_rank(ids, holds)


def _answer_outcome(prepared: Prepared, i: int, hits: list[Hit], config: AnswerConfig) -> Outcome:
    q, qv = prepared.bench.questions[i], prepared.query_vectors[i]
    ids, rank, answer_rank = _ranks(prepared, i, hits)
    top = hits[:ANSWER_HITS]
    sentences = prepared.snapshot.sentences_of
    result = answer(q.text, top, prepared.embedder, config, qv, sentences, prepared.checker)
    gold = rank is not None and rank <= GOLD_K
    picked = (
        result.text if result.found else " ".join(best_sentences(q.text, top, prepared.embedder, config, qv, sentences))
    )
    return Outcome(
        id=q.id,
        split=q.split,
        answerable=q.answerable,
        rank=rank,
        top_ids=ids[:MRR_K],
        found=result.found,
        answer=result.text,
        answer_hit=(result.found and contains_answer(result.text, q.answers)) if gold else None,
        sentence_hit=contains_answer(picked, q.answers) if gold else None,
        dense_top=top[0].dense if top else 0.0,
        dense_second=top[1].dense if len(top) > 1 else 0.0,
        keyword_top=max((h.keyword for h in top), default=0.0),
        coverage=coverage(q.text, top[:3]),
        confidence=result.confidence,
        answer_rank=answer_rank,
    )


def split_metrics(outcomes: Sequence[Outcome]) -> dict[str, Metrics]:
    """Per source split; "all" and HELD_OUT only when they differ from a single split."""
    splits = sorted({o.split for o in outcomes})
    out = {s: Metrics.of([o for o in outcomes if o.split == s]) for s in splits}
    if len(splits) > 1:
        if "train" in splits:
            out[HELD_OUT] = Metrics.of([o for o in outcomes if o.split != "train"])
        out["all"] = Metrics.of(outcomes)
    return out


def single_threaded_blas() -> contextlib.AbstractContextManager:
    """One BLAS thread for the per-question matrix products: on a busy 2-core machine OpenBLAS waking
    its threads made a 5,000 × 384 matrix-vector product 8 ms instead of 0.14 ms."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # comes with scikit-learn; without it, only slower
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def run(
    prepared: Prepared,
    mode: str = "hybrid",
    search_config: SearchConfig | None = None,
    answer_config: AnswerConfig | None = None,
    with_answers: bool = True,
    progress: bool = True,
) -> EvalResult:
    """Search (and answer) every question of a prepared benchmark; cheap to repeat with new configs."""
    search_config, answer_config = search_config or SearchConfig(), answer_config or AnswerConfig()
    started = time.perf_counter()
    outcomes: list[Outcome] = []
    questions = prepared.bench.questions
    bar = tqdm(range(len(questions)), desc=f"{prepared.bench.name} {mode}", **hidden_unless(progress))
    with single_threaded_blas():
        for i in bar:
            hits = retrieve(prepared, i, mode, search_config)
            if with_answers:
                outcomes.append(_answer_outcome(prepared, i, hits, answer_config))
                continue
            (ids, rank, answer_rank), q = _ranks(prepared, i, hits), questions[i]
            blank = Outcome(q.id, q.split, q.answerable, rank, ids[:MRR_K], True, "", None, None)
            outcomes.append(replace(blank, answer_rank=answer_rank))
    return EvalResult(
        bench=prepared.bench.name,
        mode=mode,
        model=prepared.embedder.identity,
        passages=len(prepared.bench.corpus),
        chunks=len(prepared.snapshot.passages),
        search_config=asdict(search_config) if mode == "hybrid" else {},
        answer_config=asdict(answer_config) if with_answers else {},
        seconds=round(time.perf_counter() - started, 1),
        splits=split_metrics(outcomes),
        outcomes=outcomes,
    )


def evaluate(
    bench_dir: Path,
    embedder: Embedder,
    unanswerable: Path | None = None,
    splits: Sequence[str] = (),
    modes: Sequence[str] = ("hybrid",),
    limit: int = 0,
    cache_dir: Path | None = None,
    progress: bool = True,
) -> list[EvalResult]:
    """The whole harness: load, index with the real pipeline, then one run per retriever mode."""
    bench = load_bench(bench_dir, unanswerable, splits, limit)
    prepared = prepare(bench, embedder, cache_dir, progress)
    return [run(prepared, mode, progress=progress) for mode in modes]


# --- the hand-written questions about the bundled articles ---------------------------------------------

SEED_QUESTIONS = Path(__file__).resolve().parent.parent / "bench" / "questions" / "seed.jsonl"
CHAT_QUESTIONS = SEED_QUESTIONS.with_name("chat.jsonl")  # seed questions typed as in a chat


def read_seed(path: Path = SEED_QUESTIONS) -> list[dict]:
    """{"id", "question", "lang", "kind" (answerable | near-topic | off-topic), "answer_words", "article", "split"}."""
    return _read_jsonl(path)


def seed_passes(row: dict, answer: Answer, top: int = 3) -> bool:
    """Answerable: answered, with all its answer words in the answer or the top passages. Otherwise: refused."""
    if row["kind"] != "answerable":
        return not answer.found
    return answer.found and shows_answer_words(row, [answer.text, *(h.passage.text for h in answer.hits[:top])])


def shows_answer_words(row: dict, shown: Sequence[str]) -> bool:
    """Every answer word of a seed question is somewhere in what was shown (case aside)."""
    text = " ".join(shown).lower()
    return all(w.lower() in text for w in row["answer_words"])


# --- presentation ----------------------------------------------------------------------


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def metrics_table(results: Sequence[EvalResult]) -> str:
    """A markdown table (readable as plain text too): one row per bench, mode and split."""
    head = [
        "bench", "mode", "split", "questions", *(f"R@{k}" for k in KS), f"MRR@{MRR_K}", f"R@{GOLD_K} any answer",
        f"gold in top {GOLD_K}", "answer hit", "sentence hit", "answered", "unanswerable", "abstention",
    ]  # fmt: skip
    rows = [head, ["---"] * len(head)]
    for r in results:
        for split, m in r.splits.items():
            rows.append([
                r.bench, r.mode, split, str(m.questions), *(_fmt(m.recall[k]) for k in KS), _fmt(m.mrr),
                _fmt(m.answer_recall), str(m.gold_in_top), _fmt(m.answer_hit), _fmt(m.sentence_hit), _fmt(m.answered),
                str(m.unanswerable), _fmt(m.abstention),
            ])  # fmt: skip
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)
