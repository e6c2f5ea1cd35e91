"""The bot survives restarts, floods, refresh storms, forged webhooks and hostile links (real PTB stack,
loopback Bot API, loopback news site)."""

from __future__ import annotations

import asyncio
import socket
import time

import httpx
import pytest
from newssite import NewsSite
from test_bot import ADMIN, KIM, USER, buttons, plain, replies, settle
from test_bot_admin import OPEN_FETCH, added_files

from bot.texts import t

pytestmark = pytest.mark.usefixtures("_ptb_timedelta")  # conftest.py
OTHER = 5151


async def test_buttons_and_removal_confirmations_outlive_a_restart(server, run_bot, fresh_engine, tmp_path) -> None:
    state = {"data_dir": tmp_path / "bot-state", "admin_ids": frozenset({ADMIN})}
    async with run_bot(server, engine=fresh_engine, **state):
        question = server.push_update(server.private_text(KIM))
        [answer] = await replies(server, question)
        remove = server.push_update(server.private_text("/remove korut dan rusia", ADMIN))
        [confirm] = await replies(server, remove)
    (_, more), (_, article) = buttons(answer)
    (_, delete), _ = buttons(confirm)

    async with run_bot(server, engine=fresh_engine, **state):  # a new process's worth of bot, same data dir
        server.push_update(server.callback_query(more, answer.result))
        [passages] = await replies(server, answer.result)
        server.push_update(server.callback_query(delete, confirm.result, user_id=USER))  # not an admin
        server.push_update(server.callback_query(delete, confirm.result, user_id=ADMIN))
        await server.wait_for("editMessageText", 2, ok=True, timeout=60)
        server.push_update(server.callback_query(article, answer.result))  # the cited article is gone now
        await settle(server)

    assert passages.params["text"].count("<blockquote") == 3 and "Republika" in passages.params["text"]
    answered = [c.params.get("text") for c in server.calls("answerCallbackQuery", ok=True)]
    assert answered[1] == t("id", "admin_only") and answered[-1] == t("id", "article_removed")
    assert not [a for a in fresh_engine.articles() if a.outlet == "Republika"]


async def test_one_users_flood_is_slowed_and_others_are_answered_meanwhile(server, run_bot, fresh_engine) -> None:
    async with run_bot(server, engine=fresh_engine):
        flood = [server.push_update(server.private_text(f"{KIM} ({i})")) for i in range(100)]
        await asyncio.sleep(1.0)
        other = server.push_update(server.private_text("Kapan Putin mengunjungi Pyongyang?", user_id=OTHER))
        asked = time.monotonic()
        [answer] = await replies(server, other, timeout=30)
        waited = answer.time - asked
        flood += [server.push_update(server.private_text(f"{KIM} [{i}]")) for i in range(100)]
        await settle(server, 1.0)
    to_flooder = [c for c in server.calls("sendMessage", ok=True) if c.params["chat_id"] == USER]
    slow = [c for c in to_flooder if plain(c) == t("id", "slow_down")]
    assert waited < 1.0, waited
    assert len(slow) == 1 and len(to_flooder) < 60  # told once, and most of the flood never asked
    assert len(flood) == 200


async def test_five_refreshes_in_a_row_run_as_at_most_two(server, run_bot, fresh_engine, monkeypatch) -> None:
    runs = []
    refresh = fresh_engine.refresh

    def counted(*args, **kwargs):
        runs.append(1)
        time.sleep(0.5)  # long enough for the other four to arrive meanwhile
        return refresh(*args, **kwargs)

    monkeypatch.setattr(fresh_engine, "refresh", counted)
    async with run_bot(server, engine=fresh_engine, admin_ids=frozenset({ADMIN})):
        updates = [server.push_update(server.private_text("/refresh", ADMIN)) for _ in range(5)]
        for update in updates:
            await replies(server, update, count=2)
    assert 1 <= len(runs) <= 2


async def test_add_refuses_an_internal_link_with_the_setting_off(server, run_bot, fresh_engine) -> None:
    with NewsSite() as site:
        async with run_bot(server, engine=fresh_engine, admin_ids=frozenset({ADMIN})):
            add = server.push_update(server.private_text(f"/add {site.url}/berita/kim-pabrik-amunisi", ADMIN))
            [refused] = await replies(server, add)
    assert "internal address (127.0.0.1)" in plain(refused) and site.hits == [] and added_files(fresh_engine) == []


async def test_two_adds_of_one_title_at_once_are_both_kept(server, run_bot, fresh_engine) -> None:
    text = "/add Harga Beras Naik Lagi\n\nJAKARTA - Harga beras medium naik menjadi Rp{} per kilogram pada Senin."
    async with run_bot(server, engine=fresh_engine, admin_ids=frozenset({ADMIN}), **OPEN_FETCH):
        first = server.push_update(server.private_text(text.format("14.000"), ADMIN))
        second = server.push_update(server.private_text(text.format("15.500"), ADMIN))
        [one], [two] = await replies(server, first, timeout=90), await replies(server, second, timeout=90)
    assert all(plain(r).startswith("Artikel ditambahkan: Harga Beras Naik Lagi") for r in (one, two))
    assert added_files(fresh_engine) == ["harga-beras-naik-lagi-2.md", "harga-beras-naik-lagi.md"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_a_webhook_post_without_the_secret_is_refused(server, bot_engine) -> None:
    from bot.app import build_application, webhook_options

    port = free_port()
    settings = bot_engine.settings.model_copy(
        update={
            "telegram_base_url": server.base_url,
            "webhook_url": f"http://127.0.0.1:{port}/hook",
            "webhook_port": port,
        }
    )
    options = webhook_options(settings)
    assert options["listen"] == "127.0.0.1" and len(options["secret_token"]) >= 32
    assert webhook_options(settings)["secret_token"] != options["secret_token"]  # made afresh at each start
    app = build_application(settings, bot_engine, server.token)
    await app.initialize()
    await app.updater.start_webhook(**options)
    await app.start()
    try:
        [registered] = server.calls("setWebhook")
        assert registered.params["secret_token"] == options["secret_token"]
        forged = {"update_id": 1, "message": server.private_text("/refresh", ADMIN)["message"]}
        async with httpx.AsyncClient() as client:
            refused = await client.post(f"http://127.0.0.1:{port}/hook", json=forged)
            wrong = await client.post(
                f"http://127.0.0.1:{port}/hook", json=forged, headers={"X-Telegram-Bot-Api-Secret-Token": "guess"}
            )
            accepted = await client.post(
                f"http://127.0.0.1:{port}/hook",
                json={"update_id": 2, "message": server.private_text("/help")["message"]},
                headers={"X-Telegram-Bot-Api-Secret-Token": options["secret_token"]},
            )
        assert (refused.status_code, wrong.status_code, accepted.status_code) == (403, 403, 200)
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
