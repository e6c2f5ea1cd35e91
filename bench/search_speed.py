"""In-process question → answer latency (Engine.ask) at 1k, 10k and 100k passages, and where it goes.

    .venv/bin/python -m bench.search_speed                 # ~15 min on 2 cores (first run embeds ~6k passages)
    .venv/bin/python -m bench.search_speed --sizes 1000 --questions 50 --out search_speed_small

Passages: the real benchmark passages (facqa + tydiqa_id, ~6k), then variants of them
(bench/corpus.passages). Vectors: the real passages are embedded once (cached outside the
repo); each variant gets a perturbed copy of its original's vector (bench/corpus.perturbed,
calibrated on real variant embeddings), so a 100k index needs no 100k-passage embedding run.
Snapshots are written with index.store.write_snapshot and served by index.engine.Engine,
exactly as `kabar ask` and the bot use them. Questions are real benchmark questions.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np

from bench import corpus
from bench.common import header, write_results
from index import engine as engine_module
from index import keyword, store, vectors
from index.chunk import passage_id, split_sentences
from index.engine import Engine
from index.models import Article, Passage
from index.settings import Settings


def snapshot(index_dir: Path, embedder, base: np.ndarray, alpha: float, n: int) -> float:
    """Write an n-passage snapshot (one article per passage); returns seconds taken."""
    articles, passages = [], []
    for i, text in enumerate(corpus.passages(n)):
        title = corpus.title_of(text)
        article = Article(id=f"bench-{i:06d}.txt", path=f"bench-{i:06d}.txt", title=title, text=text, outlet="Bench")
        embed = f"{title}\n{text}"
        articles.append(article)
        passages.append(Passage(passage_id(embedder.identity, embed), article.id, 0, text, embed))
    matrix = corpus.perturbed(base, n, alpha)
    started = time.perf_counter()
    store.write_snapshot(index_dir, embedder.identity, articles, passages, matrix, sentence_vectors(passages, matrix))
    return time.perf_counter() - started


def sentence_vectors(passages: list[Passage], matrix: np.ndarray, alpha: float = 0.5) -> list[np.ndarray]:
    """Stand-ins for the sentence vectors `kabar index` stores: per sentence, a perturbed copy of its
    passage's vector. Only their number and shape matter for latency (which sentence wins does not)."""
    counts = [len(split_sentences(p.text)) for p in passages]
    rng = np.random.default_rng(1)
    rows = np.repeat(np.arange(len(passages)), counts)
    j, k = rng.integers(len(passages), size=(2, len(rows)))
    flat = matrix[rows] + alpha * (matrix[j] - matrix[k])
    flat /= np.linalg.norm(flat, axis=1, keepdims=True)
    return np.split(flat.astype(np.float32), np.cumsum(counts)[:-1])


class Timers:
    """Wraps the pipeline's steps in place and sums their time per question."""

    PARTS = {
        "query embedding": "embedder.queries",
        "FAISS search": "vectors.search",
        "BM25 scores (all passages)": "keyword.scores",
        "search(), rest (fusion, reconstruct, dedupe)": "search",
        "answer: sentence embedding (only indexes without sentence vectors)": "embedder.passages",
        "answer(), rest (split, overlap, typing)": "answer",
    }

    def __init__(self, engine: Engine):
        self.now: dict[str, float] = defaultdict(float)
        self.per_question: list[dict[str, float]] = []
        self._wrap(engine.embedder, "queries", "embedder.queries")
        self._wrap(engine.embedder, "passages", "embedder.passages")
        self._wrap(vectors, "search", "vectors.search")
        self._wrap(keyword, "scores", "keyword.scores")
        self._wrap(engine_module, "search", "search")
        self._wrap(engine_module, "answer", "answer")

    def _wrap(self, owner, name: str, key: str) -> None:
        inner = getattr(owner, name)

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.now[key] += time.perf_counter() - started

        setattr(owner, name, timed)
        self._restore = [*getattr(self, "_restore", []), (owner, name, inner)]

    def restore(self) -> None:
        for owner, name, inner in reversed(self._restore):
            setattr(owner, name, inner)

    def ask(self, engine: Engine, question: str) -> tuple[float, bool]:
        self.now = defaultdict(float)
        started = time.perf_counter()
        result = engine.ask(question, k=3)
        total = time.perf_counter() - started
        parts = dict(self.now)
        parts["search"] = parts.get("search", 0) - parts.get("vectors.search", 0) - parts.get("keyword.scores", 0)
        parts["answer"] = parts.get("answer", 0) - parts.get("embedder.passages", 0)
        parts["total"] = total
        parts["found"] = float(result.found)
        self.per_question.append(parts)
        return total, result.found


def ms(values: list[float], q: float) -> str:
    return f"{1000 * float(np.percentile(values, q)):.1f}" if values else "-"


def measure(engine: Engine, questions: list[str], warmup: int) -> dict:
    for q in questions[:warmup]:
        engine.ask(q, k=3)
    timers = Timers(engine)
    try:
        for q in questions[warmup:]:
            timers.ask(engine, q)
    finally:
        timers.restore()
    return {"rows": timers.per_question}


def profile(engine: Engine, questions: list[str], top: int = 18) -> list[str]:
    prof = cProfile.Profile()
    prof.enable()
    for q in questions:
        engine.ask(q, k=3)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    start = next(i for i, line in enumerate(lines) if "ncalls" in line)
    return ["```", *[line.replace(str(Path.cwd()) + "/", "") for line in lines[start:]], "```"]


def torch_threads(engine: Engine, questions: list[str]) -> list[str]:
    """Engine.ask latency per torch thread count, as the machine is and beside one busy process
    (what a `kabar index` or any other job next to the bot does to it)."""
    from index import embed

    rows = ["| torch threads per question | beside | p50 ms | p95 ms |", "|---|---|---|---|"]
    default = embed.QUESTION_THREADS
    for beside in ("the machine as it is", "one busy-looping process"):
        hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if beside.startswith("one") else None
        try:
            for threads in (1, 2):
                embed.QUESTION_THREADS = threads
                times = []
                for q in questions:
                    started = time.perf_counter()
                    engine.ask(q, k=3)
                    times.append(time.perf_counter() - started)
                rows.append(f"| {threads} | {beside} | {ms(times, 50)} | {ms(times, 95)} |")
                print(rows[-1], flush=True)
        finally:
            if hog:
                hog.kill()
                hog.wait()
    embed.QUESTION_THREADS = default
    return rows


def model_options(engine: Engine, questions: list[str]) -> list[str]:
    """The one model call of a question (its query embedding) under other numerics and thread counts."""
    import copy

    import torch

    from index import embed
    from index.embed import Embedder

    base = engine.embedder
    with warnings.catch_warnings():  # torch.ao.quantization is deprecated; fine for a measurement
        warnings.simplefilter("ignore")
        int8 = torch.ao.quantization.quantize_dynamic(copy.deepcopy(base.model), {torch.nn.Linear}, dtype=torch.qint8)
    options = {
        "fp32, 1 thread (as shipped for questions)": (base, None, 1),
        "fp32, 2 threads": (base, None, 2),
        "bf16 autocast, 1 thread": (base, torch.bfloat16, 1),
        "int8 dynamic quantization of Linear layers, 1 thread": (Embedder(int8, base.identity), None, 1),
    }
    reference = base.queries(questions)
    rows = ["| numerics | query embedding p50 ms | p95 ms | min cosine vs fp32 |", "|---|---|---|---|"]
    default = embed.QUESTION_THREADS
    for name, (embedder, dtype, threads) in options.items():
        embed.QUESTION_THREADS = threads
        times, cosines = [], []
        for i, q in enumerate(questions):
            with torch.autocast("cpu", dtype=dtype, enabled=dtype is not None):
                started = time.perf_counter()
                qv = embedder.queries([q])[0]
                times.append(time.perf_counter() - started)
            cosines.append(float(qv @ reference[i]))
        rows.append(f"| {name} | {ms(times, 50)} | {ms(times, 95)} | {min(cosines):.6f} |")
        print(rows[-1], flush=True)
    rows += ["", "A burst of 10 questions embedded as one batch (what a bot could do under load):", ""]
    rows += ["| threads | batch of 10: p50 ms | per question ms |", "|---|---|---|"]
    for threads in (1, 2):
        embed.QUESTION_THREADS = threads
        times = []
        for start in range(0, len(questions) - 9, 10):
            started = time.perf_counter()
            base._encode(questions[start : start + 10], "query", 10, False)
            times.append(time.perf_counter() - started)
        rows.append(f"| {threads} | {ms(times, 50)} | {float(np.median(times)) * 100:.1f} |")
        print(rows[-1], flush=True)
    embed.QUESTION_THREADS = default
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--questions", type=int, default=300, help="timed questions per size")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--profile-size", type=int, default=10_000, help="cProfile at this size (0: none)")
    parser.add_argument("--out", default="search_speed")
    args = parser.parse_args()

    head = header()
    embedder = corpus.bundled_embedder()
    base, _, (alpha, target) = corpus.benchmark_vectors(0, embedder=embedder)
    questions = corpus.questions(args.questions + args.warmup, seed=3)
    body = [
        f"Passages: {len(base)} real benchmark passages, then variants; vectors: real embeddings, then perturbed "
        f"copies (alpha {alpha:.3f}: median cosine to the original {target:.3f}, as real variants). "
        f"{args.questions} real benchmark questions per size (after {args.warmup} warm-up), one at a time, "
        "through Engine.ask(question, k=3) — the CLI's and the bot's call.",
        "",
    ]
    summary = [
        "| passages | snapshot write s | FAISS index | p50 ms | p95 ms | p99 ms | answered | p50 answered | "
        "p50 not found |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    parts_table = ["| passages | " + " | ".join(Timers.PARTS) + " |", "|---" * (len(Timers.PARTS) + 1) + "|"]
    extra: list[str] = []
    work = Path(tempfile.mkdtemp(prefix="kabar-search-speed-"))
    try:
        for n in [int(s) for s in args.sizes.split(",")]:
            data_dir = work / f"data-{n}"
            written = snapshot(data_dir / "index", embedder, base, alpha, n)
            engine = Engine(Settings(data_dir=data_dir, corpus_dir=work / "none"), embedder)
            engine.load()
            rows = measure(engine, questions, args.warmup)["rows"]
            total = [r["total"] for r in rows]
            found = [r["total"] for r in rows if r["found"]]
            missed = [r["total"] for r in rows if not r["found"]]
            line = (
                f"| {n:,} | {written:.1f} | {type(engine.snapshot.vectors).__name__} | {ms(total, 50)} | "
                f"{ms(total, 95)} | {ms(total, 99)} | {len(found) / len(rows):.0%} | {ms(found, 50)} | "
                f"{ms(missed, 50)} |"
            )
            print(line, flush=True)
            summary.append(line)
            medians = [statistics.median(r.get(key, 0.0) for r in rows) * 1000 for key in Timers.PARTS.values()]
            parts_table.append(f"| {n:,} | " + " | ".join(f"{m:.2f}" for m in medians) + " |")
            print(parts_table[-1], flush=True)
            if n == args.profile_size:
                extra += [
                    f"## Settings at {n:,} passages",
                    "",
                    *torch_threads(engine, questions[: min(100, len(questions))]),
                    "",
                    f"## What bounds it: the model call per question under other numerics ({n:,} passages)",
                    "",
                    *model_options(engine, questions[:40]),
                    "",
                    f"## cProfile of {min(100, len(questions))} questions at {n:,} passages (by own time)",
                    "",
                    *profile(engine, questions[: min(100, len(questions))]),
                    "",
                ]
            del engine
            shutil.rmtree(data_dir, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    body += [
        "## Latency (target: p50 ≤ 30 ms at 10k passages)",
        "",
        *summary,
        "",
        "## Where the time goes (median ms per question; the parts are nested calls, minus their own parts)",
        "",
        *parts_table,
        "",
        *extra,
    ]
    write_results(args.out, head, body, title="Question → answer latency (bench/search_speed.py)")


if __name__ == "__main__":
    main()
