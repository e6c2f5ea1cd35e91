"""Generated answers through a loopback OpenAI-compatible server (tests/openai_fake.py): the real bot
through the fake Bot API, and the real CLI."""

from __future__ import annotations

import json
import logging

import pytest
from openai_fake import FakeOpenAI
from pydantic import SecretStr
from test_bot import KIM, USER, buttons, plain, replies, settle
from typer.testing import CliRunner

from bot.texts import t

pytestmark = pytest.mark.usefixtures("_ptb_timedelta")  # conftest.py
KEY = "sk-kabar-test-7f3a9c1e5b"
GOOD = "Kim Jong Un menginginkan bantuan, prestise, dan teknologi militer dari Rusia [1]."
UNANSWERABLE = "Siapa juara Piala Dunia 2022?"


@pytest.fixture
def model():
    with FakeOpenAI(GOOD) as fake:
        yield fake


def llm(fake: FakeOpenAI, timeout: float = 5.0) -> dict:
    return {
        "llm_base_url": fake.base_url,
        "llm_model": "kabar-fake",
        "llm_api_key": SecretStr(KEY),
        "llm_timeout": timeout,
    }


def to_user(server) -> list:
    """Every message the user saw arrive or change: sends and edits, in order."""
    return [
        c
        for c in server.calls(ok=True)
        if c.method in ("sendMessage", "editMessageText") and c.params.get("chat_id") == USER
    ]


async def ask(server, run_bot, fake, question: str, timeout: float = 5.0):
    async with run_bot(server, **llm(fake, timeout)):
        update = server.push_update(server.private_text(question))
        [first] = await replies(server, update)
        await settle(server, 1.5)
    return first, to_user(server)


async def test_a_good_reply_is_shown_with_its_numbered_citations(server, run_bot, model, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    _, seen = await ask(server, run_bot, model, KIM)
    final = seen[-1]
    assert plain(final).startswith(GOOD) and "[1] Republika" in plain(final) and buttons(final)
    [request] = model.requests
    system, user = request["body"]["messages"]
    assert "Indonesian" in system["content"] and "[1]" in system["content"]
    assert f"Question: {KIM}" in user["content"] and "[1] Apa yang Diinginkan Korut dan Rusia" in user["content"]
    assert request["headers"]["Authorization"] == f"Bearer {KEY}"  # sent to the server, and only there
    assert KEY not in caplog.text and all(KEY not in json.dumps(c.params) for c in server.calls())


async def test_an_english_question_asks_for_an_english_answer(server, run_bot, model) -> None:
    model.reply = "Kim wants aid, prestige and military technology [1]."
    _, seen = await ask(server, run_bot, model, "What does Kim want in return?")
    assert "English" in model.requests[0]["body"]["messages"][0]["content"]
    assert plain(seen[-1]).startswith("Kim wants aid")


@pytest.mark.parametrize("reply", ["Kim menginginkan teknologi militer [7].", "Kim menginginkan teknologi militer."])
async def test_a_reply_citing_a_passage_not_given_or_none_falls_back_to_the_quote(server, run_bot, model, reply):
    model.reply = reply
    _, seen = await ask(server, run_bot, model, KIM)
    assert "<blockquote" in seen[-1].params["text"] and reply not in plain(seen[-1])
    assert "[1] Republika" not in plain(seen[-1])  # the quoted answer's citations, unnumbered


@pytest.mark.parametrize("failure", ["status", "stall", "drop"])
async def test_a_failing_model_gives_the_quoted_answer_exactly_once(server, run_bot, model, failure) -> None:
    model.reply = "Kim menginginkan " + "bantuan dan teknologi militer " * 10 + "[1]."
    model.delay = 0.05
    if failure == "status":
        model.status = 500
    elif failure == "stall":
        model.stall = 3.0
    else:
        model.drop_after = 8
    _, seen = await ask(server, run_bot, model, KIM, timeout=1.0)
    quoted = [c for c in seen if "<blockquote" in c.params["text"]]
    assert len(quoted) == 1 and "teknologi militer [1]" not in plain(quoted[0])
    sends = [c for c in seen if c.method == "sendMessage"]
    assert len(sends) == 1  # one message: a draft (if any) became the quoted answer


async def test_a_refused_question_never_reaches_the_model(server, run_bot, model) -> None:
    first, _ = await ask(server, run_bot, model, UNANSWERABLE)
    assert plain(first).startswith(t("id", "not_found")) and model.requests == []


async def test_a_streamed_reply_edits_at_most_once_a_second(server, run_bot, model) -> None:
    model.reply = " ".join(f"kalimat{i}" for i in range(60)) + " Kim menginginkan teknologi militer [1]."
    model.delay = 0.06  # ~4 s of streaming
    _, seen = await ask(server, run_bot, model, KIM, timeout=20)
    times = [c.time for c in seen]
    assert len(seen) >= 3 and seen[0].method == "sendMessage"
    assert all(b - a >= 0.95 for a, b in zip(times, times[1:], strict=False)), times
    assert plain(seen[-1]).startswith("kalimat0") and buttons(seen[-1])


def test_the_cli_uses_the_model_unless_told_not_to(model, bot_engine, monkeypatch) -> None:
    from bot.cli import app
    from index.settings import get_settings

    monkeypatch.setenv("KABAR_DATA_DIR", str(bot_engine.settings.data_dir))
    monkeypatch.setenv("KABAR_CORPUS_DIR", str(bot_engine.settings.corpus_dir))
    for key, value in llm(model).items():
        monkeypatch.setenv(
            f"KABAR_{key.upper()}", value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        )
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        generated = json.loads(runner.invoke(app, ["ask", "--json", KIM]).stdout)
        quoted = json.loads(runner.invoke(app, ["ask", "--json", "--no-llm", KIM]).stdout)
        model.status = 500
        failed = json.loads(runner.invoke(app, ["ask", "--json", KIM]).stdout)
        refused = json.loads(runner.invoke(app, ["ask", "--json", UNANSWERABLE]).stdout)
    finally:
        get_settings.cache_clear()
    assert (generated["generated"], generated["answer"], generated["prompt_version"]) == (True, GOOD, "kabar-answer-1")
    assert quoted["generated"] is False and quoted["answer"] != GOOD and quoted["passages"] == generated["passages"]
    assert failed["generated"] is False and failed["answer"] == quoted["answer"]
    assert refused["found"] is False and len(model.requests) == 2  # the generated one and the 500
