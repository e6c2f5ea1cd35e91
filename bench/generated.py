"""Generated answers through the fakes: time to the first visible text, total reply time, prompt size.

The real bot (PTB long polling, handlers, engine) answers questions from the bundled corpus through the
loopback Bot API (tests/botapi.py), its answers worded by a loopback OpenAI-compatible server
(tests/openai_fake.py) that streams a 40-word reply, one word every `--word-delay` seconds, as a model
on a local server might. Per question: update → first message (the draft), update → last edit (the
checked answer with citations and buttons), and the prompt's size in tokens of the bundled encoder's
tokenizer (a proxy: the server's own tokenizer decides what it bills) and in words.

    .venv/bin/python -m bench.generated
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys

os.environ.setdefault("PTB_TIMEDELTA", "true")

from bench.bot_latency import QUESTIONS, run_bot, stop_bot  # noqa: E402
from bench.common import ROOT, header, write_results  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))
from botapi import BotAPIServer  # noqa: E402
from openai_fake import FakeOpenAI  # noqa: E402
from pydantic import SecretStr  # noqa: E402

from index.engine import Engine  # noqa: E402
from index.settings import Settings  # noqa: E402

REPLY = " ".join(["Menurut artikel itu, Kim menginginkan bantuan pangan, prestise dan teknologi militer [1]."] * 3)


async def measure(engine: Engine, questions: list[str], delay: float) -> dict:
    rows = []
    with FakeOpenAI(REPLY) as model:
        model.delay = delay
        llm = {"llm_base_url": model.base_url, "llm_model": "fake", "llm_api_key": SecretStr("sk-bench")}
        engine.settings = engine.settings.model_copy(update=llm)
        async with BotAPIServer() as server:
            app = await run_bot(server, engine)
            try:
                for question in questions:
                    update = server.push_update(server.private_text(question))
                    pushed = asyncio.get_running_loop().time()
                    before = len(model.requests)
                    chat = update["message"]["chat"]["id"]
                    await server.wait_for(
                        "sendMessage",
                        predicate=lambda c, chat=chat, t=pushed: c.params.get("chat_id") == chat and c.time >= t,
                    )
                    await asyncio.sleep(len(REPLY.split()) * delay + 3)  # the stream ends, the last edit lands
                    seen = [
                        c
                        for c in server.calls(ok=True)
                        if c.method in ("sendMessage", "editMessageText") and c.time >= pushed
                    ]
                    generated = len(model.requests) > before
                    rows.append(
                        {
                            "first": seen[0].time - pushed,
                            "last": seen[-1].time - pushed,
                            "edits": len(seen),
                            "generated": generated,
                            "prompt": model.prompt() if generated else "",
                        }
                    )
            finally:
                await stop_bot(app)
    return {"rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--word-delay", type=float, default=0.05)
    parser.add_argument("--out", default="generated")
    args = parser.parse_args()

    head = header()
    settings = Settings(_env_file=None, corpus_dir=ROOT / "corpus")
    engine = Engine.open(settings)
    questions = [q for q in QUESTIONS if engine.ask(q).found][: args.questions]
    rows = asyncio.run(measure(engine, questions, args.word_delay))["rows"]
    used = [r for r in rows if r["generated"]]
    from tokenizers import Tokenizer

    from index.convert import ensure_bundled_model

    tokenizer = Tokenizer.from_file(str(ensure_bundled_model(settings.model_cache_dir) / "tokenizer.json"))
    tokens = [len(tokenizer.encode(r["prompt"]).ids) for r in used]
    words = [len(r["prompt"].split()) for r in used]
    reply_tokens = len(tokenizer.encode(REPLY).ids)
    body = [
        f"{len(rows)} answerable questions (bench/bot_latency.py's list, those the checker answers), one at a time; "
        f"the fake model streams {len(REPLY.split())} words, one every {args.word_delay * 1000:.0f} ms.",
        "",
        "| figure | median | min | max |",
        "|---|---|---|---|",
        *(
            f"| {name} | {statistics.median(v):.2f} | {min(v):.2f} | {max(v):.2f} |"
            for name, v in (
                ("update → first visible text (the draft), s", [r["first"] for r in used]),
                ("update → last edit (checked answer, citations, buttons), s", [r["last"] for r in used]),
                ("messages sent or edited per answer", [r["edits"] for r in used]),
                ("prompt, tokens (bundled encoder's tokenizer)", tokens),
                ("prompt, words", words),
            )
        ),
        "",
        f"The reply: {reply_tokens} tokens. {len(used)} of {len(rows)} questions reached the model.",
    ]
    print("\n".join(body))
    write_results(args.out, head, body, title="Generated answers through the fakes (bench/generated.py)")


if __name__ == "__main__":
    main()
