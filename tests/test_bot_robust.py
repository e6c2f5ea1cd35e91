"""The real Kabar bot under bad input and a bad network: it stays up, stays polite, stays quiet in logs."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from botapi import DEFAULT_GROUP_ID, DEFAULT_USER_ID
from test_bot import KIM, buttons, plain, replies, sent_to, settle

from bot.app import TokenMalformed, check_token
from bot.format import to_plain
from bot.texts import EXAMPLES, t
from index.settings import Settings

GROUP, USER = DEFAULT_GROUP_ID, DEFAULT_USER_ID
REAL_LOOKING_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
pytestmark = pytest.mark.usefixtures("_ptb_timedelta")  # conftest.py


# --- bad input -------------------------------------------------------------------------------


async def test_non_text_and_empty_messages_get_a_hint_and_the_rest_silence(server, run_bot, engine_questions) -> None:
    async with run_bot(server):
        earlier = server.push_update(server.private_text(KIM))
        [_] = await replies(server, earlier)
        hinted = [
            server.push_update(server.sticker()),
            server.push_update(server.photo()),
            server.push_update(server.photo(caption="Apa yang diinginkan Kim?")),
            server.push_update(server.voice()),
            server.push_update(server.document("artikel.txt", b"Berita baru.", "text/plain")),
        ]
        no_words = [
            server.push_update(server.private_text("   \n\t  ")),
            server.push_update(server.private_text("🤔🙏🔥")),
            server.push_update(server.private_text("?!… — ...")),
        ]
        silent = [
            server.push_update(server.edited_message(earlier, "Kapan Putin berkunjung ke Pyongyang?")),
            server.push_update(server.channel_post(f"/ask {KIM}")),
            server.push_update(server.channel_post("@kabar_test_bot halo")),
            server.push_update(server.sticker(chat_id=GROUP)),
            server.push_update(server.photo(chat_id=GROUP)),
        ]
        for update in hinted + no_words:
            await replies(server, update)
        await settle(server)

    for update in hinted:
        [reply] = [c for c in server.calls("sendMessage", ok=True) if _replies_to(c, update)]
        assert plain(reply) == t("id", "not_text")
    for update in no_words:
        [reply] = [c for c in server.calls("sendMessage", ok=True) if _replies_to(c, update)]
        assert plain(reply) == t("id", "no_words", example=KIM)
    assert len(sent_to(server, USER)) == 1 + len(hinted) + len(no_words)
    assert sent_to(server, GROUP) == [] and sent_to(server, silent[1]["channel_post"]["chat"]["id"]) == []
    assert engine_questions == [KIM]  # nothing else reached the engine
    assert not server.calls("sendMessage", ok=False)  # and nothing the bot sent was rejected


def _replies_to(call, update) -> bool:
    message = update["message"]
    return (call.params.get("reply_parameters") or {}).get("message_id") == message["message_id"]


async def test_html_like_questions_never_break_the_html(server, run_bot) -> None:
    questions = [
        "<b>Apa</b> yang diinginkan Kim & Putin? </blockquote> &amp; <i>",
        "<script>alert(1)</script> & siapa juara piala dunia 2022?",
        "Apa itu a < b > c && d?",
    ]
    async with run_bot(server):
        updates = [server.push_update(server.private_text(q)) for q in questions]
        answers = [(await replies(server, u))[0] for u in updates]
    assert not server.calls("sendMessage", ok=False)  # Telegram (the strict fake) accepted every one
    assert all(a.params["parse_mode"] == "HTML" for a in answers)


async def test_a_2000_character_question_is_cut_to_500_and_the_user_is_told(server, run_bot, engine_questions) -> None:
    question = (KIM + " ") * 40
    assert len(question) > 2000
    async with run_bot(server):
        update = server.push_update(server.private_text(question))
        [reply] = await replies(server, update)
    [asked] = engine_questions
    assert len(asked) == 500 and question.startswith(asked)
    assert plain(reply).startswith(t("id", "too_long", limit=500))
    assert "<blockquote" in reply.params["text"]


# --- a bad network ---------------------------------------------------------------------------


async def test_429_on_send_message_is_waited_out_and_delivered_once(server, run_bot) -> None:
    server.fail_next("sendMessage", 429, retry_after=1)
    async with run_bot(server):
        update = server.push_update(server.private_text(KIM))
        [reply] = await replies(server, update)
        await settle(server)
    [refused] = server.calls("sendMessage", ok=False)
    assert refused.error_code == 429
    assert len(server.calls("sendMessage", ok=True)) == 1
    assert reply.time - refused.time >= 1.0  # retry_after honoured
    assert reply.params["text"] == refused.params["text"]


async def test_a_500_is_not_retried_and_the_user_gets_one_apology(server, run_bot) -> None:
    """A 5xx may come after Telegram delivered the message: a retry could send the answer twice."""
    server.fail_next("sendMessage", 500)
    async with run_bot(server):
        update = server.push_update(server.private_text(KIM))
        [apology] = await replies(server, update)
        await settle(server)
    assert [c.error_code for c in server.calls("sendMessage", ok=False)] == [500]
    assert len(server.calls("sendMessage", ok=True)) == 1
    assert plain(apology) == t("id", "sorry")


@pytest.mark.parametrize(
    ("cause", "tries"),
    [(httpx.ConnectError("refused"), 3), (httpx.PoolTimeout("full"), 3), (httpx.ReadError("reset"), 1)],
)
async def test_only_requests_that_never_reached_telegram_are_retried(cause, tries) -> None:
    from telegram.error import NetworkError, TimedOut

    from bot.app import RetryingRateLimiter

    calls = []

    async def send(*args, **kwargs):
        calls.append(1)
        error = TimedOut() if isinstance(cause, httpx.TimeoutException) else NetworkError(f"httpx: {cause}")
        raise error from cause

    limiter = RetryingRateLimiter(max_retries=0)
    await limiter.initialize()
    with pytest.raises(NetworkError):
        await limiter.process_request(send, (), {}, "sendMessage", {"chat_id": 1}, None)
    assert len(calls) == tries


async def test_a_failing_handler_is_logged_apologised_for_and_the_bot_carries_on(
    server, run_bot, bot_engine, monkeypatch, caplog
) -> None:
    ask = bot_engine.ask

    def flaky(question, k=None):
        if "meledak" in question:
            raise RuntimeError("engine exploded")
        return ask(question, k)

    monkeypatch.setattr(bot_engine, "ask", flaky)
    async with run_bot(server):
        bad = server.push_update(server.private_text("Kapan gudang amunisi meledak?"))
        [apology] = await replies(server, bad)
        bad_inline = server.push_update(server.inline_query("meledak"))
        good = server.push_update(server.private_text(KIM))
        [answer] = await replies(server, good)
        await settle(server)

    assert plain(apology) == t("id", "sorry")
    assert "<blockquote" in answer.params["text"]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and r.name == "bot.errors"]
    assert [r.getMessage() for r in errors] == [
        f"error while handling update {bad['update_id']}",
        f"error while handling update {bad_inline['update_id']}",
    ]
    assert all(isinstance(r.exc_info[1], RuntimeError) for r in errors)
    assert "Kapan gudang amunisi" not in caplog.text  # no message text in logs


async def test_html_rejected_by_telegram_is_resent_as_plain_text(server, run_bot) -> None:
    server.fail_next(
        "sendMessage", 400, 'Bad Request: can\'t parse entities: Unsupported start tag "q" at byte offset 9'
    )
    async with run_bot(server):
        update = server.push_update(server.private_text(KIM))
        [reply] = await replies(server, update)
        await settle(server)
    [rejected] = server.calls("sendMessage", ok=False)
    assert "parse_mode" not in reply.params and reply.params["text"] == to_plain(rejected.params["text"])
    assert "<" not in reply.params["text"] and [b for b, _ in buttons(reply)] == [b for b, _ in buttons(rejected)]
    assert len(server.calls("sendMessage", ok=True)) == 1


async def test_one_slow_answer_does_not_block_other_chats(server, run_bot, bot_engine, monkeypatch) -> None:
    ask = bot_engine.ask

    def slow(question, k=None):
        if "lambat" in question:
            time.sleep(1.5)  # in the worker thread, as a slow model would be
        return ask(question, k)

    monkeypatch.setattr(bot_engine, "ask", slow)
    async with run_bot(server):
        slow_update = server.push_update(server.private_text(f"{KIM} lambat", user_id=1001))
        fast_update = server.push_update(server.private_text("/help", user_id=1002))
        [fast] = await server.wait_for(
            "sendMessage", ok=True, timeout=60, predicate=lambda c: c.params["chat_id"] == 1002
        )
        [slow_reply] = await replies(server, slow_update)
    assert fast.time < slow_reply.time and fast_update


# --- restarts, logs, tokens ------------------------------------------------------------------


async def test_after_a_restart_no_update_is_answered_twice(server, run_bot) -> None:
    async with run_bot(server):
        first = server.push_update(server.private_text(KIM))
        await replies(server, first)
    while_down = server.push_update(server.private_text(EXAMPLES["id"][1]))
    async with run_bot(server):
        after = server.push_update(server.private_text("/help"))
        await replies(server, while_down)
        await server.wait_for("sendMessage", 3, ok=True, timeout=60)
        await settle(server, 0.5)
    counts = [len([c for c in server.calls("sendMessage") if _replies_to(c, u)]) for u in (first, while_down)]
    assert counts == [1, 1] and len(server.calls("sendMessage")) == 3 and after


async def test_the_token_never_reaches_the_logs(server, run_bot, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    async with run_bot(server):
        caplog.set_level(logging.INFO, logger="httpx")  # as if someone turned request logging back on
        update = server.push_update(server.private_text(KIM))
        await replies(server, update)
        try:
            raise ConnectionError(f"POST {server.base_url}{server.token}/sendMessage failed")
        except ConnectionError:
            logging.getLogger("somewhere").exception("a library logs a URL: %s", f"/bot{server.token}/getMe")
    assert any("HTTP Request" in r.getMessage() and "/bot<token>/" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        assert server.token not in record.getMessage() and server.token not in (record.exc_text or "")
    assert server.token not in caplog.text


def test_check_token_missing_or_malformed_fails_without_echoing_it() -> None:
    for token in (None, "", "   "):
        with pytest.raises(TokenMalformed, match="not set"):
            check_token(Settings(_env_file=None, TELEGRAM_BOT_TOKEN=token))
    for token in ("999:not-a-real-token-Xq7", "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", REAL_LOOKING_TOKEN + " x"):
        with pytest.raises(TokenMalformed, match="malformed") as error:
            check_token(Settings(_env_file=None, TELEGRAM_BOT_TOKEN=token))
        assert token.strip() not in str(error.value)
    assert check_token(Settings(_env_file=None, TELEGRAM_BOT_TOKEN=f" {REAL_LOOKING_TOKEN}\n")) == REAL_LOOKING_TOKEN


def test_kabar_serve_without_a_token_exits_2_with_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "KABAR_"))}
    env.update(KABAR_DATA_DIR=str(tmp_path / "data"), KABAR_CORPUS_DIR=str(tmp_path / "corpus"))
    kabar = Path(sys.executable).with_name("kabar")
    done = subprocess.run([kabar, "serve"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("TELEGRAM_BOT_TOKEN is not set")
    assert not (tmp_path / "data").exists()  # it stopped before loading anything


def test_kabar_serve_with_a_malformed_token_exits_2_without_printing_it(tmp_path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from bot import cli
    from index.settings import get_settings

    token = "999:not-a-real-token-Xq7"
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", token)
    monkeypatch.setenv("KABAR_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli.app, ["serve"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert line.startswith("TELEGRAM_BOT_TOKEN is malformed") and token not in line and "Xq7" not in line


async def test_commands_in_groups_reply_to_the_asker(server, run_bot) -> None:
    async with run_bot(server):
        update = server.push_update(server.group_text("/sources@kabar_test_bot"))
        [reply] = await replies(server, update)
        await asyncio.sleep(0)
    assert reply.params["chat_id"] == GROUP and "Republika" in plain(reply)


def test_every_message_sent_in_this_session_was_valid_telegram_html(bot_outbox) -> None:
    """Runs after the other bot tests (file order): re-checks all they collected, as one property."""
    from test_format import message_problems

    if not bot_outbox:
        pytest.skip("no bot test ran before this one")
    for params in bot_outbox:
        text = params.get("text", params.get("message_text"))
        assert message_problems(text, params.get("parse_mode")) == [], text[:300]
