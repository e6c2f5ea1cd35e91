"""The question path without torch (issue 12), against the torch path measured in the same run.

    .venv/bin/python -m bench.question_path                       # ~10 min on 2 cores
    .venv/bin/python -m bench.question_path --runs 3 --questions 60 --out question_path_small

1. Warm `kabar ask` on the bundled corpus (index built, page cache warm): whole processes, the default
   runtime and KABAR_RUNTIME=torch taken in turn, A B A B …, so the ratio is paired.
2. `kabar serve` on an existing index (the bundled corpus, and a 10k-passage snapshot): seconds from
   the process's start to its first getUpdates on a loopback Bot API (tests/botapi.py), then one
   question answered, and the serving process's resident memory after it.
3. Engine.ask in one process at 10k passages: the two runtimes on the same questions, in turn.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench import corpus
from bench.bot_latency import percentile
from bench.common import ROOT, header, write_results
from bench.index_speed import KABAR, data_dir_with_model, kabar_env, run_measured
from bench.search_speed import snapshot

sys.path.insert(0, str(ROOT / "tests"))
from botapi import BotAPIServer  # noqa: E402

RUNTIMES = {"auto": {}, "torch": {"KABAR_RUNTIME": "torch"}}
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"  # shaped like a real one: `kabar serve` checks
ASK = ["Kapan Putin mengunjungi Pyongyang?", "What does Kim want in return?", "Apa yang diminta Shoigu dari Kim?"]


def median_ms(values: list[float]) -> str:
    return f"{1000 * statistics.median(values):.0f}"


def warm_asks(env: dict[str, str], runs: int) -> list[str]:
    """Median wall, CPU and peak memory of whole `kabar ask` processes, per runtime, paired."""
    rows: dict[str, list[tuple[float, float, float]]] = {name: [] for name in RUNTIMES}
    for extra in RUNTIMES.values():
        run_measured([KABAR, "ask", ASK[0]], env | extra)  # warm-up: page cache, ONNX export
    for i in range(runs):
        for name, extra in RUNTIMES.items():
            wall, peak, _, cpu = run_measured([KABAR, "ask", ASK[i % len(ASK)]], env | extra)
            rows[name].append((wall, cpu, peak))
    ratios = [t[0] / a[0] for a, t in zip(rows["auto"], rows["torch"], strict=True)]
    lines = ["| runtime | wall s (median) | min–max | CPU s | peak MB |", "|---|---|---|---|---|"]
    for name, values in rows.items():
        walls = [v[0] for v in values]
        lines.append(
            f"| {name} | {statistics.median(walls):.2f} | {min(walls):.2f}–{max(walls):.2f} | "
            f"{statistics.median(v[1] for v in values):.2f} | {statistics.median(v[2] for v in values):.0f} |"
        )
    lines += [
        "",
        f"torch / auto, paired per run: median **{statistics.median(ratios):.1f}×** "
        f"(min {min(ratios):.1f}×, max {max(ratios):.1f}×), {runs} runs each.",
    ]
    return lines


def status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def serve_once(env: dict[str, str]) -> tuple[float, float, float, float]:
    """(seconds to the first getUpdates, seconds from it to the answer of the question waiting there,
    RSS MB after answering, peak RSS MB)."""
    async with BotAPIServer(token=TOKEN) as server:
        env = env | {"TELEGRAM_BOT_TOKEN": server.token, "TELEGRAM_BASE_URL": server.base_url}
        server.push_update(server.private_text(ASK[0]))
        started = time.monotonic()  # Call.time is monotonic, taken when a request arrives
        proc = await asyncio.create_subprocess_exec(
            KABAR, "serve", env=env, cwd=ROOT, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
        )
        try:
            waiting = asyncio.ensure_future(server.wait_for("sendMessage", timeout=120))
            await asyncio.wait([waiting, asyncio.ensure_future(proc.wait())], return_when=asyncio.FIRST_COMPLETED)
            if not waiting.done():
                raise RuntimeError(f"kabar serve exited: {(await proc.stderr.read()).decode()[-2000:]}")
            [reply] = waiting.result()
            polled = server.calls("getUpdates")[0].time
            return polled - started, reply.time - polled, status_mb(proc.pid, "VmRSS"), status_mb(proc.pid, "VmHWM")
        finally:
            if proc.returncode is None:
                proc.terminate()
            await proc.wait()


def serve_rows(label: str, env: dict[str, str], runs: int) -> list[str]:
    lines = []
    for name, extra in RUNTIMES.items():
        results = [asyncio.run(serve_once(env | extra)) for _ in range(runs)]
        ready, answer, rss, peak = ([r[i] for r in results] for i in range(4))
        lines.append(
            f"| {label} | {name} | {statistics.median(ready):.2f} | {min(ready):.2f}–{max(ready):.2f} | "
            f"{median_ms(answer)} | {statistics.median(rss):.0f} | {statistics.median(peak):.0f} |"
        )
        print(lines[-1], flush=True)
    return lines


def engine_rows(data_dir: Path, questions: list[str]) -> list[str]:
    """Engine.ask per runtime on the same snapshot and questions, taken in turn."""
    from index.engine import Engine
    from index.settings import Settings

    engines = {}
    for name in RUNTIMES:
        engines[name] = Engine(Settings(data_dir=data_dir, corpus_dir=data_dir / "none", runtime=name))
        engines[name].load()
    times: dict[str, list[float]] = {name: [] for name in RUNTIMES}
    found: list[bool] = []
    for i, question in enumerate(questions):
        for name, engine in engines.items():
            started = time.perf_counter()
            answered = engine.ask(question, k=3).found
            if i >= 5:  # warm-up
                times[name].append(time.perf_counter() - started)
                if name == "auto":
                    found.append(answered)
    lines = ["| runtime | embedder | checker | p50 ms | p95 ms |", "|---|---|---|---|---|"]
    for name, engine in engines.items():
        lines.append(
            f"| {name} | {type(engine.embedder).__name__} | {type(engine.checker).__name__} | "
            f"{median_ms(times[name])} | {1000 * percentile(times[name], 0.95):.0f} |"
        )
    ratio = statistics.median(t / a for a, t in zip(times["auto"], times["torch"], strict=True))
    by_outcome = {want: [t for t, f in zip(times["auto"], found, strict=True) if f == want] for want in set(found)}
    split = [
        f"{what} {len(by_outcome[want])}: p50 {median_ms(by_outcome[want])} ms"
        for what, want in (("answered", True), ("refused", False))
        if want in by_outcome
    ]
    return [
        *lines,
        "",
        f"torch / auto per question: median {ratio:.2f}× over {len(times['auto'])} questions. "
        f"Auto runtime by outcome: {'; '.join(split)} (a refusal reads every candidate it has, an "
        "answer stops reading once a sentence clears the threshold).",
        "",
        "Where the time of one question goes (auto runtime, the same questions, median ms per stage):",
        "",
        *stage_rows(engines["auto"], questions),
    ]


def stage_rows(engine, questions: list[str]) -> list[str]:
    """Engine._ask's stages timed one by one: what bounds the question path."""
    from index.answer import candidates, judge
    from index.search import search

    snapshot, config = engine.snapshot, engine.answer_config
    stages: dict[str, list[float]] = {"embed question": [], "search": [], "candidate sentences": [], "checker": []}
    pairs = []
    for question in questions:
        t0 = time.perf_counter()
        q = engine.embedder.queries([question])[0]
        t1 = time.perf_counter()
        hits = search(snapshot, engine.embedder, question, k=10, config=engine.search_config, query_vector=q)
        t2 = time.perf_counter()
        pool = candidates(question, hits, engine.embedder, config, q, snapshot.sentences_of)
        t3 = time.perf_counter()
        read = judge(engine.checker, question, pool, config)
        t4 = time.perf_counter()
        for name, seconds in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            stages[name].append(seconds)
        pairs.append(len(read))
    lines = ["| stage | p50 ms |", "|---|---|"]
    lines += [f"| {name} | {median_ms(values)} |" for name, values in stages.items()]
    return [*lines, "", f"The checker read a median of {statistics.median(pairs):.0f} sentences per question."]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="whole-process runs per runtime")
    parser.add_argument("--serve-runs", type=int, default=3)
    parser.add_argument("--passages", type=int, default=10_000)
    parser.add_argument("--questions", type=int, default=200, help="Engine.ask questions per runtime")
    parser.add_argument("--out", default="question_path")
    args = parser.parse_args()

    head = header()
    embedder = corpus.bundled_embedder()
    model_cache = embedder_cache()
    work = Path(tempfile.mkdtemp(prefix="kabar-question-path-"))
    try:
        small = data_dir_with_model(work / "bundled", model_cache)
        env = kabar_env(small, ROOT / "corpus")
        run_measured([KABAR, "index"], env)
        body = ["## 1. Warm `kabar ask` on the bundled corpus (whole process)", "", *warm_asks(env, args.runs), ""]
        print("\n".join(body), flush=True)

        large = data_dir_with_model(work / "large", model_cache)
        base, _, (alpha, _) = corpus.benchmark_vectors(0, embedder=embedder)
        snapshot(large / "index", embedder, base, alpha, args.passages)
        large_env = kabar_env(large, work / "no-corpus")
        serve = [
            "| index | runtime | ready s (median) | min–max | first answer ms | RSS MB after it | peak RSS MB |",
            "|---|---|---|---|---|---|---|",
            *serve_rows("bundled corpus", env, args.serve_runs),
            *serve_rows(f"{args.passages:,} passages", large_env, args.serve_runs),
        ]
        engine = engine_rows(large, corpus.questions(args.questions + 5, seed=3))
        print("\n".join(engine), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    body += [
        f"## 2. `kabar serve` on an existing index: start → first getUpdates, median of {args.serve_runs}",
        "",
        *serve,
        "",
        f"## 3. Engine.ask at {args.passages:,} passages, in one process (checker included)",
        "",
        *engine,
    ]
    write_results(args.out, head, body, title="The question path without torch (bench/question_path.py)")


def embedder_cache() -> Path:
    from index.settings import get_settings

    return get_settings().model_cache_dir


if __name__ == "__main__":
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    main()
