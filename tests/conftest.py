"""Shared fixtures. The bundled embedding model is converted once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from index.convert import BundledModelUnavailable, ensure_bundled_model


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The converted bundled model; set KABAR_TEST_MODEL_CACHE to keep it between runs."""
    cache = os.environ.get("KABAR_TEST_MODEL_CACHE")
    try:
        return ensure_bundled_model(Path(cache) if cache else tmp_path_factory.mktemp("model"))
    except BundledModelUnavailable as e:
        pytest.skip(str(e))


@pytest.fixture(scope="session")
def answer_checker(model_dir: Path):
    """The shipped answer checker, loaded once; every Engine of the session shares it."""
    from index.checker import shared_checker

    return shared_checker(model_dir.parent)


@pytest.fixture(scope="session")
def st_model(model_dir: Path, answer_checker):
    """The converted model, loaded the way the app loads it: offline, on the CPU."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        yield SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)


# --- the Telegram bot: one real Engine for the session, a fresh Application per test ---------


@pytest.fixture(scope="session")
def bundled_embedder(st_model):
    """The bundled model with the identity the app gives it, so indexes match `kabar index`."""
    from index.convert import BUNDLED_MODEL_ID
    from index.embed import Embedder

    return Embedder(st_model, BUNDLED_MODEL_ID)


@pytest.fixture(scope="session")
def bot_engine(bundled_embedder, tmp_path_factory: pytest.TempPathFactory):
    """A real Engine over a copy of the repo's corpus, built once and shared by the bot tests."""
    import shutil

    from index.engine import Engine
    from index.settings import PROJECT_DIR, Settings

    root = tmp_path_factory.mktemp("kabar")
    shutil.copytree(PROJECT_DIR / "corpus", root / "corpus")
    settings = Settings(_env_file=None, corpus_dir=root / "corpus", data_dir=root / "data")
    return Engine.open(settings, bundled_embedder)


@pytest.fixture
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """RetryAfter.retry_after as a timedelta, without a warning."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def server():
    """A fresh loopback Bot API server (tests/botapi.py) per bot test; test_botapi.py has its own."""
    from botapi import BotAPIServer

    async with BotAPIServer() as srv:
        yield srv


@pytest.fixture(scope="session")
def bot_outbox() -> list[dict]:
    """Every message any test's bot sent (sendMessage/editMessageText params, inline results' texts)."""
    return []


@pytest.fixture
def run_bot(bot_engine, bot_outbox, tmp_path_factory):
    """``async with run_bot(server, engine=None, **settings) as app``: the real Kabar Application
    (``bot.app.build_application``) started the way ``run_polling`` starts it, polling ``server``.

    The bot keeps its state (persistence) in a fresh data dir per run, or in ``data_dir=`` when a test
    restarts the bot on the same state. On exit it stops cleanly and checks what the bot sent while it
    ran: every message is valid Telegram HTML within 4096 characters, and every callback and inline
    query was answered.
    """
    import contextlib
    import datetime as dtm

    from telegram import Update

    from bot.app import build_application

    @contextlib.asynccontextmanager
    async def run(server, engine=None, **settings):
        engine = engine or bot_engine
        state = {"data_dir": tmp_path_factory.mktemp("bot-state")}  # the bot's own state: per run unless given
        update = {"telegram_base_url": server.base_url, **state, **settings}
        settings = engine.settings.model_copy(update=update)
        app = build_application(settings, engine, server.token)
        first_call = len(server.calls())
        await app.initialize()
        await app.post_init(app)
        await app.updater.start_polling(
            poll_interval=0, timeout=dtm.timedelta(seconds=2), allowed_updates=Update.ALL_TYPES
        )
        await app.start()
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()
            await app.shutdown()
        _check_outgoing(server.calls()[first_call:], bot_outbox)

    return run


def _check_outgoing(calls, outbox: list[dict]) -> None:
    from test_format import message_problems

    delivered = [c for c in calls if c.ok]
    for call in delivered:
        if call.method in ("sendMessage", "editMessageText"):
            outbox.append(call.params)
            assert not message_problems(call.params["text"], call.params.get("parse_mode")), call.params
        if call.method == "answerInlineQuery":
            for result in call.params["results"]:
                content = result["input_message_content"]
                outbox.append(content)
                assert not message_problems(content["message_text"], content.get("parse_mode")), result
    updates = [u for c in calls if c.method == "getUpdates" and c.ok for u in c.result]
    answered = {c.params.get("callback_query_id") for c in delivered if c.method == "answerCallbackQuery"}
    answered |= {c.params.get("inline_query_id") for c in delivered if c.method == "answerInlineQuery"}
    for update in updates:
        query = update.get("callback_query") or update.get("inline_query")
        assert query is None or query["id"] in answered, f"update {update['update_id']} was never answered"


@pytest.fixture
def engine_questions(bot_engine, monkeypatch) -> list[str]:
    """The questions the bot put to the shared Engine during one test (it still answers them)."""
    seen: list[str] = []
    ask = bot_engine.ask

    def spy(question, k=None):
        seen.append(question)
        return ask(question, k)

    monkeypatch.setattr(bot_engine, "ask", spy)
    return seen


@pytest.fixture
def fresh_engine(bundled_embedder, bot_engine, tmp_path):
    """A private Engine (a copy of the shared corpus and index) that a test may refresh."""
    import shutil

    from index.engine import Engine

    shutil.copytree(bot_engine.settings.corpus_dir, tmp_path / "corpus")
    shutil.copytree(bot_engine.settings.index_dir, tmp_path / "data" / "index")
    settings = bot_engine.settings.model_copy(update={"corpus_dir": tmp_path / "corpus", "data_dir": tmp_path / "data"})
    return Engine.open(settings, bundled_embedder)
