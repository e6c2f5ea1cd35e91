"""One bad update never stops the bot: it is logged (without its text) and the user gets an apology."""

from __future__ import annotations

import logging

from telegram import Update

from bot.context import Context, lang
from bot.texts import t

log = logging.getLogger(__name__)


async def on_error(update: object, context: Context) -> None:
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("error while handling update %s", update_id, exc_info=context.error)
    if not isinstance(update, Update):
        return
    sorry = t(lang(update), "sorry")
    try:  # the apology itself may fail (blocked, deleted chat, answered query); never raise from here
        if update.callback_query:
            await update.callback_query.answer(sorry)
        elif update.inline_query:
            await update.inline_query.answer([], cache_time=0)
        elif update.message:
            await update.message.reply_text(sorry, do_quote=True, allow_sending_without_reply=True)
    except Exception:
        log.warning("could not send the apology for update %s", update_id)
