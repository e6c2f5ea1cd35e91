"""Update → reply latency of the real bot: loopback Bot API + real PTB stack + real engine.

For each of 50 private questions: the time from pushing the update into the fake
server (tests/botapi.py) to the bot's sendMessage arriving there. That covers long
polling, PTB's dispatch, the typing action, the engine (embedding + search +
answer) in a worker thread, HTML packing and the HTTP round trip. The engine alone
is timed on the same questions, so the bot's own overhead is the difference.
Then the same 50 questions arrive at once from 50 users (a burst).

    .venv/bin/python -m bench.bot_latency
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import os
import shutil
import statistics
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

os.environ.setdefault("PTB_TIMEDELTA", "true")

from bench.common import ROOT, header, write_results  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))
from botapi import BotAPIServer  # noqa: E402
from telegram import Update  # noqa: E402

from bot.app import build_application  # noqa: E402
from index.embed import load_embedder  # noqa: E402
from index.engine import Engine  # noqa: E402
from index.settings import Settings  # noqa: E402

QUESTIONS = [
    "Apa yang diinginkan Kim Jong Un sebagai imbalannya?",
    "Kapan Putin berkunjung ke Pyongyang?",
    "Apa yang diinginkan Rusia dari Korea Utara?",
    "Kapan terakhir kali Putin mengunjungi Korea Utara?",
    "Siapa Menteri Pertahanan Rusia yang berkunjung ke Pyongyang?",
    "Apa yang diminta Shoigu dari Kim?",
    "Kapan Kim dan Putin pertama kali bertemu?",
    "Mengapa Rusia membutuhkan amunisi?",
    "Apa yang dikhawatirkan Amerika Serikat dan Korea Selatan?",
    "Teknologi apa yang diinginkan Korea Utara dari Rusia?",
    "Apakah Rusia akan memberikan teknologi nuklir kepada Korut?",
    "Apa prioritas Kim menurut pengamat?",
    "Mengapa ekonomi Korea Utara dalam krisis?",
    "Kapan Korea Utara menutup perbatasannya?",
    "Apa yang dimaksud dengan perjanjian baru antara Rusia dan Korea Utara?",
    "Berapa lama sejak kunjungan Putin sebelumnya ke Korea Utara?",
    "Apa kata Nam Sung-wook tentang kesepakatan itu?",
    "Apakah Moskow dan Pyongyang akan mengadakan latihan militer bersama?",
    "Senjata apa yang ingin dibangun Kim?",
    "Mengapa Putin memilih pergi ke Pyongyang sekarang?",
    "Siapa yang memimpin Korea Utara saat Putin berkunjung tahun 2000?",
    "Apa peran Cina dalam hubungan Rusia dan Korea Utara?",
    "Bagaimana tanggapan Korea Selatan atas kunjungan Putin?",
    "Apa tujuan propaganda pertemuan Kim dengan pemimpin dunia?",
    "Apa yang terjadi setelah diplomasi nuklir Kim dengan Trump gagal?",
    "Apakah kerja sama militer Rusia dan Korea Utara akan berlanjut?",
    "Apa isi kerja sama trilateral Korea Selatan, AS dan Jepang?",
    "Mengapa persediaan senjata Rusia habis?",
    "Apakah Korea Utara memasok amunisi untuk perang di Ukraina?",
    "Kapan kunjungan Putin ke Korea Utara diperkirakan terjadi?",
    "What does Kim want in return?",
    "When will Putin visit Pyongyang?",
    "What does Russia want from North Korea?",
    "Why does Russia need ammunition?",
    "What technology does North Korea want?",
    "When did North Korea close its borders?",
    "Who is Sergei Shoigu?",
    "Are Russia and North Korea planning military exercises?",
    "What worries the United States about the meeting?",
    "When did Kim and Putin first meet?",
    "kapan?",
    "Rusia",
    "Kim Jong Un",
    "amunisi untuk Ukraina",
    "Siapa juara Piala Dunia 2022?",
    "Berapa harga beras di Jakarta hari ini?",
    "Apa ibu kota Australia?",
    "Bagaimana cuaca di Bandung besok?",
    "Siapa presiden Indonesia pada tahun 2024?",
    "Apa yang dibahas Putin dan Kim soal satelit mata-mata?",
]
assert len(QUESTIONS) == 50 and len(set(QUESTIONS)) == 50


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def summary(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (
        f"median {statistics.median(ms):.0f} ms, p95 {percentile(ms, 0.95):.0f} ms, "
        f"min {min(ms):.0f} ms, max {max(ms):.0f} ms"
    )


async def run_bot(server: BotAPIServer, engine: Engine):
    settings = engine.settings.model_copy(update={"telegram_base_url": server.base_url})
    app = build_application(settings, engine, server.token)
    await app.initialize()
    await app.post_init(app)
    await app.updater.start_polling(
        poll_interval=0, timeout=dtm.timedelta(seconds=10), allowed_updates=Update.ALL_TYPES
    )
    await app.start()
    return app


async def stop_bot(app) -> None:
    await app.updater.stop()
    await app.stop()
    await app.shutdown()


def reply_to(server: BotAPIServer, update: dict):
    message = update["message"]

    def match(call) -> bool:
        target = call.params.get("reply_parameters") or {}
        return call.params["chat_id"] == message["chat"]["id"] and target.get("message_id") == message["message_id"]

    return match


async def ask(server: BotAPIServer, question: str, user_id: int) -> float:
    update = server.push_update(server.private_text(question, user_id=user_id))
    pushed = time.monotonic()
    [reply] = await server.wait_for("sendMessage", 1, 120, reply_to(server, update), ok=True)
    return reply.time - pushed


async def main() -> None:
    head = header()
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in ("python-telegram-bot", "httpx", "aiolimiter"))
    print(f"- {versions}", flush=True)
    head.append(f"- {versions}")

    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(ROOT / "corpus", Path(tmp, "corpus"))
        settings = Settings(_env_file=None, corpus_dir=Path(tmp, "corpus"), data_dir=Path(tmp, "data"))
        started = time.perf_counter()
        embedder = load_embedder("bundled", Settings(_env_file=None).model_cache_dir)
        engine = Engine.open(settings, embedder)
        print(f"model + index ready in {time.perf_counter() - started:.1f}s", flush=True)

        async with BotAPIServer() as server:
            app = await run_bot(server, engine)
            try:
                for question in QUESTIONS[:3]:  # warm-up: first requests open connections
                    await ask(server, question, 900)
                sequential, engine_times = [], []
                for i, question in enumerate(QUESTIONS):  # interleaved, so both see the same machine load
                    t0 = time.perf_counter()
                    await asyncio.to_thread(engine.ask, question, 10)
                    engine_times.append(time.perf_counter() - t0)
                    engine.forget_answers()  # the bot answers it afresh, not from the engine's cache
                    sequential.append(await ask(server, question, 1000 + i))
                engine.forget_answers()
                t0 = time.monotonic()
                asks = asyncio.gather(*(ask(server, q, 2000 + i) for i, q in enumerate(QUESTIONS)))
                await asyncio.sleep(1)  # the burst is queued behind the model by now
                help_update = server.push_update(server.private_text("/help", user_id=3000))
                help_pushed = time.monotonic()
                is_help = lambda c: c.params["chat_id"] == help_update["message"]["chat"]["id"]  # noqa: E731
                [help_reply] = await server.wait_for("sendMessage", 1, 120, is_help, ok=True)
                help_latency = help_reply.time - help_pushed
                burst = await asks
                burst_wall = time.monotonic() - t0
            finally:
                await stop_bot(app)
            # Shutdown's last getUpdates ends the pending long poll with a 409: expected, not a failure.
            failed = [f"{c.method} {c.error_code}" for c in server.calls(ok=False) if c.method != "getUpdates"]

    overhead = [b - e for b, e in zip(sequential, engine_times, strict=True)]
    lines = [
        f"- 50 questions, one at a time (update → reply): {summary(sequential)}",
        f"- the engine alone (`Engine.ask`, same questions): {summary(engine_times)}",
        f"- so the bot's own overhead (polling, dispatch, typing, HTTP): {summary(overhead)}",
        f"- 50 questions at once from 50 users: {summary(burst)}; all answered in {burst_wall:.1f}s",
        f"- a /help sent 1 s into that burst was answered in {help_latency * 1000:.0f} ms",
        f"- failed Bot API calls: {len(failed)} {failed or ''}".rstrip(),
    ]
    print("\n".join(lines), flush=True)
    body = [
        "Update → reply latency of the real bot over the loopback Bot API server (`tests/botapi.py`):",
        "from pushing a private text update to the bot's `sendMessage` arriving at the server;",
        "long polling, PTB dispatch, the typing action, the engine in a worker thread, HTML and HTTP included.",
        "",
        *lines,
        "",
        "In the burst, answers queue behind the one model (the embedder is shared and locked; about one",
        "answer per engine time), while the event loop stays free: a command sent meanwhile is not held up.",
    ]
    write_results("bot_latency", head, body, title="Bot latency")


if __name__ == "__main__":
    asyncio.run(main())
