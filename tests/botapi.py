"""A loopback HTTP server that speaks the Telegram Bot API, for tests.

Why: Kabar's tests drive the *real* bot through the *real* python-telegram-bot stack
(httpx, request encoding, error mapping, Updater long polling) instead of mocking
``telegram.Bot``.  Point PTB at it with::

    async with BotAPIServer() as server:
        app = (
            ApplicationBuilder()
            .token(server.token)
            .base_url(server.base_url)            # f"{server.url}/bot"
            .base_file_url(server.base_file_url)  # f"{server.url}/file/bot"
            .build()
        )

It is a small HTTP/1.1 server on ``asyncio.start_server`` (stdlib only, same event loop
as the test, keep-alive, Content-Length and chunked bodies).  It records every call,
lets tests push updates (served by real long polling) and inject Bot API failures.
With ``strict=True`` (default) it reproduces the Bot API errors that catch real bugs:
malformed HTML, empty/too long texts, replies to unknown messages, "message is not
modified", invalid inline/callback query ids, invalid commands, concurrent polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import email.parser
import inspect
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from html import unescape
from html.parser import HTMLParser
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

JSON = dict[str, Any]

DEFAULT_TOKEN = "7000000001:AAE-kabar-test-token"
DEFAULT_USER_ID = 111_222_333
DEFAULT_GROUP_ID = -1_001_234_567_890
DEFAULT_CHANNEL_ID = -1_009_876_543_210

MAX_TEXT = 4096
MAX_CAPTION = 1024
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)
POLL_TERMINATED = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply "
    "markup are exactly the same as a current content and reply markup of the message"
)

# Form values are always strings; the Bot API types these as strings, so they must not
# be JSON-decoded ("42" stays "42").  Everything else is decoded if it parses as JSON.
_STRING_PARAMS = frozenset(
    """text caption parse_mode query inline_query_id callback_query_id inline_message_id
    next_offset switch_pm_text switch_pm_parameter url file_id action emoji language_code
    secret_token name title description short_description first_name last_name data
    business_connection_id message_effect_id ip_address custom_emoji_id file_name certificate
    document photo audio video voice animation video_note sticker thumbnail""".split()
)


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request, kept whole so tests can assert on bytes."""

    name: str
    filename: str | None
    content: bytes
    content_type: str | None


@dataclass
class Call:
    """One Bot API request as the server saw it.

    ``time`` is ``time.monotonic()`` at arrival; the call is recorded once answered
    (before any ``delay``), so ``ok``/``result`` are final when a test sees it.
    """

    method: str
    params: JSON
    time: float
    ok: bool = True
    error_code: int | None = None
    description: str | None = None
    result: Any = None


class BotAPIError(Exception):
    """Raised inside method handlers; rendered as a Bot API error body + HTTP status."""

    def __init__(self, error_code: int, description: str, retry_after: int | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


@dataclass
class _Fault:
    error: BotAPIError
    remaining: int


@dataclass
class _StoredFile:
    info: JSON  # the Bot API File object (file_id, file_unique_id, file_size, file_path)
    content: bytes
    file_name: str | None = None
    mime_type: str | None = None


@dataclass
class _Request:
    verb: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    keep_alive: bool = True


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: the unit of Telegram's entity offsets and limits."""
    return len(text.encode("utf-16-le")) // 2


_COMMAND_RE = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w/@])")
_MENTION_RE = re.compile(r"(?<![\w@/])@[A-Za-z0-9_]{5,32}(?![\w@])")
_BOT_COMMAND_NAME_RE = re.compile(r"[a-z0-9_]{1,32}")


def detect_entities(text: str) -> list[JSON]:
    """``bot_command``/``mention`` entities the way Telegram's client-side parser marks them."""
    found = [(m, "bot_command") for m in _COMMAND_RE.finditer(text)]
    found += [(m, "mention") for m in _MENTION_RE.finditer(text)]
    return [
        {"type": kind, "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group())}
        for m, kind in sorted(found, key=lambda item: item[0].start())
    ]


# --------------------------------------------------------------------------- HTML mode


class _EntityParseError(Exception):
    pass


_HTML_TAGS = {
    **dict.fromkeys(["b", "strong"], "bold"),
    **dict.fromkeys(["i", "em"], "italic"),
    **dict.fromkeys(["u", "ins"], "underline"),
    **dict.fromkeys(["s", "strike", "del"], "strikethrough"),
    **dict.fromkeys(["span", "tg-spoiler"], "spoiler"),
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


class _TelegramHTML(HTMLParser):
    """Telegram's HTML parse mode: the supported tag set, strict nesting, no bare '<'.

    Produces the plain text plus entities (UTF-16 offsets) that Telegram returns, so the
    bot can round-trip ``Message.text_html`` and broken markup fails as it would live.
    """

    def __init__(self, source: str):
        super().__init__(convert_charrefs=False)
        self.source = source
        self.text: list[str] = []
        self.length = 0
        self.stack: list[tuple[str, JSON]] = []
        self.entities: list[JSON] = []

    def parse(self) -> tuple[str, list[JSON]]:
        self.feed(self.source)
        self.close()
        if self.stack:
            tag = self.stack[-1][0]
            raise _EntityParseError(f'Can\'t find end tag corresponding to start tag "{tag}"')
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.text), self.entities

    def _where(self) -> str:
        line, column = self.getpos()  # HTMLParser counts "\n"-separated lines from 1
        index = sum(len(part) + 1 for part in self.source.split("\n")[: line - 1]) + column
        return f"at byte offset {len(self.source[:index].encode())}"

    def _append(self, text: str) -> None:
        self.text.append(text)
        self.length += utf16_len(text)

    def handle_data(self, data: str) -> None:
        if "<" in data:
            raise _EntityParseError(f'Unsupported start tag "" {self._where()}')
        self._append(data)

    def handle_entityref(self, name: str) -> None:
        self._append(unescape(f"&{name};") if name in {"lt", "gt", "amp", "quot"} else f"&{name};")

    def handle_charref(self, name: str) -> None:
        self._append(unescape(f"&#{name};"))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_TAGS:
            raise _EntityParseError(f'Unsupported start tag "{tag}" {self._where()}')
        values = dict(attrs)
        entity: JSON = {"type": _HTML_TAGS[tag], "offset": self.length}
        if tag == "span" and values.get("class") != "tg-spoiler":
            raise _EntityParseError(f'Tag "span" must have class "tg-spoiler" {self._where()}')
        if tag == "a":
            entity["url"] = values.get("href") or ""
        elif tag == "blockquote" and "expandable" in values:
            entity["type"] = "expandable_blockquote"
        elif tag == "tg-emoji":
            entity["custom_emoji_id"] = values.get("emoji-id") or ""
        elif tag == "code" and self.stack and self.stack[-1][0] == "pre":
            language = (values.get("class") or "").removeprefix("language-")
            if language:
                self.stack[-1][1]["language"] = language
                entity = {}  # <pre><code class="language-x"> is one "pre" entity
        self.stack.append((tag, entity))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1][0] != tag:
            raise _EntityParseError(f'Unmatched end tag "{tag}" {self._where()}')
        _, entity = self.stack.pop()
        if entity and self.length > entity["offset"]:
            entity["length"] = self.length - entity["offset"]
            self.entities.append(entity)


# ------------------------------------------------------------------------ the server


class BotAPIServer:
    """Loopback Telegram Bot API; use as ``async with BotAPIServer() as server``.

    ``delay`` (seconds, mutable at runtime) is added before every response to emulate
    network latency in load benchmarks.  ``strict=False`` disables the validations
    listed in the module docstring (faults injected with :meth:`fail_next` still apply).
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        username: str = "kabar_test_bot",
        first_name: str = "Kabar",
        can_join_groups: bool = True,
        can_read_all_group_messages: bool = False,
        supports_inline_queries: bool = True,
        delay: float = 0.0,
        strict: bool = True,
    ) -> None:
        self.token = token
        self.delay = delay
        self.strict = strict
        prefix = token.partition(":")[0]
        self.bot_user: JSON = {
            "id": int(prefix) if prefix.isdigit() else 7_000_000_001,
            "is_bot": True,
            "first_name": first_name,
            "username": username,
        }
        self.me: JSON = {
            **self.bot_user,
            "can_join_groups": can_join_groups,
            "can_read_all_group_messages": can_read_all_group_messages,
            "supports_inline_queries": supports_inline_queries,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.webhook: JSON | None = None
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self._calls: list[Call] = []
        self.server_errors: list[Exception] = []  # bugs in this module, surfaced as 500s
        self._updates: list[JSON] = []
        self._update_ids = itertools.count(100_001)
        self._faults: dict[str, list[_Fault]] = {}
        self._users: dict[int, JSON] = {}
        self._chats: dict[int, JSON] = {}
        self._messages: dict[tuple[int, int], JSON] = {}
        self._message_ids: dict[int, int] = {}
        self._files: dict[str, _StoredFile] = {}
        self._file_serial = itertools.count(1)
        self._query_ids: set[str] = set()
        self._query_serial = itertools.count(1)
        self._poll_generation = 0
        self._changed = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._closing = False
        self.port = 0
        handlers: dict[str, Callable[[JSON], Any]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "sendChatAction": self._send_chat_action,
            "answerInlineQuery": self._answer_inline_query,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendDocument": self._send_document,
            "getFile": self._get_file,
            "close": self._close,
            "logOut": self._log_out,
        }
        # The Bot API matches method names case-insensitively.
        self._handlers = {name.lower(): (name, fn) for name, fn in handlers.items()}

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder.base_url`` / ``Bot(base_url=...)``."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder.base_file_url`` / ``Bot(base_file_url=...)``."""
        return f"{self.url}/file/bot"

    async def start(self) -> None:
        self._closing = False
        self._server = await asyncio.start_server(self._serve_connection, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Close the listener and every connection, including pending long polls."""
        self._closing = True
        if self._server is not None:
            self._server.close()
        tasks = list(self._connections)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> BotAPIServer:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, *exc_info: object) -> None:
        await self.stop()
        if self.server_errors and exc_type is None:
            raise AssertionError(f"botapi.py crashed while serving: {self.server_errors!r}") from self.server_errors[0]

    # ------------------------------------------------------------- call records

    def calls(self, method: str | None = None, *, ok: bool | None = None) -> list[Call]:
        """Recorded calls, oldest first; ``ok`` filters on success/failure."""
        return [c for c in self._calls if (method is None or c.method == method) and (ok is None or c.ok == ok)]

    def sent_messages(self) -> list[JSON]:
        """Params of *delivered* sendMessage/editMessageText calls (failed ones excluded)."""
        return [c.params for c in self._calls if c.ok and c.method in {"sendMessage", "editMessageText"}]

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 10.0,
        predicate: Callable[[Call], bool] | None = None,
        *,
        ok: bool | None = None,
    ) -> list[Call]:
        """Wait until ``count`` matching calls were answered; returns all matching calls.

        Failed calls count too unless ``ok=True``; raises AssertionError with the call log.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = [c for c in self.calls(method, ok=ok) if predicate is None or predicate(c)]
            remaining = deadline - loop.time()
            if len(found) >= count:
                return found
            if remaining <= 0:
                raise AssertionError(
                    f"expected {count} matching {method} call(s) within {timeout}s, "
                    f"got {len(found)}; recorded:\n{self.describe_calls()}"
                )
            await self._wait_changed(remaining)

    def describe_calls(self) -> str:
        """Human-readable call log for assertion messages."""
        lines = []
        for c in self._calls:
            status = "ok" if c.ok else f"{c.error_code} {c.description}"
            params = {k: v for k, v in c.params.items() if not isinstance(v, UploadedFile)}
            lines.append(f"  {c.method} [{status}] {json.dumps(params, ensure_ascii=False)[:300]}")
        return "\n".join(lines) or "  (no calls)"

    def fail_next(
        self,
        method: str,
        error_code: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail (they are still recorded).

        Defaults follow the code: 429 -> "Too Many Requests: retry after N" with
        ``retry_after`` 1; 500 -> "Internal Server Error"; others -> the HTTP phrase.
        ``retry_after`` is only sent for 429 unless given explicitly (PTB turns any
        retry_after into ``RetryAfter``).
        """
        if error_code == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            description = f"Too Many Requests: retry after {retry_after}" if error_code == 429 else _phrase(error_code)
        fault = _Fault(BotAPIError(error_code, description, retry_after), times)
        self._faults.setdefault(method.lower(), []).append(fault)

    # --------------------------------------------------------------- updates

    def push_update(self, update: JSON) -> JSON:
        """Queue an update for getUpdates (assigning ``update_id``); returns it."""
        update = {"update_id": next(self._update_ids), **{k: v for k, v in update.items() if k != "update_id"}}
        for key in ("message", "edited_message", "channel_post", "edited_channel_post"):
            if key in update:
                self._store(update[key])
        for key in ("inline_query", "callback_query"):
            if key in update:
                self._query_ids.add(update[key]["id"])
        if "message" in update.get("callback_query", {}):
            self._store(update["callback_query"]["message"], replace=False)
        self._updates.append(update)
        self._notify()
        return update

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by a getUpdates ``offset``."""
        return list(self._updates)

    def message(self, chat_id: int, message_id: int) -> JSON | None:
        """The current (post-edit) version of a message the server knows about."""
        return self._messages.get((chat_id, message_id))

    def add_file(
        self, content: bytes, file_name: str | None = None, mime_type: str | None = None, kind: str = "documents"
    ) -> JSON:
        """Register bytes for getFile + download; returns the File object (with file_path)."""
        serial = next(self._file_serial)
        suffix = f"_{file_name}" if file_name else ""
        info = {
            "file_id": f"BQACAgUAAxkBAAI{serial:08d}",
            "file_unique_id": f"AgAD{serial:06d}",
            "file_size": len(content),
            "file_path": f"{kind}/file_{serial}{suffix}",
        }
        self._files[info["file_id"]] = _StoredFile(info, content, file_name, mime_type)
        return dict(info)

    # -------------------------------------------------------------- builders

    def user(
        self,
        user_id: int = DEFAULT_USER_ID,
        *,
        first_name: str | None = None,
        language_code: str | None = "id",
        username: str | None = None,
    ) -> JSON:
        """A (remembered) non-bot User dict."""
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name or f"User{user_id}"}
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self._users[user_id] = user
        return user

    def private_text(
        self,
        text: str,
        user_id: int = DEFAULT_USER_ID,
        chat_id: int | None = None,
        language_code: str | None = "id",
        reply_to: JSON | int | None = None,
        *,
        entities: list[JSON] | None = None,
    ) -> JSON:
        """A private-chat text message update (commands/mentions detected as entities)."""
        sender = self.user(user_id, language_code=language_code)
        chat = self._chat(chat_id or user_id, "private", first_name=sender["first_name"])
        return {"message": self._incoming(chat, sender, reply_to, **self._text(text, entities))}

    def group_text(
        self,
        text: str,
        chat_id: int = DEFAULT_GROUP_ID,
        chat_type: str = "supergroup",
        entities: list[JSON] | None = None,
        reply_to: JSON | int | None = None,
        message_thread_id: int | None = None,
        is_topic_message: bool | None = None,
        *,
        user_id: int = DEFAULT_USER_ID,
        language_code: str | None = "id",
        title: str = "Kabar Test Group",
    ) -> JSON:
        """A group/supergroup text message update; ``is_topic_message`` makes the chat a forum."""
        sender = self.user(user_id, language_code=language_code)
        chat = self._chat(chat_id, chat_type, title=title, is_forum=True if is_topic_message else None)
        message = self._incoming(
            chat,
            sender,
            reply_to,
            message_thread_id=message_thread_id,
            is_topic_message=is_topic_message,
            **self._text(text, entities),
        )
        return {"message": message}

    def inline_query(
        self,
        query: str,
        user_id: int = DEFAULT_USER_ID,
        *,
        offset: str = "",
        chat_type: str | None = "private",
        language_code: str | None = "id",
    ) -> JSON:
        """An inline query update; its id becomes valid for answerInlineQuery."""
        inline: JSON = {
            "id": self._query_id(),
            "from": self.user(user_id, language_code=language_code),
            "query": query,
            "offset": offset,
        }
        if chat_type:
            inline["chat_type"] = chat_type
        return {"inline_query": inline}

    def callback_query(
        self, data: str, message: JSON | int, *, chat_id: int | None = None, user_id: int = DEFAULT_USER_ID
    ) -> JSON:
        """A button press on ``message`` (a Message dict such as ``Call.result``, or an id)."""
        if isinstance(message, int):
            key = (chat_id or user_id, message)
            message = self._messages.get(key) or {
                "message_id": message,
                "date": int(time.time()),
                "chat": self._chat(key[0]),
            }
        query = {
            "id": self._query_id(),
            "from": self.user(user_id),
            "message": copy.deepcopy(message),
            "chat_instance": f"-{abs(message['chat']['id'])}0042",
            "data": data,
        }
        return {"callback_query": query}

    def sticker(self, emoji: str = "👍", user_id: int = DEFAULT_USER_ID, chat_id: int | None = None) -> JSON:
        file = self.add_file(b"RIFF\x00\x00\x00\x00WEBPVP8 ", "sticker.webp", "image/webp", kind="stickers")
        sticker = {
            **self._media(file),
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return self._media_update(user_id, chat_id, sticker=sticker)

    def photo(
        self,
        caption: str | None = None,
        user_id: int = DEFAULT_USER_ID,
        chat_id: int | None = None,
        content: bytes = b"\xff\xd8\xff\xe0fake-jpeg",
    ) -> JSON:
        sizes = [
            {**self._media(self.add_file(content, None, "image/jpeg", kind="photos")), "width": w, "height": h}
            for w, h in ((90, 60), (1280, 853))
        ]
        return self._media_update(user_id, chat_id, photo=sizes, **self._caption(caption))

    def voice(
        self,
        duration: int = 3,
        user_id: int = DEFAULT_USER_ID,
        chat_id: int | None = None,
        content: bytes = b"OggS\x00fake-opus",
    ) -> JSON:
        file = self.add_file(content, None, "audio/ogg", kind="voice")
        voice = {**self._media(file), "duration": duration, "mime_type": "audio/ogg"}
        return self._media_update(user_id, chat_id, voice=voice)

    def document(
        self,
        file_name: str,
        content: bytes,
        mime_type: str = "application/octet-stream",
        user_id: int = DEFAULT_USER_ID,
        *,
        chat_id: int | None = None,
        caption: str | None = None,
    ) -> JSON:
        """A document message; the bytes are registered for getFile + download."""
        file = self.add_file(content, file_name, mime_type)
        document = {**self._media(file), "file_name": file_name, "mime_type": mime_type}
        return self._media_update(user_id, chat_id, document=document, **self._caption(caption))

    def edited_message(self, message: JSON, text: str, *, entities: list[JSON] | None = None) -> JSON:
        """An ``edited_message`` update for a message (or update) built earlier."""
        original = message.get("message", message)
        edited = {**copy.deepcopy(original), **self._text(text, entities), "edit_date": int(time.time())}
        return {"edited_message": {k: v for k, v in edited.items() if v is not None}}

    def channel_post(self, text: str, chat_id: int = DEFAULT_CHANNEL_ID, *, title: str = "Kabar Channel") -> JSON:
        chat = self._chat(chat_id, "channel", title=title)
        post = self._new_message(chat, None, sender_chat=chat, **self._text(text, None))
        return {"channel_post": post}

    # -------------------------------------------------------- builder helpers

    def _query_id(self) -> str:
        return f"{4_200_000_000_000 + next(self._query_serial)}"

    def _chat(self, chat_id: int, chat_type: str | None = None, **extra: Any) -> JSON:
        known = self._chats.get(chat_id)
        if known is not None and chat_type in (None, known["type"]):
            known.update({k: v for k, v in extra.items() if v is not None and k != "first_name"})
            return known
        if chat_type is None:
            chat_type = "private" if chat_id > 0 else "supergroup" if str(chat_id).startswith("-100") else "group"
        chat: JSON = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            user = self._users.get(chat_id)
            chat["first_name"] = extra.get("first_name") or (user or {}).get("first_name") or f"User{chat_id}"
        else:
            chat["title"] = extra.get("title") or "Kabar Test Group"
            if extra.get("is_forum"):
                chat["is_forum"] = True
        self._chats[chat_id] = chat
        return chat

    def _text(self, text: str, entities: list[JSON] | None) -> JSON:
        entities = detect_entities(text) if entities is None else entities
        return {"text": text, "entities": entities or None}

    @staticmethod
    def _caption(caption: str | None) -> JSON:
        if caption is None:
            return {}
        return {"caption": caption, "caption_entities": detect_entities(caption) or None}

    @staticmethod
    def _media(file: JSON) -> JSON:
        return {"file_id": file["file_id"], "file_unique_id": file["file_unique_id"], "file_size": file["file_size"]}

    def _media_update(self, user_id: int, chat_id: int | None, **content: Any) -> JSON:
        sender = self.user(user_id)
        chat = self._chat(chat_id or user_id, None if chat_id else "private")
        return {"message": self._incoming(chat, sender, None, **content)}

    def _incoming(self, chat: JSON, sender: JSON, reply_to: JSON | int | None, **content: Any) -> JSON:
        """A user's message; ``reply_to`` is a Message/Update dict or a message_id in ``chat``."""
        if isinstance(reply_to, dict):
            reply_to = reply_to.get("message", reply_to)
        elif isinstance(reply_to, int):
            reply_to = self._messages.get((chat["id"], reply_to)) or {
                "message_id": reply_to,
                "date": int(time.time()),
                "chat": chat,
            }
        return self._new_message(chat, sender, reply_to_message=_shallow_reply(reply_to), **content)

    def _new_message(self, chat: JSON, sender: JSON | None, **fields: Any) -> JSON:
        """A Message dict with the next per-chat message_id (shared by both directions)."""
        message_id = self._message_ids.get(chat["id"], 0) + 1
        self._message_ids[chat["id"]] = message_id
        message: JSON = {"message_id": message_id, "date": int(time.time()), "chat": dict(chat)}
        if sender is not None:
            message["from"] = dict(sender)
        message.update({k: v for k, v in fields.items() if v is not None})
        return message

    def _store(self, message: JSON, *, replace: bool = True) -> None:
        key = (message["chat"]["id"], message["message_id"])
        if replace or key not in self._messages:
            self._messages[key] = copy.deepcopy(message)
        self._chats.setdefault(key[0], dict(message["chat"]))
        self._message_ids[key[0]] = max(self._message_ids.get(key[0], 0), key[1])

    # ------------------------------------------------------------- HTTP layer

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            while not self._closing and (request := await _read_request(reader)) is not None:
                status, body, content_type = await self._respond(request)
                reason = _phrase(status)
                head = (
                    f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n"
                    f"Content-Length: {len(body)}\r\n"
                    f"Connection: {'keep-alive' if request.keep_alive else 'close'}\r\n\r\n"
                )
                writer.write(head.encode("latin-1") + body)
                await writer.drain()
                if not request.keep_alive:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass  # client went away or spoke garbage: drop the connection like a real server
        except asyncio.CancelledError:
            # stop() cancels us.  End normally: on Python 3.11 asyncio's stream callback
            # logs a traceback for every connection task that finishes cancelled.
            pass
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()

    async def _respond(self, request: _Request) -> tuple[int, bytes, str]:
        path = unquote(request.path)
        if path.startswith("/file/bot"):
            token, _, file_path = path.removeprefix("/file/bot").partition("/")
            stored = next((f for f in self._files.values() if f.info["file_path"] == file_path), None)
            if token != self.token or stored is None:
                return 404, b"Not Found", "text/plain"
            return 200, stored.content, stored.mime_type or "application/octet-stream"
        if not path.startswith("/bot"):
            return 404, b"Not Found", "text/plain"
        token, _, method = path.removeprefix("/bot").partition("/")
        try:
            params = _parse_params(request)
        except (ValueError, UnicodeDecodeError):
            status, body = 400, BotAPIError(400, "Bad Request: can't parse request body").body()
        else:
            status, body = await self._call(token, method, params)
        if self.delay:
            await asyncio.sleep(self.delay)
        return status, json.dumps(body, ensure_ascii=False).encode(), "application/json"

    async def _call(self, token: str, method: str, params: JSON) -> tuple[int, JSON]:
        name, handler = self._handlers.get(method.lower(), (method, None))
        call = Call(name, params, time.monotonic())
        error: BotAPIError | None = None
        try:
            if token != self.token:
                raise BotAPIError(401, "Unauthorized")
            if handler is None:
                raise BotAPIError(404, "Not Found: method not found")
            faults = self._faults.get(method.lower())
            if faults:
                fault = faults[0]
                fault.remaining -= 1
                if fault.remaining <= 0:
                    faults.pop(0)
                raise fault.error
            call.result = handler(params)
            if inspect.isawaitable(call.result):
                call.result = await call.result
        except BotAPIError as err:
            error = err
        except Exception as exc:  # a bug in this module: answer 500, keep serving, fail at exit
            self.server_errors.append(exc)
            error = BotAPIError(500, f"Internal Server Error: botapi bug: {exc!r}")
        if error is None:
            status, body = 200, {"ok": True, "result": call.result}
        else:
            call.ok, call.error_code, call.description, call.result = False, error.error_code, error.description, None
            status, body = error.error_code, error.body()
        self._calls.append(call)
        self._notify()
        return status, body

    def _notify(self) -> None:
        """Wake every long poll and ``wait_for`` so they re-check their condition."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_changed(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)

    # ------------------------------------------------------- method handlers
    # Each takes the decoded params and returns the ``result`` or raises BotAPIError.

    def _get_me(self, params: JSON) -> JSON:
        return dict(self.me)

    async def _get_updates(self, params: JSON) -> list[JSON]:
        """Long polling: answers as soon as an update is queued, or [] after ``timeout``."""
        if self.webhook:
            raise BotAPIError(409, WEBHOOK_ACTIVE)
        offset = params.get("offset")
        if isinstance(offset, int) and offset < 0:
            del self._updates[:offset]
        elif isinstance(offset, int):
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        allowed = set(params.get("allowed_updates") or ())
        # A newer getUpdates terminates an older one, exactly like Telegram does.
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(float(params.get("timeout") or 0), 0.0)
        while True:
            if generation != self._poll_generation:
                raise BotAPIError(409, POLL_TERMINATED)
            ready = [u for u in self._updates if not allowed or allowed & u.keys()][:limit]
            remaining = deadline - loop.time()
            if ready or remaining <= 0:
                return copy.deepcopy(ready)
            await self._wait_changed(remaining)

    def _set_webhook(self, params: JSON) -> bool:
        if not params.get("url"):
            self.webhook = None
            return True
        self.webhook = {k: v for k, v in params.items() if not isinstance(v, UploadedFile)}
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _delete_webhook(self, params: JSON) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _get_webhook_info(self, params: JSON) -> JSON:
        info: JSON = {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        for key in ("max_connections", "allowed_updates", "ip_address"):
            if self.webhook and key in self.webhook:
                info[key] = self.webhook[key]
        return info

    def _send_message(self, params: JSON) -> JSON:
        chat = self._target_chat(params)
        text, entities = self._format(
            params.get("text"), params.get("parse_mode"), params.get("entities"), MAX_TEXT, "message text"
        )
        message = self._outgoing(chat, params, text=text, entities=entities or None)
        if params.get("link_preview_options"):
            message["link_preview_options"] = params["link_preview_options"]
        return message

    def _send_document(self, params: JSON) -> JSON:
        chat = self._target_chat(params)
        document = params.get("document")
        if isinstance(document, UploadedFile):
            mime = document.content_type or "application/octet-stream"
            info = self.add_file(document.content, document.filename, mime)
            media: JSON = {**self._media(info), "mime_type": mime}
            if document.filename:
                media["file_name"] = document.filename
        elif isinstance(document, str) and document in self._files:
            stored = self._files[document]
            media = {**self._media(stored.info), "file_name": stored.file_name, "mime_type": stored.mime_type}
            media = {k: v for k, v in media.items() if v is not None}
        else:
            raise BotAPIError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        content: JSON = {"document": media}
        if params.get("caption"):
            caption, entities = self._format(
                params["caption"],
                params.get("parse_mode"),
                params.get("caption_entities"),
                MAX_CAPTION,
                "message caption",
            )
            content.update(caption=caption, caption_entities=entities or None)
        return self._outgoing(chat, params, **content)

    def _edit_message_text(self, params: JSON) -> JSON | bool:
        text, entities = self._format(
            params.get("text"), params.get("parse_mode"), params.get("entities"), MAX_TEXT, "message text"
        )
        if params.get("inline_message_id"):
            return True
        return self._edit(params, text=text, entities=entities or None, reply_markup=_inline_markup(params))

    def _edit_message_reply_markup(self, params: JSON) -> JSON | bool:
        if params.get("inline_message_id"):
            return True
        return self._edit(params, reply_markup=_inline_markup(params))

    def _send_chat_action(self, params: JSON) -> bool:
        self._target_chat(params)
        if not params.get("action"):
            raise BotAPIError(400, "Bad Request: wrong parameter action in request")
        return True

    def _answer_inline_query(self, params: JSON) -> bool:
        self._check_query(params.get("inline_query_id"))
        results = params.get("results")
        if not isinstance(results, list):
            raise BotAPIError(400, "Bad Request: can't parse inline query results JSON object")
        if len(results) > 50:
            raise BotAPIError(400, "Bad Request: RESULTS_TOO_MUCH")
        return True

    def _answer_callback_query(self, params: JSON) -> bool:
        self._check_query(params.get("callback_query_id"))
        return True

    def _set_my_commands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise BotAPIError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            name, description = command.get("command", ""), command.get("description", "")
            if self.strict and not _BOT_COMMAND_NAME_RE.fullmatch(name):
                raise BotAPIError(400, "Bad Request: BOT_COMMAND_INVALID")
            if self.strict and not 1 <= len(description) <= 256:
                raise BotAPIError(
                    400,
                    "Bad Request: command description is empty"
                    if not description
                    else "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID",
                )
        self.commands[_commands_key(params)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    def _get_my_commands(self, params: JSON) -> list[JSON]:
        return copy.deepcopy(self.commands.get(_commands_key(params), []))

    def _delete_my_commands(self, params: JSON) -> bool:
        self.commands.pop(_commands_key(params), None)
        return True

    def _get_file(self, params: JSON) -> JSON:
        stored = self._files.get(str(params.get("file_id")))
        if stored is None:
            raise BotAPIError(400, "Bad Request: invalid file_id")
        if len(stored.content) > 20 * 1024 * 1024:
            raise BotAPIError(400, "Bad Request: file is too big")
        return dict(stored.info)

    def _close(self, params: JSON) -> bool:
        return True

    def _log_out(self, params: JSON) -> bool:
        return True

    # ------------------------------------------------------- handler helpers

    def _target_chat(self, params: JSON) -> JSON:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise BotAPIError(400, "Bad Request: chat_id is empty")
        if not isinstance(chat_id, int):
            raise BotAPIError(400, "Bad Request: chat not found")
        return self._chat(chat_id)

    def _format(self, text: Any, parse_mode: Any, entities: Any, limit: int, what: str) -> tuple[str, list[JSON]]:
        """Apply ``parse_mode`` like Telegram: returns (plain text, entities) or raises 400."""
        text = "" if text is None else str(text)
        entities = list(entities or [])
        if str(parse_mode).upper() == "HTML":
            try:
                text, entities = _TelegramHTML(text).parse()
            except _EntityParseError as err:
                if self.strict:
                    raise BotAPIError(400, f"Bad Request: can't parse entities: {err}") from None
        if self.strict and not text.strip():
            raise BotAPIError(400, f"Bad Request: {what} is empty")
        if self.strict and utf16_len(text) > limit:
            raise BotAPIError(400, f"Bad Request: {what.replace(' text', '')} is too long")
        return text, entities

    def _outgoing(self, chat: JSON, params: JSON, **content: Any) -> JSON:
        """Build, store and return a Message sent by the bot (reply, thread, markup echoed)."""
        reply = params.get("reply_parameters") or {}
        if not reply and params.get("reply_to_message_id"):
            reply = {
                "message_id": params["reply_to_message_id"],
                "allow_sending_without_reply": params.get("allow_sending_without_reply"),
            }
        reply_to = None
        if reply:
            reply_chat = reply.get("chat_id", chat["id"])
            reply_to = self._messages.get((reply_chat, reply.get("message_id")))
            if reply_to is None and self.strict and not reply.get("allow_sending_without_reply"):
                raise BotAPIError(400, "Bad Request: message to be replied not found")
        thread_id = params.get("message_thread_id")
        if reply_to is not None and thread_id is None:
            thread_id = reply_to.get("message_thread_id")
        message = self._new_message(
            chat,
            self.bot_user,
            message_thread_id=thread_id,
            is_topic_message=True if thread_id and chat.get("is_forum") else None,
            reply_to_message=_shallow_reply(reply_to),
            reply_markup=_inline_markup(params),
            **content,
        )
        self._store(message)
        return message

    def _edit(self, params: JSON, **changes: Any) -> JSON:
        key = (params.get("chat_id"), params.get("message_id"))
        current = self._messages.get(key)
        if current is None:
            raise BotAPIError(400, "Bad Request: message to edit not found")
        if current.get("from", {}).get("id") != self.bot_user["id"]:
            raise BotAPIError(400, "Bad Request: message can't be edited")
        if "text" in changes and "text" not in current:
            raise BotAPIError(400, "Bad Request: there is no text in the message to edit")
        edited = {k: v for k, v in {**current, **changes}.items() if v is not None}
        unchanged = {k: v for k, v in current.items() if k != "edit_date"}
        if self.strict and {k: v for k, v in edited.items() if k != "edit_date"} == unchanged:
            raise BotAPIError(400, NOT_MODIFIED)
        edited["edit_date"] = int(time.time())
        self._messages[key] = copy.deepcopy(edited)
        return edited

    def _check_query(self, query_id: Any) -> None:
        if self.strict and query_id not in self._query_ids:
            raise BotAPIError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")


# ------------------------------------------------------------------ module helpers


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _shallow_reply(message: JSON | None) -> JSON | None:
    """Telegram nests only one level of ``reply_to_message``."""
    if message is None:
        return None
    return {k: copy.deepcopy(v) for k, v in message.items() if k != "reply_to_message"}


def _inline_markup(params: JSON) -> JSON | None:
    """Only inline keyboards are part of a returned Message; reply keyboards are not."""
    markup = params.get("reply_markup")
    return markup if isinstance(markup, dict) and "inline_keyboard" in markup else None


def _commands_key(params: JSON) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")


async def _read_request(reader: asyncio.StreamReader) -> _Request | None:
    """Read one HTTP/1.1 request; ``None`` on a clean EOF between requests."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as err:
        if err.partial.strip():
            raise
        return None
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    verb, target, version = request_line.split(" ", 2)
    headers: dict[str, str] = {}
    for line in header_lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
        while await reader.readuntil(b"\r\n") != b"\r\n":
            pass  # trailers
        body = b"".join(chunks)
    else:
        body = await reader.readexactly(int(headers.get("content-length") or 0))
    parts = urlsplit(target)
    keep_alive = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
    return _Request(verb, parts.path, parts.query, headers, body, keep_alive)


def _decode_value(name: str, value: Any) -> Any:
    """Form values are strings; decode the JSON-typed ones (markup, entities, ints...)."""
    if not isinstance(value, str) or name in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _parse_params(request: _Request) -> JSON:
    """Merge query string and body (form-urlencoded, multipart or JSON) into one dict."""
    raw: dict[str, Any] = dict(parse_qsl(request.query, keep_blank_values=True))
    content_type = request.headers.get("content-type", "")
    mime = content_type.split(";")[0].strip().lower()
    files: dict[str, UploadedFile] = {}
    if mime == "application/json" and request.body:
        body = json.loads(request.body)
        if not isinstance(body, dict):
            raise ValueError("JSON body must be an object")
        raw.update(body)
    elif mime == "multipart/form-data":
        fields, files = _parse_multipart(content_type, request.body)
        raw.update(fields)
    elif request.body:
        raw.update(parse_qsl(request.body.decode(), keep_blank_values=True))
    params = {name: _decode_value(name, value) for name, value in raw.items()}
    for name, value in list(params.items()):
        if isinstance(value, str) and value.startswith("attach://") and value[9:] in files:
            params[name] = files[value[9:]]
    params.update({name: f for name, f in files.items() if name not in params})
    return params


def _parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, UploadedFile]]:
    """Split a multipart/form-data body byte-exactly (file parts stay raw bytes)."""
    header_parser = email.parser.HeaderParser()
    boundary = header_parser.parsestr(f"Content-Type: {content_type}\r\n\r\n").get_boundary()
    if not boundary:
        raise ValueError("multipart body without boundary")
    fields: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}
    for chunk in (b"\r\n" + body).split(b"\r\n--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):
            break  # closing delimiter
        head, _, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        # httpx (like browsers) sends non-ASCII file names as raw UTF-8, not RFC 2231.
        headers = header_parser.parsestr(head.decode("utf-8", "replace") + "\r\n\r\n")
        name = headers.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        filename = headers.get_filename()
        if filename is not None:  # undo the HTML5 form escapes httpx applies
            filename = filename.replace("%22", '"').replace("%0D", "\r").replace("%0A", "\n")
        if filename is None:
            fields[name] = content.decode()
        else:
            files[name] = UploadedFile(
                name, filename, content, headers.get_content_type() if headers.get("content-type") else None
            )
    return fields, files
