"""The fake Bot API must be faithful to the real one, or tests built on it lie.

Every test drives the real python-telegram-bot client (httpx, its request encoding and
its error mapping) against :class:`botapi.BotAPIServer`; no Kabar code is involved.
"""

import asyncio
import datetime as dtm
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from botapi import DEFAULT_GROUP_ID, DEFAULT_USER_ID, BotAPIServer, UploadedFile
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    ReplyParameters,
    TelegramObject,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, EndPointNotFound, InvalidToken, NetworkError, RetryAfter
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

CHAT = DEFAULT_USER_ID
KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("Sumber", callback_data="src:1")]])


@pytest.fixture
async def server() -> AsyncIterator[BotAPIServer]:
    async with BotAPIServer() as srv:
        yield srv


@pytest.fixture
async def bot(server: BotAPIServer) -> AsyncIterator[Bot]:
    async with Bot(server.token, base_url=server.base_url, base_file_url=server.base_file_url) as bot:
        yield bot


async def test_initialize_calls_get_me(server: BotAPIServer, bot: Bot) -> None:
    assert bot.username == "kabar_test_bot"
    assert bot.id == 7_000_000_001
    assert bot.bot.can_join_groups and bot.bot.supports_inline_queries
    assert [c.method for c in server.calls()] == ["getMe"]


async def test_send_message_html_and_keyboard(server: BotAPIServer, bot: Bot) -> None:
    html = '<b>Jawaban</b> &amp; <a href="https://kabar.id/a">sumber</a> 🙂'
    message = await bot.send_message(CHAT, html, parse_mode=ParseMode.HTML, reply_markup=KEYBOARD)

    [call] = server.calls("sendMessage")
    assert call.ok and call.params["chat_id"] == CHAT and call.params["text"] == html
    assert call.params["parse_mode"] == "HTML"
    assert call.params["reply_markup"] == {"inline_keyboard": [[{"text": "Sumber", "callback_data": "src:1"}]]}
    # Telegram answers with plain text + entities; PTB must be able to rebuild the HTML.
    assert message.text == "Jawaban & sumber 🙂"
    assert message.text_html == html
    assert message.from_user is not None and message.from_user.id == bot.id
    assert message.reply_markup == KEYBOARD
    assert server.sent_messages() == [call.params]
    second = await bot.send_message(CHAT, "lagi")
    assert second.message_id == message.message_id + 1


async def test_reply_parameters_and_threads(server: BotAPIServer, bot: Bot) -> None:
    question = server.push_update(server.group_text("apa kabar?", message_thread_id=7, is_topic_message=True))
    asked = question["message"]
    reply = await bot.send_message(
        DEFAULT_GROUP_ID, "baik", reply_parameters=ReplyParameters(asked["message_id"]), message_thread_id=7
    )
    params = server.calls("sendMessage")[-1].params
    assert params["reply_parameters"] == {"message_id": asked["message_id"]}
    assert params["message_thread_id"] == 7
    assert reply.reply_to_message is not None and reply.reply_to_message.text == "apa kabar?"
    assert reply.message_thread_id == 7 and reply.is_topic_message
    with pytest.raises(BadRequest, match="(?i)message to be replied not found"):
        await bot.send_message(DEFAULT_GROUP_ID, "x", reply_parameters=ReplyParameters(999))


async def test_long_poll_returns_pushed_update_and_offset_confirms(server: BotAPIServer, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    assert not poll.done()  # really long-polling
    started = time.monotonic()
    pushed = server.push_update(server.private_text("halo"))
    [update] = await poll
    assert time.monotonic() - started < 0.5
    assert update.update_id == pushed["update_id"]
    assert update.message is not None and update.message.text == "halo"
    assert update.message.from_user is not None and update.message.from_user.language_code == "id"

    assert len(await bot.get_updates()) == 1  # not confirmed yet
    assert await bot.get_updates(offset=update.update_id + 1) == ()
    assert server.pending_updates == []


async def test_get_updates_limit_and_empty_timeout(server: BotAPIServer, bot: Bot) -> None:
    for text in ("a", "b", "c"):
        server.push_update(server.private_text(text))
    first = await bot.get_updates(limit=2)
    assert [u.message.text for u in first if u.message] == ["a", "b"]
    rest = await bot.get_updates(offset=first[-1].update_id + 1)
    assert [u.message.text for u in rest if u.message] == ["c"]
    started = time.monotonic()
    assert await bot.get_updates(offset=rest[-1].update_id + 1, timeout=0.2) == ()
    assert 0.15 < time.monotonic() - started < 1


async def test_second_bot_instance_terminates_long_poll(server: BotAPIServer, bot: Bot) -> None:
    older = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    # A Bot's getUpdates pool has one connection, so the rival must be another instance.
    async with Bot(server.token, base_url=server.base_url) as rival:
        assert await rival.get_updates() == ()
    with pytest.raises(Conflict, match="(?i)terminated by other getUpdates"):
        await older


async def test_429_raises_retry_after_then_delivers_once(
    server: BotAPIServer, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # opt in to PTB's future timedelta API, no warning
    server.fail_next("sendMessage")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(CHAT, "halo")
    assert caught.value.retry_after == dtm.timedelta(seconds=1)
    await bot.send_message(CHAT, "halo")

    failed, delivered = server.calls("sendMessage")
    assert (failed.ok, failed.error_code) == (False, 429)
    assert failed.description == "Too Many Requests: retry after 1"
    assert delivered.ok
    assert server.sent_messages() == [delivered.params]


async def test_500_raises_network_error(server: BotAPIServer, bot: Bot) -> None:
    server.fail_next("sendMessage", error_code=500, times=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match="Internal Server Error") as caught:
            await bot.send_message(CHAT, "halo")
        assert not isinstance(caught.value, RetryAfter)
    await bot.send_message(CHAT, "halo")
    assert [c.ok for c in server.calls("sendMessage")] == [False, False, True]


async def test_send_document_is_multipart(server: BotAPIServer, bot: Bot) -> None:
    content = b"%PDF-1.7\r\n--boundary-like\r\n\x00\xff"
    message = await bot.send_document(
        CHAT, content, filename="laporan é.pdf", caption="<i>Laporan</i>", parse_mode="HTML"
    )
    [call] = server.calls("sendDocument")
    upload = call.params["document"]
    assert isinstance(upload, UploadedFile)
    assert (upload.filename, upload.content, upload.content_type) == ("laporan é.pdf", content, "application/pdf")
    assert call.params["chat_id"] == CHAT and call.params["caption"] == "<i>Laporan</i>"
    assert message.document is not None and message.document.file_name == "laporan é.pdf"
    assert message.caption == "Laporan" and message.caption_html == "<i>Laporan</i>"
    # The uploaded bytes can be fetched back like any Telegram file.
    file = await bot.get_file(message.document.file_id)
    assert await file.download_as_bytearray() == content


async def test_get_file_downloads_registered_document(server: BotAPIServer, bot: Bot) -> None:
    update = server.push_update(server.document("artikel.txt", b"Isi artikel.\n", "text/plain"))
    document = Update.de_json(update, bot).message.document  # type: ignore[union-attr]
    assert document is not None and document.file_name == "artikel.txt"
    file = await document.get_file()
    assert file.file_size == len(b"Isi artikel.\n")
    assert await file.download_as_bytearray() == b"Isi artikel.\n"
    with pytest.raises(BadRequest, match="(?i)invalid file_id"):
        await bot.get_file("nope")


async def test_answer_inline_query_results_decoded(server: BotAPIServer, bot: Bot) -> None:
    query_id = server.push_update(server.inline_query("pemilu"))["inline_query"]["id"]
    article = InlineQueryResultArticle(
        "r1", "Pemilu 2024", InputTextMessageContent("<b>Jawaban</b>", parse_mode="HTML")
    )
    assert await bot.answer_inline_query(query_id, [article], cache_time=0)
    params = server.calls("answerInlineQuery")[-1].params
    assert params["inline_query_id"] == query_id and params["cache_time"] == 0
    [result] = params["results"]
    assert result["type"] == "article" and result["id"] == "r1"
    assert result["input_message_content"] == {"message_text": "<b>Jawaban</b>", "parse_mode": "HTML"}
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_inline_query("123", [])


async def test_edit_message_text_and_markup(server: BotAPIServer, bot: Bot) -> None:
    sent = await bot.send_message(CHAT, "Mencari…", reply_markup=KEYBOARD)
    edited = await bot.edit_message_text("Jawaban", chat_id=CHAT, message_id=sent.message_id)
    assert isinstance(edited, type(sent)) and edited.text == "Jawaban" and edited.edit_date is not None
    assert edited.reply_markup is None  # editing text without reply_markup drops the keyboard, as live
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text("Jawaban", chat_id=CHAT, message_id=sent.message_id)
    marked = await bot.edit_message_reply_markup(chat_id=CHAT, message_id=sent.message_id, reply_markup=KEYBOARD)
    assert marked.reply_markup == KEYBOARD  # type: ignore[union-attr]
    assert [p.get("text") for p in server.sent_messages()] == ["Mencari…", "Jawaban"]
    message = server.message(CHAT, sent.message_id)
    assert message is not None and message["text"] == "Jawaban"
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=CHAT, message_id=999)


async def test_text_validation_matches_telegram(bot: Bot) -> None:
    with pytest.raises(BadRequest, match='(?i)Unsupported start tag "div"'):
        await bot.send_message(CHAT, "<div>x</div>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_message(CHAT, "1 < 2", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_message(CHAT, "<b>tebal", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(CHAT, "😀" * 2049)  # 4098 UTF-16 code units
    await bot.send_message(CHAT, "😀" * 2048)
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(CHAT, "<b> </b>", parse_mode="HTML")


async def test_callback_query_chat_action_commands_and_close(server: BotAPIServer, bot: Bot) -> None:
    sent = await bot.send_message(CHAT, "Jawaban", reply_markup=KEYBOARD)
    update = server.push_update(server.callback_query("src:1", server.calls("sendMessage")[-1].result))
    query = Update.de_json(update, bot).callback_query
    assert query is not None and query.data == "src:1" and query.message.message_id == sent.message_id  # type: ignore[union-attr]
    assert await query.answer("ok")
    assert await bot.send_chat_action(CHAT, "typing")
    assert server.calls("sendChatAction")[-1].params == {"chat_id": CHAT, "action": "typing"}

    commands = [BotCommand("tanya", "Ajukan pertanyaan"), BotCommand("start", "Mulai")]
    scope = BotCommandScopeChat(CHAT)
    assert await bot.set_my_commands(commands, scope=scope, language_code="id")
    assert await bot.get_my_commands(scope=scope, language_code="id") == tuple(commands)
    assert await bot.get_my_commands() == ()
    assert server.calls("setMyCommands")[-1].params["scope"] == {"type": "chat", "chat_id": CHAT}
    assert await bot.delete_my_commands(scope=scope, language_code="id")
    assert await bot.get_my_commands(scope=scope, language_code="id") == ()
    with pytest.raises(BadRequest, match="(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Tanya-Jawab", "x")])
    assert await bot.close() and await bot.log_out()


async def test_webhook_blocks_polling(server: BotAPIServer, bot: Bot) -> None:
    server.push_update(server.private_text("halo"))
    assert await bot.set_webhook("https://kabar.example/hook", secret_token="s3cret")
    info = await bot.get_webhook_info()
    assert info.url == "https://kabar.example/hook" and info.pending_update_count == 1
    with pytest.raises(Conflict, match="(?i)webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates() == ()


async def test_unknown_method_token_and_raw_bodies(server: BotAPIServer, bot: Bot) -> None:
    # PTB maps HTTP 404 to InvalidToken; do_api_request re-raises it as EndPointNotFound.
    with pytest.raises(EndPointNotFound) as caught:
        await bot.do_api_request("frobnicate")
    assert isinstance(caught.value.__cause__, InvalidToken)
    assert str(caught.value.__cause__) == "Not Found: method not found"
    assert server.calls("frobnicate")[0].error_code == 404
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post(f"/bot{server.token}/sendMessage", json={"chat_id": CHAT, "text": "json"})
        assert response.status_code == 200 and response.json()["result"]["text"] == "json"
        response = await client.post(f"/bot{server.token}/getMe?x=1")
        assert response.json()["result"]["username"] == "kabar_test_bot"
        response = await client.post("/bot123:wrong/getMe")
        assert response.status_code == 401
        assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    server.fail_next("getMe", error_code=429, retry_after=3)
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.get(f"/bot{server.token}/getMe")
    assert response.status_code == 429
    assert response.json()["parameters"] == {"retry_after": 3}
    assert response.json()["description"] == "Too Many Requests: retry after 3"


async def test_wait_for_and_delay(server: BotAPIServer, bot: Bot) -> None:
    with pytest.raises(AssertionError, match=r"expected 1 matching sendMessage call.*recorded:\n  getMe \[ok\]"):
        await server.wait_for("sendMessage", timeout=0.05)
    server.delay = 0.2
    started = time.monotonic()
    sending = asyncio.create_task(bot.send_message(CHAT, "lambat"))
    [call] = await server.wait_for("sendMessage", predicate=lambda c: c.params["text"] == "lambat")
    await sending
    assert time.monotonic() - started >= 0.2 and call.ok


def _unknown_fields(obj: object) -> list[str]:
    """PTB parks JSON fields it does not know in ``api_kwargs``: builders must produce none."""
    if isinstance(obj, tuple):
        return [name for item in obj for name in _unknown_fields(item)]
    if not isinstance(obj, TelegramObject):
        return []
    found = [f"{type(obj).__name__}.{key}" for key in obj.api_kwargs]
    slots = {name for cls in type(obj).__mro__ for name in getattr(cls, "__slots__", ()) if name[0] != "_"}
    return found + [name for slot in slots for name in _unknown_fields(getattr(obj, slot, None))]


def _builders(server: BotAPIServer) -> dict[str, dict]:
    first = server.private_text("pertanyaan")
    return {
        "private_text": first,
        "reply": server.private_text("lanjut", reply_to=first),
        "group_command": server.group_text("/tanya@kabar_test_bot apa itu @kabar_test_bot?"),
        "group_topic": server.group_text("halo", message_thread_id=3, is_topic_message=True),
        "inline_query": server.inline_query("berita"),
        "callback_query": server.callback_query("src:1", first["message"]),
        "sticker": server.sticker(),
        "photo": server.photo(caption="foto"),
        "voice": server.voice(),
        "document": server.document("a.pdf", b"%PDF", "application/pdf"),
        "edited_message": server.edited_message(first, "pertanyaan (diedit)"),
        "channel_post": server.channel_post("kabar terbaru"),
    }


async def test_builders_are_valid_ptb_updates(server: BotAPIServer, bot: Bot) -> None:
    updates = {name: Update.de_json(server.push_update(data), bot) for name, data in _builders(server).items()}
    for name, update in updates.items():
        assert update.effective_chat or update.effective_user, name
        assert _unknown_fields(update) == [], name

    command = updates["group_command"].message
    assert command is not None and command.chat.type == "supergroup"
    assert [e.type for e in command.entities] == ["bot_command", "mention"]
    assert command.parse_entities() == {
        command.entities[0]: "/tanya@kabar_test_bot",
        command.entities[1]: "@kabar_test_bot",
    }
    assert filters.COMMAND.check_update(Update(1, message=command))


async def test_application_echo_via_polling(server: BotAPIServer) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text.upper(), do_quote=True)

    app = ApplicationBuilder().token(server.token).base_url(server.base_url).base_file_url(server.base_file_url).build()
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=5)  # type: ignore[union-attr]
        pushed = server.push_update(server.private_text("halo kabar"))
        [call] = await server.wait_for("sendMessage", timeout=5)
        await app.updater.stop()  # type: ignore[union-attr]
        await app.stop()

    assert call.ok and call.params["text"] == "HALO KABAR" and call.params["chat_id"] == DEFAULT_USER_ID
    assert call.params["reply_parameters"]["message_id"] == pushed["message"]["message_id"]
    assert server.pending_updates == []  # the Updater confirmed the offset on stop
