"""The bot under load: many users' questions in bursts, through the loopback Bot API server.

    .venv/bin/python -m bench.bot_load                                        # 500 questions, 50 users
    .venv/bin/python -m bench.bot_load --questions 40 --users 8 --passages 0   # quick check, seed corpus

The real bot (bot.app.build_application, PTB long polling, AIORateLimiter, handlers, the
engine in worker threads) runs against tests/botapi.py, as in bench/bot_latency.py.
Index: `--passages N` real benchmark passages (bench/corpus.write_corpus, one article per
passage) built by the real pipeline (Engine.refresh) and kept in /tmp/kabar-bench/bot-load-N
so later runs only re-embed what changed; `--passages 0` is the bundled seed corpus.
Questions: distinct real benchmark questions (bench/corpus.questions).

Load: `--users` users, each a private chat (chat id = user id); question i comes from user
i mod users. A burst is `--burst` consecutive questions, so `--burst` different users, pushed
into the server at the same instant. Bursts start every `--interval` seconds, whatever the bot
is doing (open loop: users do not wait for other users' answers), so the offered rate is
burst / interval; the default, 10 every 0.5 s, offers exactly the 20 questions/s target: a bot
that sustains it keeps latency flat, one that cannot builds a backlog that shows in p95/p99
(and in the first-vs-last-tenth line). Throughput then cannot exceed the offered rate: it reads
"kept up or not". A user's next question comes users/burst bursts (5 by default) later, whether
or not their previous one was answered. `--interval 0` is closed loop instead: the next
burst as soon as every question of the previous one is answered (this measures capacity, the
throughput the bot reaches without a schedule to keep up with).

Latency is update → reply: from pushing the update to the server receiving the bot's first
sendMessage that replies to that message (chat_id + reply_parameters.message_id); the server runs
on the bot's own event loop, as in the tests. Throughput = answered questions / wall time from
the first update to the last reply. After the last reply the server keeps listening for `--grace`
seconds; then every question must have exactly one answer: lost = no reply; duplicated = a reply
text repeated for the same question (a second run of the handler; a long answer split into parts
is one answer). Engine.ask is wrapped to split each question's latency into waiting (polling,
dispatch, typing action, worker-thread queue), the engine, and sending.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

os.environ.setdefault("PTB_TIMEDELTA", "true")

from bench import corpus  # noqa: E402
from bench.bot_latency import percentile, run_bot, stop_bot  # noqa: E402  (the same bot start-up and ranks)
from bench.common import ROOT, header, write_results  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))
from botapi import BotAPIServer, Call  # noqa: E402

from bot.texts import t  # noqa: E402
from index.embed import load_embedder  # noqa: E402
from index.engine import Engine  # noqa: E402
from index.settings import Settings  # noqa: E402

TARGET_P50_MS = 100
TARGET_QPS = 20
FIRST_USER = 5_000_001
WARMUP_USER = 4_999_999
SORRY = {t(language, "sorry") for language in ("id", "en")}


@dataclass
class Question:
    index: int
    text: str
    user: int
    burst: int
    update_id: int = 0
    message_id: int = 0
    pushed: float = 0.0
    replies: list[Call] = field(default_factory=list)
    asks: list[tuple[float, float]] = field(default_factory=list)  # (start, end) of Engine.ask, monotonic

    @property
    def key(self) -> tuple[int, int]:
        return self.user, self.message_id

    @property
    def answered(self) -> float | None:
        ok = [c.time for c in self.replies if c.ok]
        return min(ok) if ok else None


def ms_summary(values: list[float]) -> str:
    if not values:
        return "-"
    ms = [v * 1000 for v in values]
    return " / ".join(f"{percentile(ms, s):.0f}" for s in (0.5, 0.95, 0.99)) + f" (max {max(ms):.0f})"


def pick_questions(n: int, max_chars: int) -> list[str]:
    """n distinct real questions, as the handler will pass them to Engine.ask (so they can be matched)."""
    seen, out = set(), []
    for question in corpus.questions():
        text = " ".join(question.split())[:max_chars]
        if text and text not in seen and not text.startswith("/"):
            seen.add(text)
            out.append(text)
        if len(out) == n:
            return out
    raise SystemExit(f"only {len(out)} distinct benchmark questions; asked for {n}")


def prepare_index(passages: int, stack: contextlib.ExitStack, embedder) -> tuple[Engine, str]:
    if passages:
        base = corpus.CACHE / f"bot-load-{passages}"
        corpus_dir, data_dir = corpus.write_corpus(base / "corpus", passages), base / "data"
        what = f"{passages} benchmark passages (one article each, index cached in {base})"
    else:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kabar-bot-load-")))
        corpus_dir, data_dir = tmp / "corpus", tmp / "data"
        shutil.copytree(ROOT / "corpus", corpus_dir)
        what = "the bundled seed corpus"
    settings = Settings(_env_file=None, corpus_dir=corpus_dir, data_dir=data_dir)
    engine = Engine(settings, embedder)
    started = time.perf_counter()
    try:
        report = engine.refresh(progress=True)  # the first run embeds every passage: minutes on 2 cores
    except Exception as exc:  # an index cached by an older format: start over
        print(f"cached index unusable ({exc}); rebuilding", flush=True)
        report = engine.refresh(rebuild=True)
    snapshot = engine.snapshot
    line = (
        f"index: {what}: {len(snapshot.articles)} articles, {len(snapshot.passages)} passages "
        f"({report.embedded} embedded now, {time.perf_counter() - started:.0f}s)"
    )
    print(line, flush=True)
    return engine, line


def engine_baseline(engine: Engine, warmup: list[str], baseline: list[str]) -> list[float]:
    """Engine.ask alone, one question at a time, in a worker thread as in the bot (on the main
    thread torch's two intra-op threads are many times slower when the cores are busy)."""
    for text in warmup:  # the first questions after loading pay for lazy loads
        engine.ask(text, 10)
    times = []
    for text in baseline:
        started = time.perf_counter()
        engine.ask(text, 10)
        times.append(time.perf_counter() - started)
    return times


class EngineProbe:
    """Wraps engine.ask (the bot calls it in worker threads): when each question ran, and how many at once."""

    def __init__(self, engine: Engine):
        self.lock = threading.Lock()
        self.running = self.peak = 0
        self.spans: dict[str, list[tuple[float, float]]] = {}
        self.threads: set[int] = set()
        inner = engine.ask

        def ask(question, k=None):
            start = time.monotonic()
            with self.lock:
                self.running += 1
                self.peak = max(self.peak, self.running)
                self.threads.add(threading.get_ident())
            try:
                return inner(question, k)
            finally:
                end = time.monotonic()
                with self.lock:
                    self.running -= 1
                    self.spans.setdefault(question, []).append((start, end))

        engine.ask = ask


class ErrorLog(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.name}: {record.getMessage()}"[:200])


def reply_key(call: Call) -> tuple[int, int | None]:
    target = call.params.get("reply_parameters") or {}
    return call.params.get("chat_id"), target.get("message_id") or call.params.get("reply_to_message_id")


class Load:
    """Pushes the bursts and follows every sendMessage as it reaches the server."""

    def __init__(self, server: BotAPIServer, questions: list[Question], args):
        self.server, self.questions, self.args = server, questions, args
        self.by_key: dict[tuple[int, int], Question] = {}
        self.unmatched: list[Call] = []
        self.seen = len(server.calls("sendMessage"))  # the warm-up's replies are not ours to count
        self.pending = len(questions)
        self.last_event = time.monotonic()
        self.changed = asyncio.Event()
        self.peak_outstanding = 0
        self.pushed = 0

    async def follow(self) -> None:
        """One task reads the server's sendMessage log incrementally (cheap on the shared loop)."""
        while True:
            try:
                found = await self.server.wait_for("sendMessage", self.seen + 1, 3600)
            except AssertionError:
                continue
            for call in found[self.seen :]:
                question = self.by_key.get(reply_key(call))
                if question is None:
                    self.unmatched.append(call)
                    continue
                if call.ok and question.answered is None:
                    self.pending -= 1
                question.replies.append(call)
            self.seen = len(found)
            self.last_event = time.monotonic()
            self.changed.set()
            self.changed = asyncio.Event()

    def push(self, question: Question) -> None:
        update = self.server.push_update(self.server.private_text(question.text, user_id=question.user))
        question.pushed = time.monotonic()
        question.update_id, question.message_id = update["update_id"], update["message"]["message_id"]
        self.by_key[question.key] = question
        self.pushed += 1
        self.peak_outstanding = max(self.peak_outstanding, self.pushed - (len(self.questions) - self.pending))
        self.last_event = question.pushed

    async def until(self, done) -> bool:
        """Wait until done() holds; False when no reply arrived for --timeout seconds."""
        while not done():
            if time.monotonic() - self.last_event > self.args.timeout:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), 1)
        return True

    async def run(self) -> tuple[float, float, float]:
        """(first push, last reply, worst lag of a burst behind its schedule), monotonic seconds."""
        follower = asyncio.create_task(self.follow())
        bursts = [self.questions[i : i + self.args.burst] for i in range(0, len(self.questions), self.args.burst)]
        lag = 0.0
        try:
            start = time.monotonic()
            for number, burst in enumerate(bursts):
                if self.args.interval > 0:
                    due = start + number * self.args.interval
                    await asyncio.sleep(max(0.0, due - time.monotonic()))
                    lag = max(lag, time.monotonic() - due)
                elif number and not await self.until(lambda b=bursts[number - 1]: all(q.answered for q in b)):
                    print(f"burst {number - 1} stalled: no reply for {self.args.timeout}s", flush=True)
                    break
                for question in burst:  # no await in between: the whole burst arrives at once
                    self.push(question)
                print(f"burst {number + 1}/{len(bursts)} pushed; {self.pending} unanswered", flush=True)
            if not await self.until(lambda: self.pending == 0):
                print(f"stalled: no reply for {self.args.timeout}s, {self.pending} unanswered", flush=True)
            answered = [q.answered for q in self.questions if q.answered]
            end = max(answered) if answered else time.monotonic()
            await asyncio.sleep(self.args.grace)  # late duplicates would arrive now
            await asyncio.sleep(0)
        finally:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
        # the follower may have been cancelled before reading the last calls: read them once more
        for call in self.server.calls("sendMessage")[self.seen :]:
            question = self.by_key.get(reply_key(call))
            (question.replies if question else self.unmatched).append(call)
        return start, end, lag


def thread_settings(app, probe: EngineProbe) -> list[str]:
    import torch

    try:
        import faiss

        faiss_threads = str(faiss.omp_get_max_threads())
    except Exception:
        faiss_threads = "?"
    loop = asyncio.get_running_loop()
    executor = getattr(loop, "_default_executor", None)
    workers = getattr(executor, "_max_workers", None) or min(32, (os.cpu_count() or 1) + 4)
    limiter = getattr(app.bot.rate_limiter, "_base_limiter", None)
    overall = f"{limiter.max_rate:g} per {limiter.time_period:g}s" if limiter else "none"
    env = ", ".join(f"{k}={os.environ.get(k, '-')}" for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"))
    return [
        f"- PTB concurrent updates: {app.update_processor.max_concurrent_updates}; "
        f"rate limiter (all chat requests but typing): {overall}",
        f"- worker threads for `asyncio.to_thread(engine.ask)` (the loop's default executor): {workers}; "
        f"used {len(probe.threads)}, at most {probe.peak} questions inside Engine.ask at once",
        f"- torch threads: {torch.get_num_threads()} intra-op, {torch.get_num_interop_threads()} inter-op; "
        f"faiss OpenMP threads: {faiss_threads}; {env}; cores: {os.cpu_count()}",
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=500)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--burst", type=int, default=10, help="questions (from as many users) arriving at once")
    parser.add_argument(
        "--interval", type=float, default=0.5, help="seconds between bursts; 0 = next burst when the last is answered"
    )
    parser.add_argument("--passages", type=int, default=2000, help="benchmark passages indexed; 0 = seed corpus")
    parser.add_argument("--baseline", type=int, default=20, help="questions timed on the engine alone first")
    parser.add_argument("--timeout", type=float, default=120, help="give up after this long without a reply")
    parser.add_argument("--grace", type=float, default=3, help="seconds to listen for duplicates at the end")
    parser.add_argument("--out", default="bot_load", help="bench/results/<out>.md")
    args = parser.parse_args()
    if args.burst > args.users:
        print(f"--burst {args.burst} > --users {args.users}: bursts of {args.users}", flush=True)
        args.burst = args.users
    if min(args.questions, args.users, args.burst) < 1:
        parser.error("--questions, --users and --burst must be positive")

    head = header()
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in ("python-telegram-bot", "httpx", "aiolimiter"))
    print(f"- {versions}", flush=True)
    head.append(f"- {versions}")
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)

    with contextlib.ExitStack() as stack:
        started = time.perf_counter()
        defaults = Settings(_env_file=None)
        embedder = load_embedder(defaults.embedding_model, defaults.model_cache_dir)
        print(f"model loaded in {time.perf_counter() - started:.1f}s", flush=True)
        engine, index_line = prepare_index(args.passages, stack, embedder)
        texts = pick_questions(args.questions + args.baseline + 3, engine.settings.max_question_chars)
        measured, baseline, warmup = texts[: args.questions], texts[args.questions : -3], texts[-3:]

        engine_alone = await asyncio.to_thread(engine_baseline, engine, warmup, baseline)
        if engine_alone:
            print(f"engine alone, one at a time (p50/p95/p99 ms): {ms_summary(engine_alone)}", flush=True)

        questions = [Question(i, text, FIRST_USER + i % args.users, i // args.burst) for i, text in enumerate(measured)]
        async with BotAPIServer() as server:
            app = await run_bot(server, engine)
            try:
                for text in warmup:  # the first requests open connections and start the worker threads
                    update = server.push_update(server.private_text(text, user_id=WARMUP_USER))
                    key = (WARMUP_USER, update["message"]["message_id"])
                    await server.wait_for("sendMessage", 1, args.timeout, lambda c, k=key: reply_key(c) == k)
                probe = EngineProbe(engine)
                load = Load(server, questions, args)
                first, last, lag = await load.run()
                settings_lines = thread_settings(app, probe)
            finally:
                await stop_bot(app)
            # Shutdown's last getUpdates ends the pending long poll with a 409: expected, not a failure.
            failed = [c for c in server.calls(ok=False) if c.method != "getUpdates"]
            delivered = Counter(u["update_id"] for c in server.calls("getUpdates", ok=True) for u in (c.result or []))

    for question in questions:
        question.asks = probe.spans.get(question.text, [])
    answered = [q for q in questions if q.answered is not None]
    lost = [q for q in questions if q.answered is None]
    duplicated = [q for q in answered if max(Counter(c.params.get("text") for c in q.replies if c.ok).values()) > 1]
    ran_twice = [q for q in questions if len(q.asks) > 1]
    error_replies = [q for q in questions if any(c.params.get("text", "").strip() in SORRY for c in q.replies)]
    multipart = [q for q in answered if len({c.params.get("text") for c in q.replies if c.ok}) > 1]
    ids = [q.update_id for q in questions]
    keys = [q.key for q in questions]
    redelivered = sum(delivered[i] - 1 for i in ids if delivered[i] > 1)
    undelivered = sum(1 for i in ids if not delivered[i])

    latency = [q.answered - q.pushed for q in answered]
    wall = last - first
    throughput = len(answered) / wall if wall > 0 else 0.0
    p50_ms = percentile(latency, 0.5) * 1000 if latency else float("nan")
    with_spans = [q for q in answered if q.asks]
    waiting = [q.asks[0][0] - q.pushed for q in with_spans]
    inside = [q.asks[0][1] - q.asks[0][0] for q in with_spans]
    sending = [q.answered - q.asks[0][1] for q in with_spans]
    tenth = max(1, len(questions) // 10)
    early = [q.answered - q.pushed for q in questions[:tenth] if q.answered]
    late = [q.answered - q.pushed for q in questions[-tenth:] if q.answered]
    bursts = (len(questions) + args.burst - 1) // args.burst
    if args.interval > 0:
        schedule = (
            f"open loop: a burst of {args.burst} every {args.interval:g} s "
            f"= {args.burst / args.interval:g} questions/s offered (worst burst {lag * 1000:.0f} ms behind schedule)"
        )
    else:
        schedule = f"closed loop: a burst of {args.burst} as soon as the previous burst was answered"

    lines = [
        f"- {index_line}",
        f"- load: {len(questions)} distinct benchmark questions from {args.users} users (private chats), "
        f"{bursts} bursts, {schedule}",
        f"- engine alone, one question at a time (`Engine.ask`, {len(engine_alone)} other questions), "
        f"p50 / p95 / p99 ms: {ms_summary(engine_alone)}",
        "",
        "| figure | value | target |",
        "|---|---|---|",
        f"| update → reply p50 / p95 / p99 ms | {ms_summary(latency)} | p50 ≤ {TARGET_P50_MS} ms "
        f"({'met' if p50_ms <= TARGET_P50_MS else 'not met'}) |",
        f"| throughput (answered / first update → last reply) | {throughput:.2f} questions/s "
        f"({len(answered)} in {wall:.1f} s) | ≥ {TARGET_QPS} /s ({'met' if throughput >= TARGET_QPS else 'not met'}) |",
        f"| update → reply, first / last {tenth} questions, p50 ms | "
        f"{percentile(early, 0.5) * 1000 if early else float('nan'):.0f} / "
        f"{percentile(late, 0.5) * 1000 if late else float('nan'):.0f} | flat = no backlog |",
        f"| most questions outstanding at once | {load.peak_outstanding} | |",
        f"| where it goes, p50 / p95 / p99 ms: waiting (poll, dispatch, typing, thread queue) | "
        f"{ms_summary(waiting)} | |",
        f"| … inside `Engine.ask` (embedder lock included) | {ms_summary(inside)} | |",
        f"| … after it (HTML, rate limiter, sendMessage) | {ms_summary(sending)} | |",
        "",
        f"- proof: {len(questions)} questions, {len(set(ids))} distinct update_ids, "
        f"{len(set(keys))} distinct (chat, message_id); answered {len(answered)}, "
        f"**lost={len(lost)} duplicated={len(duplicated)}**; Engine.ask ran twice for {len(ran_twice)}; "
        f"updates never fetched by getUpdates {undelivered}, fetched again {redelivered}",
        f'- error replies ("sorry"): {len(error_replies)}; answers in more than one message: {len(multipart)}; '
        f"replies matching no question: {len(load.unmatched)}; failed Bot API calls: {len(failed)} "
        f"{sorted(Counter(f'{c.method} {c.error_code}' for c in failed).items()) or ''}".rstrip(),
        f"- logged errors: {len(errors.records)} {errors.records[:3] or ''}".rstrip(),
        *settings_lines,
        f"- load average at the end: {os.getloadavg()[0]:.2f}",
    ]
    print("\n".join(lines), flush=True)
    body = [
        "The real bot (PTB long polling, rate limiter, handlers, engine in worker threads) against the",
        "loopback Bot API server of the tests (`tests/botapi.py`, on the bot's event loop). Latency is from",
        "pushing a private text update to the server receiving the bot's first `sendMessage` replying to it.",
        "Targets: bot p50 ≤ 100 ms over loopback, ≥ 20 questions/s sustained (reported, not asserted).",
        "See the docstring of `bench/bot_load.py` for how users and bursts are simulated.",
        "",
        *lines,
    ]
    write_results(args.out, head, body, title="Bot under load")


if __name__ == "__main__":
    asyncio.run(main())
