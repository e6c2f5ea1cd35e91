"""Admins change the index: /refresh, /add (a link, pasted text or an uploaded file), /remove.

Every change goes through the engine's one refresh worker: requests arriving while it works share
its next run, nobody holds a thread while waiting, and questions keep being answered from the
current snapshot until the new one is swapped in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatAction
from telegram.error import TelegramError

from bot.context import Context, is_admin, lang
from bot.questions import not_text
from bot.sending import edit, reply
from bot.texts import t, t_html
from index import ingest
from index.build import BuildReport
from index.loader import MAX_BYTES, SUFFIXES
from index.models import Article

log = logging.getLogger(__name__)

TITLE_CHARS = 300  # an article title quoted in an admin reply
ERROR_CHARS = 300  # a reason quoted in a reply


@dataclass(frozen=True)
class Removal:
    """A pending /remove confirmation: which article, and which button."""

    article_id: str
    title: str
    delete: bool


def cut(text: object, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _byline(article: Article, language: str) -> str:
    return f"{article.outlet or t(language, 'unknown_outlet')} · {article.date or t(language, 'unknown_date')}"


def _counts(report: BuildReport) -> dict[str, int]:
    return {k: getattr(report, k) for k in ("added", "updated", "removed", "unchanged", "passages", "embedded")}


async def refreshed(context: Context) -> BuildReport | str:
    """Refresh the index (merged with requests already waiting): its report, or why it failed."""
    try:
        return await asyncio.shield(asyncio.wrap_future(context.engine.refresh_soon()))
    except Exception as exc:  # the old index stays in place; say why
        log.exception("refresh failed")
        return cut(exc, ERROR_CHARS)


def refresh_line(result: BuildReport | str, language: str) -> str:
    if isinstance(result, str):
        return t_html(language, "refresh_failed", error=result)
    return t_html(language, "refreshed", **_counts(result))


async def refuse_non_admin(update: Update, context: Context, command: str) -> bool:
    """True, after a polite refusal logged with the user id, when the sender is not an admin."""
    if is_admin(update, context):
        return False
    log.warning("refused %s from user %s", command, update.effective_user.id if update.effective_user else "?")
    await update.effective_message.reply_text(t(lang(update), "admin_only"), do_quote=True)
    return True


async def refresh_command(update: Update, context: Context) -> None:
    """Re-scan the corpus; five presses in a row are at most two refreshes."""
    message, language = update.effective_message, lang(update)
    if await refuse_non_admin(update, context, "/refresh"):
        return
    await message.reply_text(t(language, "refreshing"), do_quote=True)
    await reply(message, [refresh_line(await refreshed(context), language)])


def _after_command(message: Message) -> str:
    """Everything after the command word, line breaks kept ("/add\nJudul\n\nIsi" → "Judul\n\nIsi")."""
    parts = (message.text or "").split(maxsplit=1)
    return parts[1].strip() if len(parts) == 2 else ""


def _index_note(context: Context, report: BuildReport, file: str, language: str) -> str:
    """Whether the new file made it into the index: passages, or the same story already there."""
    for kept, dropped in report.duplicates:
        if file in (kept, dropped):
            return t_html(language, "add_same_story", other=dropped if kept == file else kept)
    snapshot = context.engine.snapshot
    if snapshot is None or file not in snapshot.articles:
        return t_html(language, "add_not_indexed")
    note = t_html(language, "add_indexed", passages=sum(1 for p in snapshot.passages if p.article_id == file))
    similar = [a if b == file else b for a, b, _ in report.near_duplicates if file in (a, b)]
    return note + (" " + t_html(language, "add_similar", other=similar[0]) if similar else "")


async def _add_article(update: Update, context: Context, make: Callable[[], Article], source: str) -> None:
    """Ingest (in a thread: fetching and extraction block), save under corpus/added/, refresh, report."""
    message, language, corpus = update.effective_message, lang(update), context.settings.corpus_dir
    with contextlib.suppress(TelegramError):
        await message.reply_chat_action(ChatAction.TYPING)
    try:
        article = await asyncio.to_thread(make)
        path = await asyncio.to_thread(ingest.save, corpus, article)
    except (ingest.IngestError, OSError) as exc:
        log.info("not added (%s): %s", source, exc)
        await reply(message, [t_html(language, "add_failed", error=cut(exc, ERROR_CHARS))])
        return
    file = path.relative_to(corpus).as_posix()
    log.info("user %s added %s (%s)", update.effective_user.id, file, source)
    title, byline = cut(article.title, TITLE_CHARS), _byline(article, language)
    lines = [t_html(language, "added", title=title, byline=byline, file=file)]
    report = await refreshed(context)
    if isinstance(report, str):  # the file stays; the next refresh picks it up
        lines.append(t_html(language, "add_saved_refresh_failed", error=report))
    else:
        lines += [_index_note(context, report, file, language), refresh_line(report, language)]
    await reply(message, ["\n\n".join(lines)])


async def add_command(update: Update, context: Context) -> None:
    """`/add URL`, or `/add` + pasted text (first line = title); alone, a usage hint."""
    message, language = update.effective_message, lang(update)
    if await refuse_non_admin(update, context, "/add"):
        return
    rest, policy = _after_command(message), context.settings.fetch_policy
    if not rest:
        await reply(message, [t_html(language, "add_usage")])
    elif not re.search(r"\s", rest):  # one word: a URL (from_url says why if it is not http(s))
        await _add_article(update, context, lambda: ingest.from_url(rest, policy), "url")
    else:
        await _add_article(update, context, lambda: ingest.from_text(rest), "text")


async def document_upload(update: Update, context: Context) -> None:
    """An admin's .txt/.md/.html file becomes an article; anyone else gets the text-only hint (no download)."""
    message, language = update.effective_message, lang(update)
    if not is_admin(update, context):
        await not_text(update, context)
        return
    document = message.document
    name = document.file_name or ""
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        await reply(message, [t_html(language, "upload_type", suffix=suffix or f"“{cut(name, 60)}”")])
        return
    if (document.file_size or 0) > MAX_BYTES:
        size_mb, limit_mb = f"{document.file_size / 2**20:.1f}", MAX_BYTES // 2**20
        await reply(message, [t_html(language, "upload_too_big", size=size_mb, limit=limit_mb)])
        return
    try:
        data = bytes(await (await document.get_file()).download_as_bytearray())
    except TelegramError as exc:
        log.warning("could not download %s: %s", name, exc)
        await reply(message, [t_html(language, "add_failed", error=cut(exc, ERROR_CHARS))])
        return
    await _add_article(update, context, lambda: ingest.from_upload(name, data), "upload")


async def remove_command(update: Update, context: Context) -> None:
    """`/remove <number in /sources, file or title piece>` → a confirmation with Delete / Cancel buttons."""
    message, language = update.effective_message, lang(update)
    if await refuse_non_admin(update, context, "/remove"):
        return
    name = " ".join(_after_command(message).split())
    if not name:
        await reply(message, [t_html(language, "remove_usage")])
        return
    try:
        article = ingest.resolve(context.engine.articles(), name)
    except ingest.IngestError as exc:
        await reply(message, [t_html(language, "remove_not_found", error=cut(exc, ERROR_CHARS))])
        return
    title, byline = cut(article.title, TITLE_CHARS), _byline(article, language)
    buttons = [
        InlineKeyboardButton(f"{t(language, 'delete')} 🗑", callback_data=Removal(article.id, title, True)),
        InlineKeyboardButton(t(language, "cancel"), callback_data=Removal(article.id, title, False)),
    ]
    text = t_html(language, "remove_confirm", title=title, byline=byline, file=article.id)
    await reply(message, [text], InlineKeyboardMarkup([buttons]))


async def remove_button(update: Update, context: Context) -> None:
    """Delete / Cancel under a /remove confirmation; only an admin's press counts, even after a restart."""
    query, language = update.callback_query, lang(update)
    removal: Removal = query.data
    if not is_admin(update, context):
        log.warning("refused /remove confirmation from user %s", query.from_user.id)
        await query.answer(t(language, "admin_only"), show_alert=True)
        return
    removing: set[str] = context.bot_data.setdefault("removing", set())
    snapshot = context.engine.snapshot
    article = snapshot.articles.get(removal.article_id) if snapshot else None
    if article is None or removal.article_id in removing:  # done (or under way) after an earlier press
        await query.answer(t(language, "remove_expired"))
        return
    title = removal.title
    if not removal.delete:
        await query.answer()
        await edit(query, t_html(language, "remove_cancelled", title=title))
        return
    removing.add(article.id)  # before any await: a double tap finds it
    try:
        await query.answer()
        await edit(query, t_html(language, "removing", title=title))
        try:
            await asyncio.to_thread(ingest.remove, context.settings.corpus_dir, article)
        except (ingest.IngestError, OSError) as exc:
            await edit(query, t_html(language, "remove_failed", error=cut(exc, ERROR_CHARS)))
            return
        log.info("user %s removed %s", query.from_user.id, article.id)
        done = t_html(language, "removed", title=title, file=article.id)
        await edit(query, f"{done}\n\n{refresh_line(await refreshed(context), language)}")
    finally:
        removing.discard(article.id)
