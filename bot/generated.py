"""A generated answer, streamed into one Telegram message: edited as the model writes (at most once a
second per chat), typing shown meanwhile; the last edit carries the checked answer, its numbered
citations and the buttons. A failing, slow or uncited reply ends as the quoted answer in that same
message: one answer per question, never two.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import time

from telegram import Message, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, TelegramError

from bot.context import Context
from bot.format import LIMIT, pack
from bot.sending import html_or_plain, reply
from index.generate import PROMPT_VERSION, Written, shown
from index.models import Answer

log = logging.getLogger(__name__)

EDIT_EVERY = 1.0  # seconds between edits of messages in one chat (Telegram allows about one a second)
TYPING_EVERY = 4.0  # Telegram shows "typing…" for about five seconds


def _wait(context: Context, chat_id: int) -> float:
    """Seconds until this chat may see another edit."""
    last = context.bot_data.setdefault("last_edit", {}).get(chat_id, 0.0)
    return max(0.0, last + EDIT_EVERY - time.monotonic())


def _edited(context: Context, chat_id: int) -> None:
    context.bot_data["last_edit"][chat_id] = time.monotonic()


async def _keep_typing(message: Message) -> None:
    while True:
        with contextlib.suppress(TelegramError):
            await message.reply_chat_action(ChatAction.TYPING)
        await asyncio.sleep(TYPING_EVERY)


def _draft(text: str) -> str:
    """The reply so far, as a message: escaped, and cut below Telegram's limit."""
    room = LIMIT - 10
    return html.escape(text if len(text) <= room // 2 else text[: room // 2] + " …")


async def _stream(
    context: Context, message: Message, question: str, answer: Answer
) -> tuple[Written | None, Message | None]:
    """Stream the model's reply into one draft message; (the verdict or None on failure, the draft).

    The timeout bounds the model only: a Telegram call is never cut short (a cancelled send may still
    have been delivered, and the answer would then come twice).
    """
    chat, draft, shown_text = message.chat_id, None, ""
    stream = context.writer.stream(question, answer, context.settings.top_k)
    deadline = asyncio.get_running_loop().time() + context.settings.llm_timeout
    try:
        while True:
            try:
                async with asyncio.timeout_at(deadline):
                    part = await anext(stream)
            except StopAsyncIteration:
                return None, draft
            if isinstance(part, Written):
                return part, draft
            text = _draft(part.rstrip())
            if _wait(context, chat) > 0 or not text or text == shown_text:
                continue  # too soon for this chat, or nothing new to show
            if draft is None:
                draft = await message.reply_text(
                    text, parse_mode=ParseMode.HTML, do_quote=True, allow_sending_without_reply=True
                )
            else:
                with contextlib.suppress(BadRequest):  # "message is not modified": the draft stands
                    await draft.edit_text(text, parse_mode=ParseMode.HTML)
            shown_text = text
            _edited(context, chat)
    except Exception as exc:  # noqa: BLE001 (a timeout, an HTTP error, a dropped stream: quote instead)
        log.warning("the language model failed (%s); quoting the articles", type(exc).__name__)
        return None, draft
    finally:
        await stream.aclose()


async def reply_generated(
    update: Update, context: Context, question: str, answer: Answer, blocks_of, markup_of
) -> list[Message]:
    """The answer the model wrote (checked), or the quoted one, as one reply. `blocks_of(answer)` and
    `markup_of(answer)` format whichever answer is shown, the way quoted answers are."""
    message = update.effective_message
    typing = asyncio.create_task(_keep_typing(message))
    try:
        written, draft = await _stream(context, message, question, answer)
    finally:
        typing.cancel()
    final = shown(answer, written)
    if written is not None:
        log.info(
            "generated answer (%s, prompt %s): %s, %d+%d tokens",
            "shown" if final.generated else "not used",
            PROMPT_VERSION,
            written.verdict,
            written.prompt_tokens,
            written.completion_tokens,
        )
    parts, markup = pack(blocks_of(final)), markup_of(final)
    if draft is None:
        return await reply(message, parts, markup)
    await asyncio.sleep(_wait(context, message.chat_id))
    last = len(parts) == 1
    await html_or_plain(draft.edit_text, parts[0], reply_markup=markup if last else None)
    _edited(context, message.chat_id)
    return [draft] if last else [draft, *await reply(message, parts[1:], markup)]
