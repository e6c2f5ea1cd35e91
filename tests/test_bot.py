"""The real Kabar bot (bot.app.build_application) through the real python-telegram-bot stack,
against the loopback Bot API in botapi.py, answering from one real Engine on the bundled model.

Assertions are on what the bot sent: text, parse mode, chat, reply target, thread, buttons.
The `run_bot` fixture also checks, for every test, that each message was valid Telegram HTML
within 4096 characters and that every callback and inline query got an answer.
"""

from __future__ import annotations

import asyncio

import pytest
from botapi import DEFAULT_GROUP_ID, DEFAULT_USER_ID, BotAPIServer, Call

from bot.format import to_plain
from bot.texts import EXAMPLES, t
from index.engine import Engine

KIM = EXAMPLES["id"][0]  # "Apa yang diinginkan Kim Jong Un sebagai imbalannya?"
RUSSIA = EXAMPLES["id"][2]
GROUP, USER, ADMIN = DEFAULT_GROUP_ID, DEFAULT_USER_ID, 4242
pytestmark = pytest.mark.usefixtures("_ptb_timedelta")  # conftest.py


# --- helpers ---------------------------------------------------------------------------------


def is_reply(call: Call, message: dict) -> bool:
    target = call.params.get("reply_parameters") or {}
    return call.params["chat_id"] == message["chat"]["id"] and target.get("message_id") == message["message_id"]


async def replies(server: BotAPIServer, update: dict, count: int = 1, timeout: float = 60) -> list[Call]:
    """The delivered messages that reply to ``update``'s message (waits for ``count``)."""
    message = update.get("message") or update
    return await server.wait_for("sendMessage", count, timeout, lambda c: is_reply(c, message), ok=True)


async def settle(server: BotAPIServer, seconds: float = 0.4) -> None:
    """Let the bot fetch and handle everything pushed so far (for asserting silence)."""
    for _ in range(100):
        if not server.pending_updates:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(seconds)


def buttons(call: Call) -> list[tuple[str, str]]:
    rows = (call.params.get("reply_markup") or {}).get("inline_keyboard", [])
    return [(b["text"], b["callback_data"]) for row in rows for b in row]


def plain(call: Call) -> str:
    text = call.params["text"]
    return to_plain(text) if call.params.get("parse_mode") == "HTML" else text


def sent_to(server: BotAPIServer, chat_id: int) -> list[Call]:
    return [c for c in server.calls("sendMessage", ok=True) if c.params["chat_id"] == chat_id]


# --- private chat ----------------------------------------------------------------------------


async def test_private_question_gets_a_quoted_cited_answer_with_buttons(server, run_bot, engine_questions) -> None:
    async with run_bot(server):
        update = server.push_update(server.private_text(KIM))
        [reply] = await replies(server, update)
        await settle(server, 0)

    params = reply.params
    assert params["chat_id"] == USER and params["parse_mode"] == "HTML"
    assert params["reply_parameters"]["message_id"] == update["message"]["message_id"]
    assert params["link_preview_options"] == {"is_disabled": True}
    answer = params["text"].split("\n\n")[0]
    assert answer.startswith("<b>") and ("bantuan" in answer or "teknologi militer" in answer)
    assert params["text"].count("<blockquote") == 3
    assert "<i>Republika · Apa yang Diinginkan Korut dan Rusia Satu Sama Lain?</i>" in params["text"]
    (more, more_data), (article, article_data) = buttons(reply)
    assert more.startswith("Lainnya") and article.startswith("Artikel")
    assert more_data != article_data and all(len(d.encode()) <= 64 for d in (more_data, article_data))
    assert engine_questions == [KIM]
    # "typing" first, in the same chat, before the answer.
    [typing] = server.calls("sendChatAction")
    assert typing.params == {"chat_id": USER, "action": "typing"} and typing.time <= reply.time
    assert len(sent_to(server, USER)) == 1


async def test_a_question_about_the_article_cites_it_without_quoting_passages(server, run_bot) -> None:
    # The byline answers it; no passage holds the editor, so quoting passages would show no evidence.
    async with run_bot(server):
        update = server.push_update(server.private_text("Siapa editor berita Kilas Klaten soal Putin ke Pyongyang?"))
        [reply] = await replies(server, update)
    text = reply.params["text"]
    answer, source = text.split("\n\n")
    assert answer.startswith("<b>") and "Fajar Sidik Nur Cahyo" in answer
    assert source.startswith("<i>Kilas Klaten · 2024-06-14 · ") and "<blockquote" not in text


async def test_a_question_in_english_gets_english_words_from_an_indonesian_client(server, run_bot) -> None:
    async with run_bot(server):
        missing = server.push_update(server.private_text("Who is Kim Jong Un's father?", language_code="id"))
        [not_found] = await replies(server, missing)
        near = server.push_update(server.private_text("Siapa ayah Kim Jong Un?", language_code="id"))
        [tidak] = await replies(server, near)
    assert plain(not_found).startswith(t("en", "not_found")) and plain(not_found).endswith(t("en", "not_found_hint"))
    assert plain(tidak).startswith(t("id", "not_found"))
    # Same people and places: the closest article is named, in italics, never quoted as an answer.
    assert "<i>Artikel terdekat: " in tidak.params["text"] and "<blockquote" not in tidak.params["text"]


async def test_english_users_get_english_framing(server, run_bot) -> None:
    async with run_bot(server):
        update = server.push_update(server.private_text("What does Kim want in return?", language_code="en"))
        [reply] = await replies(server, update)
        missing = server.push_update(server.private_text("Who won the 2022 World Cup final?", language_code="en"))
        [not_found] = await replies(server, missing)
    assert [text for text, _ in buttons(reply)] == ["More ▾", "Article 📄"]
    assert plain(not_found) == f"{t('en', 'not_found')}\n\n{t('en', 'not_found_hint')}"
    assert buttons(not_found) == []


async def test_start_and_help_in_indonesian_and_english(server, run_bot) -> None:
    async with run_bot(server):
        server.push_update(server.private_text("/start"))
        [id_reply] = await server.wait_for("sendMessage", ok=True, timeout=60)
        server.push_update(server.private_text("/help", language_code="en"))
        _, en_reply = await server.wait_for("sendMessage", 2, ok=True, timeout=60)

    assert id_reply.params["parse_mode"] == "HTML"
    assert "2 artikel berita (2024-06-14)" in plain(id_reply)
    assert all(f"• {q}" in plain(id_reply) for q in EXAMPLES["id"])
    assert "/ask pertanyaan" in plain(id_reply) and "@kabar_test_bot" in plain(id_reply)
    assert "2 news articles (2024-06-14)" in plain(en_reply)
    assert all(f"• {q}" in plain(en_reply) for q in EXAMPLES["en"])
    # The command menu, registered at start: Indonesian by default, English for "en".
    assert {lang for (_, lang) in server.commands} == {"", "en"}
    assert [c["command"] for c in server.commands[('{"type": "default"}', "")]] == ["ask", "sources", "help"]
    assert server.commands[('{"type": "default"}', "en")][2]["description"] == "How to use Kabar"


async def test_unknown_command_in_private_points_to_help(server, run_bot) -> None:
    async with run_bot(server):
        update = server.push_update(server.private_text("/weather"))
        [reply] = await replies(server, update)
    assert plain(reply) == t("id", "unknown_command")


# --- groups ----------------------------------------------------------------------------------


async def test_group_answers_only_when_addressed(server, run_bot, engine_questions) -> None:
    async with run_bot(server):
        ignored = [
            server.push_update(server.group_text(KIM)),
            server.push_update(server.group_text(f"/ask@other_bot {KIM}")),
            server.push_update(server.group_text(f"@someone_else {KIM}")),
            server.push_update(server.sticker(chat_id=GROUP)),
        ]
        ask = server.push_update(server.group_text(f"/ask {KIM}"))
        ask_at = server.push_update(server.group_text(f"/ask@kabar_test_bot {RUSSIA}"))
        mention = server.push_update(server.group_text(f"@kabar_test_bot {EXAMPLES['id'][1]}"))
        usage = server.push_update(server.group_text("/ask"))
        [ask_reply] = await replies(server, ask)
        [ask_at_reply] = await replies(server, ask_at)
        [mention_reply] = await replies(server, mention)
        [usage_reply] = await replies(server, usage)
        # A reply to one of the bot's messages is addressed to it.
        reply_to_bot = server.push_update(server.group_text(RUSSIA, reply_to=ask_reply.result["message_id"]))
        [reply_to_bot_reply] = await replies(server, reply_to_bot)
        await settle(server)

    for reply in (ask_reply, ask_at_reply, mention_reply, reply_to_bot_reply):
        assert reply.params["chat_id"] == GROUP and reply.params["parse_mode"] == "HTML"
        assert "<blockquote" in reply.params["text"] and buttons(reply)
    assert "bantuan" in ask_reply.params["text"] or "teknologi militer" in ask_reply.params["text"]
    assert plain(usage_reply) == t("id", "ask_usage", example=KIM)
    # The mention is stripped before the question reaches the engine; nothing else was asked.
    assert sorted(engine_questions) == sorted([KIM, RUSSIA, EXAMPLES["id"][1], RUSSIA])
    assert len(sent_to(server, GROUP)) == 5
    assert not any(is_reply(c, u["message"]) for c in server.calls("sendMessage") for u in ignored)


async def test_forum_topic_answer_stays_in_the_topic(server, run_bot) -> None:
    async with run_bot(server):
        update = server.push_update(server.group_text(f"/ask {KIM}", message_thread_id=7, is_topic_message=True))
        [reply] = await replies(server, update)
        help_update = server.push_update(
            server.group_text("/help@kabar_test_bot", message_thread_id=7, is_topic_message=True)
        )
        [help_reply] = await replies(server, help_update)
    assert reply.params["message_thread_id"] == 7 and help_reply.params["message_thread_id"] == 7
    [typing] = server.calls("sendChatAction")
    assert typing.params["message_thread_id"] == 7 and typing.params["chat_id"] == GROUP


# --- inline mode -----------------------------------------------------------------------------


async def test_inline_query_returns_the_answer_then_passages(server, run_bot) -> None:
    async with run_bot(server):
        server.push_update(server.inline_query(KIM))
        [call] = await server.wait_for("answerInlineQuery", ok=True)
    params = call.params
    results = params["results"]
    assert 2 <= len(results) <= 5 and params["cache_time"] <= 60
    assert results[0]["id"] == "answer"
    assert "bantuan" in results[0]["title"] or "teknologi militer" in results[0]["title"]
    assert results[0]["description"].startswith("Republika")
    for result in results:
        assert result["type"] == "article" and result["title"]
        content = result["input_message_content"]
        assert content["parse_mode"] == "HTML" and "<blockquote" in content["message_text"]
        assert "<i>" in content["message_text"]  # the citation under each passage


async def test_inline_query_titles_are_article_titles(server, run_bot, bot_engine) -> None:
    async with run_bot(server):
        server.push_update(server.inline_query(RUSSIA))
        [call] = await server.wait_for("answerInlineQuery", ok=True)
    titles = {a.title for a in bot_engine.articles()}
    assert all(r["title"] in titles for r in call.params["results"][1:])
    assert all(
        r["description"].split("\n")[0].startswith(("Republika", "Kilas Klaten")) for r in call.params["results"]
    )


async def test_empty_inline_query_gets_a_hint(server, run_bot) -> None:
    async with run_bot(server):
        server.push_update(server.inline_query("   "))
        [call] = await server.wait_for("answerInlineQuery", ok=True)
    [hint] = call.params["results"]
    assert hint["id"] == "hint" and hint["title"] == t("id", "inline_hint")
    assert "@kabar_test_bot" in hint["input_message_content"]["message_text"]
    assert call.params["button"]["start_parameter"] == "help"
    assert call.params["cache_time"] <= 60


# --- buttons ---------------------------------------------------------------------------------


async def test_more_and_article_buttons(server, run_bot, bot_engine) -> None:
    async with run_bot(server):
        update = server.push_update(server.private_text(KIM))
        [answer] = await replies(server, update)
        [(_, more), (_, article)] = buttons(answer)

        server.push_update(server.callback_query(more, answer.result))
        [passages] = await replies(server, answer.result)
        server.push_update(server.callback_query(article, answer.result))
        parts = await replies(server, answer.result, count=3)
        await settle(server, 0.2)

    # "More": the next passages, replying to the answer, with their citations; More pages on.
    assert passages.params["parse_mode"] == "HTML" and passages.params["text"].count("<blockquote") == 3
    assert passages.params["text"].split("\n\n")[0].startswith("<blockquote")
    assert [text for text, _ in buttons(passages)] == ["Lainnya ▾"]  # More pages on
    # "Article": the full cleaned article, split in messages of at most 4096 characters.
    full = [p for p in parts if p is not passages]
    assert len(full) == 2
    source = next(a for a in bot_engine.articles() if a.outlet == "Republika")
    assert full[0].params["text"].startswith(f"<b>{source.title}</b>\n\n<i>Republika</i>")
    text = "\n\n".join(plain(p) for p in full)
    assert all(paragraph in text for paragraph in source.text.split("\n\n"))
    assert all(len(p.params["text"]) <= 4096 for p in full)
    assert len(server.calls("answerCallbackQuery", ok=True)) == 2


async def test_stale_and_malformed_button_presses_are_answered_politely(server, run_bot) -> None:
    async with run_bot(server):
        update = server.push_update(server.private_text(KIM))
        [answer] = await replies(server, update)
        datas = ["m|00000000|3", "a|deadbeef|0", "zzz", "m|x", "a|||", "s|abc", "m|" + "9" * 50, "9" * 64]
        real = buttons(answer)[0][1]
        datas += [real[:32] + "0" * 32, real[::-1], real + "x"]  # a known keyboard, an unknown button
        for data in datas:
            server.push_update(server.callback_query(data, answer.result))
        calls = await server.wait_for("answerCallbackQuery", count=len(datas), ok=True)
        await settle(server)
    assert {c.params.get("text") for c in calls} == {t("id", "expired")}
    assert len(sent_to(server, USER)) == 1  # no apology, no stray message


@pytest.fixture(scope="module")
def many_engine(bundled_embedder, tmp_path_factory):
    """An engine over 12 small articles, for the paginated /sources list."""
    root = tmp_path_factory.mktemp("many")
    for i in range(12):
        (root / "corpus").mkdir(exist_ok=True)
        (root / "corpus" / f"berita-{i:02d}.md").write_text(
            f"---\ntitle: Berita nomor {i} <uji> & coba\noutlet: Kabar Uji\ndate: 2024-05-{i + 1:02d}\n---\n"
            f"Ini berita nomor {i}. Isinya tentang hal ke-{i} yang diuji dengan seksama di kota {i}.\n",
            encoding="utf-8",
        )
    from index.settings import Settings

    return Engine.open(Settings(_env_file=None, corpus_dir=root / "corpus", data_dir=root / "data"), bundled_embedder)


async def test_sources_are_paginated_with_buttons(server, run_bot, many_engine) -> None:
    async with run_bot(server, engine=many_engine):
        server.push_update(server.private_text("/sources"))
        [first] = await server.wait_for("sendMessage", ok=True, timeout=60)
        [(_, forward)] = buttons(first)
        server.push_update(server.callback_query(forward, first.result))
        [edit] = await server.wait_for("editMessageText", ok=True)
        server.push_update(server.callback_query(forward, first.result))  # pressed twice: same page
        [(_, back)] = buttons(edit)
        server.push_update(server.callback_query(back, first.result))
        edits = await server.wait_for("editMessageText", count=3)
        await settle(server)

    lines = plain(first).splitlines()
    assert lines[0] == "Artikel yang saya punya (12): · halaman 1/2"
    assert len(lines) == 11 and lines[1] == "1. Berita nomor 11 <uji> & coba — Kabar Uji · 2024-05-12"
    assert [text for text, _ in buttons(first)] == ["Berikutnya ›"]
    assert edit.params["message_id"] == first.result["message_id"] and edit.params["parse_mode"] == "HTML"
    assert plain(edit).splitlines()[1:] == [
        "11. Berita nomor 1 <uji> & coba — Kabar Uji · 2024-05-02",
        "12. Berita nomor 0 <uji> & coba — Kabar Uji · 2024-05-01",
    ]
    assert [text for text, _ in buttons(edit)] == ["‹ Sebelumnya"]
    assert plain(edits[1]) == plain(edit) and plain(edits[2]) == plain(first)  # pressed twice: the same page
    assert len(server.calls("answerCallbackQuery", ok=True)) == 3
    assert len(sent_to(server, USER)) == 1  # no apology


# --- follow-ups ------------------------------------------------------------------------------


async def test_short_reply_to_an_answer_is_a_follow_up(server, run_bot, engine_questions) -> None:
    async with run_bot(server):
        update = server.push_update(server.private_text(KIM))
        [answer] = await replies(server, update)
        follow_up = server.push_update(server.private_text("kapan?", reply_to=answer.result["message_id"]))
        [reply] = await replies(server, follow_up)
        fresh = server.push_update(server.private_text("kapan?"))
        await replies(server, fresh)
        long_reply = server.push_update(
            server.private_text("Kapan Putin akan berkunjung ke Korea Utara?", reply_to=answer.result["message_id"])
        )
        await replies(server, long_reply)
    assert engine_questions == [KIM, f"{KIM} kapan?", "kapan?", "Kapan Putin akan berkunjung ke Korea Utara?"]
    assert reply.params["reply_parameters"]["message_id"] == follow_up["message"]["message_id"]
    # The article says what Kim wants, not when: quoted or not, the reply is about the same article.
    assert "Apa yang Diinginkan Korut dan Rusia Satu Sama Lain?" in reply.params["text"]


# --- admin -----------------------------------------------------------------------------------


NEW_ARTICLE = """---
title: Timnas Indonesia Lolos ke Putaran Ketiga Kualifikasi Piala Dunia
outlet: Kabar Uji
date: 2024-06-11
---
Tim nasional sepak bola Indonesia lolos ke putaran ketiga kualifikasi Piala Dunia 2026 zona Asia.

Kepastian itu didapat setelah Indonesia mengalahkan Filipina 2-0 di Stadion Utama Gelora Bung Karno, Jakarta.
Gol Indonesia dicetak oleh Thom Haye dan Rizky Ridho.
"""


async def test_refresh_is_for_admins_only(server, run_bot, fresh_engine, caplog) -> None:
    (fresh_engine.settings.corpus_dir / "timnas.md").write_text(NEW_ARTICLE, encoding="utf-8")
    async with run_bot(server, engine=fresh_engine, admin_ids=frozenset({ADMIN})):
        refused = server.push_update(server.private_text("/refresh"))
        refused_en = server.push_update(server.group_text("/refresh@kabar_test_bot", user_id=777, language_code="en"))
        [refusal] = await replies(server, refused)
        [refusal_en] = await replies(server, refused_en)
        assert len(fresh_engine.articles()) == 2  # nothing changed

        refresh = server.push_update(server.private_text("/refresh", user_id=ADMIN))
        working, report = await replies(server, refresh, count=2, timeout=60)
        question = server.push_update(server.private_text("Siapa yang mencetak gol Indonesia melawan Filipina?"))
        [answer] = await replies(server, question)

    assert plain(refusal) == t("id", "admin_only") and plain(refusal_en) == t("en", "admin_only")
    refusals = [r.getMessage() for r in caplog.records if r.name == "bot.admin" and "refused" in r.getMessage()]
    assert refusals == [f"refused /refresh from user {USER}", "refused /refresh from user 777"]
    assert plain(working) == t("id", "refreshing")
    assert plain(report).startswith("Indeks diperbarui: 1 ditambah, 0 diubah, 0 dihapus, 2 tetap")
    # Answered from the new article, or (the checker unsure) refused with the new article named as closest.
    text = answer.params["text"]
    assert ("Thom Haye" in text and "Kabar Uji · 2024-06-11" in text) or "Artikel terdekat: Timnas Indonesia" in text


async def test_refresh_failure_keeps_the_old_index_and_says_why(server, run_bot, fresh_engine, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(fresh_engine, "refresh", broken)
    async with run_bot(server, engine=fresh_engine, admin_ids=frozenset({ADMIN})):
        refresh = server.push_update(server.private_text("/refresh", user_id=ADMIN))
        _, failed = await replies(server, refresh, count=2)
        question = server.push_update(server.private_text(KIM, user_id=ADMIN))
        await replies(server, question)
    assert plain(failed) == t("id", "refresh_failed", error="disk full")


async def test_an_index_rebuilt_by_kabar_index_elsewhere_is_picked_up(
    server, run_bot, fresh_engine, bundled_embedder, monkeypatch
) -> None:
    from index.build import build_index

    monkeypatch.setattr("bot.app.INDEX_WATCH_SECONDS", 0.1)
    settings = fresh_engine.settings
    async with run_bot(server, engine=fresh_engine):
        (settings.corpus_dir / "timnas.md").write_text(NEW_ARTICLE, encoding="utf-8")
        await asyncio.to_thread(build_index, settings.corpus_dir, settings.index_dir, bundled_embedder)
        for _ in range(200):
            if len(fresh_engine.articles()) == 3:
                break
            await asyncio.sleep(0.05)
        question = server.push_update(server.private_text("Siapa yang mencetak gol Indonesia melawan Filipina?"))
        [answer] = await replies(server, question)
    assert "Thom Haye" in answer.params["text"] or "Artikel terdekat: Timnas Indonesia" in answer.params["text"]


async def test_feeds_are_polled_and_indexed_while_the_bot_serves(server, run_bot, fresh_engine, monkeypatch) -> None:
    from newssite import NewsSite

    monkeypatch.setattr("bot.app.FEED_FIRST_SECONDS", 0.1)
    with NewsSite() as site:
        feeds = (f"{site.url}/rss.xml",)
        trusted = {"fetch_allow_private": ("*",), "fetch_ports": ("*",)}  # the loopback site as an intranet
        async with run_bot(server, engine=fresh_engine, feeds=feeds, feed_interval=10.0, **trusted):
            for _ in range(300):
                if len(fresh_engine.articles()) == 4:
                    break
                await asyncio.sleep(0.05)
            question = server.push_update(server.private_text("Berapa peluru artileri yang diproduksi pabrik itu?"))
            [answer] = await replies(server, question)
    assert "dua juta peluru artileri" in answer.params["text"]
    corpus = fresh_engine.settings.corpus_dir
    assert len([p for p in corpus.rglob("*.*") if not p.name.startswith(".")]) == 4
