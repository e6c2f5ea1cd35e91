"""Telegram handlers: short functions from an update to a reply, all heavy work off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import re
import secrets
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot.format import (
    LIMIT,
    Block,
    answer_blocks,
    article_blocks,
    citation,
    pack,
    passage_blocks,
    size,
    to_plain,
)
from bot.texts import EXAMPLES, lang_of, t, t_html
from index import ingest
from index.build import BuildReport
from index.engine import Engine
from index.loader import MAX_BYTES, SUFFIXES
from index.models import Answer, Article

log = logging.getLogger(__name__)

HITS = 10  # passages fetched per question; "More" pages through them
SOURCES_PAGE = 10
FOLLOW_UP_WORDS = 6  # a reply this short to one of our answers is read as a follow-up
INLINE_RESULTS = 5
ARTICLE_PARTS = 5  # the "Article" button sends at most this many messages
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
TITLE_CHARS = 300  # an article title quoted in an admin reply
ERROR_CHARS = 300  # a reason quoted in a reply


class Memory(OrderedDict):
    """A bounded map: answers behind buttons, questions behind sent messages."""

    def __init__(self, size: int = 5000):
        super().__init__()
        self.size = size

    def put(self, key, value):
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)
        return key


def engine(context: ContextTypes.DEFAULT_TYPE) -> Engine:
    return context.bot_data["engine"]


def memory(context: ContextTypes.DEFAULT_TYPE, name: str) -> Memory:
    return context.bot_data.setdefault(name, Memory())


def lang(update: Update) -> str:
    user = update.effective_user
    return lang_of(user.language_code if user else None)


def is_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    user = update.effective_user
    return user is not None and user.id in context.bot_data["settings"].admin_ids


# --- sending ---------------------------------------------------------------------------------


async def reply_html(message: Message, blocks: list[Block], markup: InlineKeyboardMarkup | None = None):
    return await send_parts(message, pack(blocks), markup)


async def send_parts(message: Message, parts: list[str], markup: InlineKeyboardMarkup | None = None) -> list[Message]:
    """Reply with HTML messages (the keyboard under the last); plain text if Telegram rejects the HTML."""
    sent = []
    for i, part in enumerate(parts):
        keyboard = markup if i == len(parts) - 1 else None
        options = dict(reply_markup=keyboard, do_quote=True, allow_sending_without_reply=True)
        try:
            sent.append(
                await message.reply_text(part, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW, **options)
            )
        except BadRequest as exc:
            if "can't parse entities" not in str(exc).lower():
                raise
            log.warning("Telegram rejected the HTML (%s); resending as plain text", exc)
            sent.append(await message.reply_text(to_plain(part), **options))
    return sent


def answer_keyboard(key: str, answer: Answer, offset: int, language: str, with_article: bool = True):
    row = []
    if len(answer.hits) > offset:
        row.append(InlineKeyboardButton(f"{t(language, 'more')} ▾", callback_data=f"m|{key}|{offset}"))
    if with_article and answer.hits:
        row.append(InlineKeyboardButton(f"{t(language, 'article')} 📄", callback_data=f"a|{key}|0"))
    return InlineKeyboardMarkup([row]) if row else None


# --- questions -------------------------------------------------------------------------------


def strip_mention(message: Message, username: str) -> tuple[bool, str]:
    """(does the message mention @username?, its text without that mention)."""
    text, mentioned = message.text or "", False
    for entity, value in sorted(message.parse_entities([MessageEntity.MENTION]).items(), key=lambda e: -e[0].offset):
        if value.lstrip("@").lower() == username.lower():
            mentioned = True
            start = len(text.encode("utf-16-le")[: entity.offset * 2].decode("utf-16-le"))
            text = text[:start] + " " + text[start + len(value) :]
    return mentioned, text


def reply_language(answer: Answer, language: str) -> str:
    """A question asked in English gets Kabar's own words in English, whatever the client's language."""
    return "en" if answer.language == "en" else language


def not_found_or_answer(answer: Answer, shown: int, language: str) -> list[Block]:
    closest = t(language, "closest", title=answer.closest) if answer.closest else ""
    return answer_blocks(answer, shown, t(language, "not_found"), t(language, "not_found_hint"), closest)


async def answer_question(
    update: Update, context: ContextTypes.DEFAULT_TYPE, question: str, command: bool = False
) -> None:
    """The one path every question takes: checks, typing, search off the loop, reply, remember."""
    message, language = update.effective_message, lang(update)
    settings = context.bot_data["settings"]
    question = " ".join(question.split())
    example = EXAMPLES[language][0]
    if command and not question:
        await message.reply_text(t(language, "ask_usage", example=example), do_quote=True)
        return
    if not re.search(r"\w", question):  # empty, emoji or punctuation only
        await message.reply_text(t(language, "no_words", example=example), do_quote=True)
        return
    notes: list[Block] = []
    if len(question) > settings.max_question_chars:
        question = question[: settings.max_question_chars]
        notes.append(Block(t(language, "too_long", limit=settings.max_question_chars), "i"))

    asked = memory(context, "asked")
    replied = message.reply_to_message
    earlier = asked.get((message.chat_id, replied.message_id)) if replied else None
    if earlier and len(question.split()) <= FOLLOW_UP_WORDS:
        question = f"{earlier[-settings.max_question_chars :]} {question}"

    with contextlib.suppress(TelegramError):  # cosmetic: never lose an answer over it
        await message.reply_chat_action(ChatAction.TYPING)
    answer = await asyncio.to_thread(engine(context).ask, question, HITS)
    language = reply_language(answer, language)
    key = memory(context, "answers").put(secrets.token_hex(4), answer)
    shown = settings.top_k
    blocks = notes + not_found_or_answer(answer, shown, language)
    markup = answer_keyboard(key, answer, shown, language) if answer.found else None
    for sent in await reply_html(message, blocks, markup):
        asked.put((sent.chat_id, sent.message_id), question)


def _from_us(message: Message | None, context: ContextTypes.DEFAULT_TYPE) -> bool:
    return bool(message and message.from_user and message.from_user.id == context.bot.id)


async def private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message.via_bot and message.via_bot.id == context.bot.id:
        return  # one of our inline answers, sent into our own chat
    await answer_question(update, context, strip_mention(message, context.bot.username)[1])


async def group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In groups, answer only when addressed: a mention or a reply to one of our messages."""
    message = update.effective_message
    mentioned, text = strip_mention(message, context.bot.username)
    replied = message.reply_to_message
    # In forum topics every message "replies" to the topic's first message; that is no address.
    to_us = _from_us(replied, context) and not replied.forum_topic_created
    if (mentioned or to_us) and not message.via_bot:
        await answer_question(update, context, text)


async def ask_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await answer_question(update, context, " ".join(context.args or ()), command=True)


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice, documents: a hint in private chats (the filter keeps groups silent)."""
    await update.effective_message.reply_text(t(lang(update), "not_text"), do_quote=True)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(t(lang(update), "unknown_command"), do_quote=True)


# --- commands --------------------------------------------------------------------------------


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    language = lang(update)
    articles = engine(context).articles()
    dates = sorted(a.date for a in articles if a.date)
    span = ""
    if dates:
        span = t(language, "span", first=dates[0], last=dates[-1]) if dates[0] != dates[-1] else ""
        span = span or t(language, "span_one", first=dates[0])
    examples = "\n".join(f"• {html.escape(q)}" for q in EXAMPLES[language])
    text = t(language, "help", articles=len(articles), span=span, examples=examples, bot=context.bot.username)
    await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML)


def sources_page(context: ContextTypes.DEFAULT_TYPE, language: str, page: int):
    """(HTML text, keyboard) of one page of the article list."""
    articles = engine(context).articles()
    if not articles:
        return html.escape(t(language, "sources_empty")), None
    pages = (len(articles) + SOURCES_PAGE - 1) // SOURCES_PAGE
    page = max(0, min(page, pages - 1))
    title = t(language, "sources_title", count=len(articles))
    if pages > 1:
        title += f" · {t(language, 'page', page=page + 1, pages=pages)}"
    lines = [f"<b>{html.escape(title)}</b>"]
    for i, article in enumerate(articles[page * SOURCES_PAGE : (page + 1) * SOURCES_PAGE], page * SOURCES_PAGE + 1):
        name = article.title if len(article.title) <= 200 else article.title[:199] + "…"
        byline = " · ".join(p for p in (article.outlet, article.date) if p)
        lines.append(f"{i}. {html.escape(name)}" + (f" — <i>{html.escape(byline)}</i>" if byline else ""))
    buttons = []
    if page > 0:
        buttons.append(InlineKeyboardButton(t(language, "prev"), callback_data=f"s|{page - 1}"))
    if page < pages - 1:
        buttons.append(InlineKeyboardButton(t(language, "next"), callback_data=f"s|{page + 1}"))
    return "\n".join(lines), InlineKeyboardMarkup([buttons]) if buttons else None


async def sources_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    text, markup = sources_page(context, lang(update), 0)
    await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


def _counts(report: BuildReport) -> dict[str, int]:
    return {k: getattr(report, k) for k in ("added", "updated", "removed", "unchanged", "passages", "embedded")}


async def _refresh_and_report(message: Message, context: ContextTypes.DEFAULT_TYPE, language: str) -> None:
    try:
        report = await asyncio.to_thread(engine(context).refresh)
    except Exception as exc:  # the old index stays in place; say why
        log.exception("refresh failed")
        await message.reply_text(t(language, "refresh_failed", error=str(exc)[:ERROR_CHARS]), do_quote=True)
        return
    await message.reply_text(t(language, "refreshed", **_counts(report)), do_quote=True)


async def refuse_non_admin(update: Update, context: ContextTypes.DEFAULT_TYPE, command: str) -> bool:
    """True, after a polite refusal logged with the user id, when the sender is not an admin."""
    if is_admin(update, context):
        return False
    log.warning("refused %s from user %s", command, update.effective_user.id if update.effective_user else "?")
    await update.effective_message.reply_text(t(lang(update), "admin_only"), do_quote=True)
    return True


async def refresh_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Admins only: re-scan the corpus in a thread; questions keep being answered meanwhile."""
    message, language = update.effective_message, lang(update)
    if await refuse_non_admin(update, context, "/refresh"):
        return
    await message.reply_text(t(language, "refreshing"), do_quote=True)
    await _refresh_and_report(message, context, language)


# --- adding and removing articles (admins) ---------------------------------------------------
# Every index refresh runs in a worker thread: Engine.refresh holds a lock, so two admins'
# commands (or a command and the feed job) queue up instead of failing, and questions keep
# being answered from the current snapshot until the new one is swapped in.


def _cut(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _byline(article: Article, language: str) -> str:
    return f"{article.outlet or t(language, 'unknown_outlet')} · {article.date or t(language, 'unknown_date')}"


def _after_command(message: Message) -> str:
    """Everything after the command word, line breaks kept ("/add\nJudul\n\nIsi" → "Judul\n\nIsi")."""
    parts = (message.text or "").split(maxsplit=1)
    return parts[1].strip() if len(parts) == 2 else ""


def _index_note(context: ContextTypes.DEFAULT_TYPE, report: BuildReport, file: str, language: str) -> str:
    """Whether the new file made it into the index: passages, or the same story already there."""
    for kept, dropped in report.duplicates:
        if file in (kept, dropped):
            return t_html(language, "add_same_story", other=dropped if kept == file else kept)
    snapshot = engine(context).snapshot
    if snapshot is None or file not in snapshot.articles:
        return t_html(language, "add_not_indexed")
    note = t_html(language, "add_indexed", passages=sum(1 for p in snapshot.passages if p.article_id == file))
    similar = [a if b == file else b for a, b, _ in report.near_duplicates if file in (a, b)]
    return note + (" " + t_html(language, "add_similar", other=similar[0]) if similar else "")


async def _add_article(
    update: Update, context: ContextTypes.DEFAULT_TYPE, make: Callable[[], Article], source: str
) -> None:
    """Ingest (in a thread: fetching and extraction block), save under corpus/added/, refresh, report."""
    message, language = update.effective_message, lang(update)
    settings = context.bot_data["settings"]
    with contextlib.suppress(TelegramError):
        await message.reply_chat_action(ChatAction.TYPING)
    try:
        article = await asyncio.to_thread(make)
        path = await asyncio.to_thread(ingest.save, settings.corpus_dir, article)
    except (ingest.IngestError, OSError) as exc:
        log.info("not added (%s): %s", source, exc)
        await send_parts(message, [t_html(language, "add_failed", error=_cut(exc, ERROR_CHARS))])
        return
    file = path.relative_to(settings.corpus_dir).as_posix()
    log.info("user %s added %s (%s)", update.effective_user.id, file, source)
    lines = [
        t_html(language, "added", title=_cut(article.title, TITLE_CHARS), byline=_byline(article, language), file=file)
    ]
    try:
        report = await asyncio.to_thread(engine(context).refresh)
    except Exception as exc:  # the file stays; the next refresh picks it up
        log.exception("refresh after adding %s failed", file)
        lines.append(t_html(language, "add_saved_refresh_failed", error=_cut(exc, ERROR_CHARS)))
    else:
        lines.append(_index_note(context, report, file, language))
        lines.append(t_html(language, "refreshed", **_counts(report)))
    await send_parts(message, ["\n\n".join(lines)])


async def add_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/add URL`, or `/add` + pasted text (first line = title); alone, a usage hint."""
    message, language = update.effective_message, lang(update)
    if await refuse_non_admin(update, context, "/add"):
        return
    rest = _after_command(message)
    if not rest:
        await send_parts(message, [t_html(language, "add_usage")])
    elif not re.search(r"\s", rest):  # one word: a URL (from_url says why if it is not http(s))
        await _add_article(update, context, lambda: ingest.from_url(rest), "url")
    else:
        await _add_article(update, context, lambda: ingest.from_text(rest), "text")


async def document_upload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An admin's .txt/.md/.html file becomes an article; anyone else gets the text-only hint (no download)."""
    message, language = update.effective_message, lang(update)
    if not is_admin(update, context):
        await not_text(update, context)
        return
    document = message.document
    name = document.file_name or ""
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        await send_parts(message, [t_html(language, "upload_type", suffix=suffix or f"“{_cut(name, 60)}”")])
        return
    if (document.file_size or 0) > MAX_BYTES:
        size_mb, limit_mb = f"{document.file_size / 2**20:.1f}", MAX_BYTES // 2**20
        await send_parts(message, [t_html(language, "upload_too_big", size=size_mb, limit=limit_mb)])
        return
    try:
        data = bytes(await (await document.get_file()).download_as_bytearray())
    except TelegramError as exc:
        log.warning("could not download %s: %s", name, exc)
        await send_parts(message, [t_html(language, "add_failed", error=_cut(exc, ERROR_CHARS))])
        return
    await _add_article(update, context, lambda: ingest.from_upload(name, data), "upload")


async def remove_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/remove <file, /sources number or title piece>` → a confirmation with Delete / Cancel buttons."""
    message, language = update.effective_message, lang(update)
    if await refuse_non_admin(update, context, "/remove"):
        return
    name = " ".join(_after_command(message).split())
    if not name:
        await send_parts(message, [t_html(language, "remove_usage")])
        return
    settings = context.bot_data["settings"]
    try:  # the list in /sources order, so "/remove 3" is the third article there
        article = ingest.resolve(settings.corpus_dir, engine(context).articles(), name)
    except ingest.IngestError as exc:
        await send_parts(message, [t_html(language, "remove_not_found", error=_cut(exc, ERROR_CHARS))])
        return
    key = memory(context, "removals").put(secrets.token_hex(4), article)
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(f"{t(language, 'delete')} 🗑", callback_data=f"r|{key}|y"),
                InlineKeyboardButton(t(language, "cancel"), callback_data=f"r|{key}|n"),
            ]
        ]
    )
    title, byline = _cut(article.title, TITLE_CHARS), _byline(article, language)
    await send_parts(message, [t_html(language, "remove_confirm", title=title, byline=byline, file=article.id)], markup)


async def _edit_html(query, text: str) -> None:
    """Replace the confirmation (and its buttons) with `text`; plain text if Telegram rejects the HTML."""
    try:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW)
    except BadRequest as exc:
        if "can't parse entities" not in str(exc).lower():
            raise
        await query.edit_message_text(to_plain(text))


async def remove_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Delete / Cancel under a /remove confirmation; only an admin's press counts."""
    query, language = update.callback_query, lang(update)
    _, key, choice = ((query.data or "").split("|") + ["", ""])[:3]
    if not is_admin(update, context):
        log.warning("refused /remove confirmation from user %s", query.from_user.id)
        await query.answer(t(language, "admin_only"), show_alert=True)
        return
    removals = memory(context, "removals")
    if choice not in ("y", "n") or key not in removals or not isinstance(query.message, Message):
        await query.answer(t(language, "remove_expired"))
        return
    article: Article = removals.pop(key)  # popped at once: a second press finds nothing
    await query.answer()
    title = _cut(article.title, TITLE_CHARS)
    if choice == "n":
        await _edit_html(query, t_html(language, "remove_cancelled", title=title))
        return
    await _edit_html(query, t_html(language, "removing", title=title))
    settings = context.bot_data["settings"]
    try:
        await asyncio.to_thread(ingest.remove, settings.corpus_dir, article)
    except (ingest.IngestError, OSError) as exc:
        await _edit_html(query, t_html(language, "remove_failed", error=_cut(exc, ERROR_CHARS)))
        return
    log.info("user %s removed %s", query.from_user.id, article.id)
    lines = [t_html(language, "removed", title=title, file=article.id)]
    try:
        report = await asyncio.to_thread(engine(context).refresh)
    except Exception as exc:
        log.exception("refresh after removing %s failed", article.id)
        lines.append(t_html(language, "refresh_failed", error=_cut(exc, ERROR_CHARS)))
    else:
        lines.append(t_html(language, "refreshed", **_counts(report)))
    await _edit_html(query, "\n\n".join(lines))


def article_parts(article: Article, language: str) -> list[str]:
    """The whole cleaned article in ≤4096-character messages; a very long one is cut (and says so)."""
    parts = pack(article_blocks(article))
    if len(parts) <= ARTICLE_PARTS:
        return parts
    note = pack([Block(f"{t(language, 'article_cut')} {article.url}".strip(), "i")])[0]
    parts = parts[:ARTICLE_PARTS]
    if size(parts[-1]) + 2 + size(note) <= LIMIT:
        return parts[:-1] + [f"{parts[-1]}\n\n{note}"]
    return parts + [note]


# --- buttons ---------------------------------------------------------------------------------


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every callback query is answered, even a stale or malformed one."""
    query, language = update.callback_query, lang(update)
    kind, *args = (query.data or "").split("|")
    if not isinstance(query.message, Message):  # inline message, or older than 48 hours
        await query.answer(t(language, "expired"))
        return
    if kind == "s" and len(args) == 1 and args[0].isdigit():
        await query.answer()
        text, markup = sources_page(context, language, int(args[0]))
        try:
            await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
        except BadRequest as exc:  # pressed twice: same page
            if "not modified" not in str(exc).lower():
                raise
        return
    answer = memory(context, "answers").get(args[0]) if len(args) == 2 and args[1].isdigit() else None
    position = int(args[1]) if answer else 0
    if answer is None or kind not in ("m", "a") or position >= len(answer.hits):
        await query.answer(t(language, "expired"))
        return
    await query.answer()
    if kind == "m":
        shown = context.bot_data["settings"].top_k
        markup = answer_keyboard(args[0], answer, position + shown, language, with_article=False)
        await reply_html(query.message, passage_blocks(answer.hits[position : position + shown]), markup)
    else:
        cited = answer.hits[position].article
        article = engine(context).snapshot.articles.get(cited.id, cited)
        await send_parts(query.message, article_parts(article, language))


# --- inline mode -----------------------------------------------------------------------------


def _inline_article(result_id: str, title: str, description: str, blocks: list[Block]) -> InlineQueryResultArticle:
    return InlineQueryResultArticle(
        id=result_id,
        title=title[:256],
        description=description[:512],
        input_message_content=InputTextMessageContent(
            pack(blocks, LIMIT)[0], parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW
        ),
    )


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Up to 5 results: the answer (with its best passage), then passages; a hint for an empty query."""
    query, language = update.inline_query, lang(update)
    question = " ".join(query.query.split())[: context.bot_data["settings"].max_question_chars]
    if not re.search(r"\w", question):
        hint = t(language, "inline_hint_body", bot=context.bot.username, example=EXAMPLES[language][0])
        results = [_inline_article("hint", t(language, "inline_hint"), hint, [Block(hint)])]
        button = InlineQueryResultsButton(text="Kabar · /help", start_parameter="help")
        await query.answer(results, cache_time=60, button=button)
        return
    answer = await asyncio.to_thread(engine(context).ask, question, INLINE_RESULTS - 1)
    language = reply_language(answer, language)
    if not answer.found:
        blocks = not_found_or_answer(answer, 0, language)
        results = [_inline_article("none", t(language, "not_found"), t(language, "not_found_hint"), blocks)]
    else:
        results = [_inline_article("answer", answer.text, citation(answer.hits[0].article), answer_blocks(answer, 1))]
        for i, hit in enumerate(answer.hits[: INLINE_RESULTS - 1]):
            description = f"{citation(hit.article)}\n{hit.passage.text}"
            results.append(_inline_article(f"p{i}", hit.article.title, description, passage_blocks([hit])))
    await query.answer(results, cache_time=30, is_personal=False)


# --- errors ----------------------------------------------------------------------------------


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """One bad update never stops the bot: log it (no message text) and apologise."""
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
