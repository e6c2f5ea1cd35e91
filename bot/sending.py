"""Sending and editing HTML messages, with one fallback to plain text if Telegram rejects the HTML."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import CallbackQuery, InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.format import Block, pack, to_plain

log = logging.getLogger(__name__)

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


async def html_or_plain(send: Callable[..., Awaitable], text: str, **options):
    """`send(text, parse_mode=HTML, …)`; if Telegram can't parse the HTML, the same text as plain text."""
    try:
        return await send(text, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW, **options)
    except BadRequest as exc:
        if "can't parse entities" not in str(exc).lower():
            raise
        log.warning("Telegram rejected the HTML (%s); resending as plain text", exc)
        return await send(to_plain(text), **options)


async def reply(message: Message, parts: list[str], markup: InlineKeyboardMarkup | None = None) -> list[Message]:
    """Reply with each part as a message, the keyboard under the last."""
    sent = []
    for i, part in enumerate(parts):
        keyboard = markup if i == len(parts) - 1 else None
        options = dict(reply_markup=keyboard, do_quote=True, allow_sending_without_reply=True)
        sent.append(await html_or_plain(message.reply_text, part, **options))
    return sent


async def reply_blocks(message: Message, blocks: list[Block], markup: InlineKeyboardMarkup | None = None):
    return await reply(message, pack(blocks), markup)


async def edit(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Replace the message under a pressed button; pressing twice (same text) is not an error."""
    try:
        await html_or_plain(query.edit_message_text, text, reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise
