"""Telegram handlers: short functions from an update to a reply, all heavy work off the event loop."""

from __future__ import annotations

import asyncio
import html
import logging
import re
import secrets
from collections import OrderedDict

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.format import LIMIT, Block, answer_blocks, article_blocks, citation, pack, passage_blocks, to_plain
from bot.texts import EXAMPLES, lang_of, t
from index.engine import Engine
from index.models import Answer

log = logging.getLogger(__name__)

PASSAGES_SHOWN = 3
SOURCES_PAGE = 10
FOLLOW_UP_WORDS = 6  # a reply this short is read as a follow-up to the earlier question
INLINE_RESULTS = 5


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


def admin_ids(context: ContextTypes.DEFAULT_TYPE) -> frozenset[int]:
    return context.bot_data["settings"].admin_ids


# --- sending ---------------------------------------------------------------------------------


async def reply_html(message: Message, blocks: list[Block], markup: InlineKeyboardMarkup | None = None) -> Message:
    """Reply in as many ≤4096-character HTML messages as needed; plain text if Telegram rejects the HTML."""
    parts = pack(blocks)
    sent = message
    for i, part in enumerate(parts):
        keyboard = markup if i == len(parts) - 1 else None
        try:
            sent = await message.reply_text(
                part, parse_mode=ParseMode.HTML, reply_markup=keyboard, do_quote=True, disable_web_page_preview=True
            )
        except BadRequest as exc:
            if "entit" not in str(exc).lower() and "parse" not in str(exc).lower():
                raise
            log.warning("Telegram rejected the HTML (%s); resending as plain text", exc)
            sent = await message.reply_text(to_plain(part), reply_markup=keyboard, do_quote=True)
    return sent


def answer_keyboard(key: str, answer: Answer, offset: int, language: str, with_article: bool = True):
    row = []
    if len(answer.hits) > offset:
        row.append(InlineKeyboardButton(f"{t(language, 'more')} / More", callback_data=f"m|{key}|{offset}"))
    if with_article and answer.hits:
        row.append(InlineKeyboardButton(f"{t(language, 'article')} / Article", callback_data=f"a|{key}|0"))
    return InlineKeyboardMarkup([row]) if row else None


# --- questions -------------------------------------------------------------------------------


def _clean_question(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


async def answer_question(update: Update, context: ContextTypes.DEFAULT_TYPE, question: str) -> None:
    """The one path every question takes: checks, typing, search off the loop, reply, remember."""
    message = update.effective_message
    language = lang(update)
    question = _clean_question(question)
    example = EXAMPLES[language][0]
    if not question:
        await message.reply_text(t(language, "ask_usage", example=example), do_quote=True)
        return
    if not re.search(r"\w", question):
        await message.reply_text(t(language, "no_words", example=example), do_quote=True)
        return
    limit = context.bot_data["settings"].max_question_chars
    notes: list[Block] = []
    if len(question) > limit:
        question = question[:limit]
        notes.append(Block(t(language, "too_long", limit=limit), "i"))

    asked = memory(context, "asked")
    replied = message.reply_to_message
    earlier = asked.get((message.chat_id, replied.message_id)) if replied else None
    query = f"{earlier} {question}" if earlier and len(question.split()) <= FOLLOW_UP_WORDS else question

    thread = message.message_thread_id if message.is_topic_message else None
    await context.bot.send_chat_action(message.chat_id, ChatAction.TYPING, message_thread_id=thread)
    answer = await asyncio.to_thread(engine(context).ask, query, 10)
    key = memory(context, "answers").put(secrets.token_hex(4), answer)
    blocks = answer_blocks(answer, PASSAGES_SHOWN, t(language, "not_found_hint")) + notes
    markup = answer_keyboard(key, answer, PASSAGES_SHOWN, language) if answer.found else None
    sent = await reply_html(message, blocks, markup)
    asked.put((sent.chat_id, sent.message_id), query)


async def private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await answer_question(update, context, update.effective_message.text or "")


async def ask_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    command = message.entities[0] if message.entities else None
    rest = message.text[command.length :] if command and command.offset == 0 else " ".join(context.args or [])
    await answer_question(update, context, rest)


def _mentions_bot(message: Message, username: str) -> tuple[bool, str]:
    """(addressed?, text without the @mention)."""
    text = message.text or ""
    mentioned = False
    for entity in reversed(message.entities or ()):
        if entity.type != MessageEntity.MENTION:
            continue
        if message.parse_entity(entity).lstrip("@").lower() == username.lower():
            mentioned = True
            text = text[: entity.offset] + text[entity.offset + entity.length :]
    return mentioned, text


async def group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In groups, answer only when addressed: a mention or a reply to one of our messages."""
    message = update.effective_message
    mentioned, text = _mentions_bot(message, context.bot.username)
    replied = message.reply_to_message
    to_us = bool(replied and replied.from_user and replied.from_user.id == context.bot.id)
    if mentioned or to_us:
        await answer_question(update, context, text)


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice, documents: a hint in private chats, silence in groups."""
    message = update.effective_message
    if message.chat.type == ChatType.PRIVATE:
        await message.reply_text(t(lang(update), "not_text"))


# --- commands --------------------------------------------------------------------------------


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    language = lang(update)
    articles = engine(context).articles()
    dates = sorted(a.date for a in articles if a.date)
    span = t(language, "span", first=dates[0], last=dates[-1]) if dates else ""
    examples = "\n".join(f"• {html.escape(q)}" for q in EXAMPLES[language])
    text = t(language, "help", articles=len(articles), span=span, examples=examples, bot=context.bot.username)
    await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML)


def sources_page(context: ContextTypes.DEFAULT_TYPE, language: str, page: int):
    articles = engine(context).articles()
    if not articles:
        return t(language, "sources_empty"), None
    pages = (len(articles) + SOURCES_PAGE - 1) // SOURCES_PAGE
    page = max(0, min(page, pages - 1))
    lines = [f"<b>{html.escape(t(language, 'sources_title', count=len(articles)))}</b>"]
    for i, article in enumerate(articles[page * SOURCES_PAGE : (page + 1) * SOURCES_PAGE], page * SOURCES_PAGE + 1):
        lines.append(f"{i}. {html.escape(citation(article))}")
    buttons = []
    if page > 0:
        buttons.append(InlineKeyboardButton(t(language, "prev"), callback_data=f"s|{page - 1}"))
    if page < pages - 1:
        buttons.append(InlineKeyboardButton(t(language, "next"), callback_data=f"s|{page + 1}"))
    return "\n".join(lines), InlineKeyboardMarkup([buttons]) if buttons else None


async def sources_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    text, markup = sources_page(context, lang(update), 0)
    await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def refresh_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Admins only: re-scan the corpus in a thread; questions keep being answered meanwhile."""
    message, user, language = update.effective_message, update.effective_user, lang(update)
    if not user or user.id not in admin_ids(context):
        log.warning("refused /refresh from user %s", user.id if user else "?")
        await message.reply_text(t(language, "admin_only"), do_quote=True)
        return
    await message.reply_text(t(language, "refreshing"), do_quote=True)
    try:
        report = await asyncio.to_thread(engine(context).refresh)
    except Exception as exc:  # the old index stays in place; say why
        log.exception("refresh failed")
        await message.reply_text(t(language, "refresh_failed", error=str(exc)[:300]), do_quote=True)
        return
    await message.reply_text(
        t(
            language,
            "refreshed",
            added=report.added,
            updated=report.updated,
            removed=report.removed,
            unchanged=report.unchanged,
            passages=report.passages,
            embedded=report.embedded,
        ),
        do_quote=True,
    )


# --- buttons ---------------------------------------------------------------------------------


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every callback query is answered, even a stale or malformed one."""
    query = update.callback_query
    language = lang(update)
    kind, *args = (query.data or "").split("|")
    if kind == "s" and args and args[0].isdigit():
        await query.answer()
        text, markup = sources_page(context, language, int(args[0]))
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
        return
    answer = memory(context, "answers").get(args[0]) if len(args) == 2 and args[1].isdigit() else None
    if answer is None or query.message is None:
        await query.answer(t(language, "expired"), show_alert=False)
        return
    position = int(args[1])
    if kind == "m":
        hits = answer.hits[position : position + PASSAGES_SHOWN]
        if not hits:
            await query.answer(t(language, "no_more"))
            return
        await query.answer()
        markup = answer_keyboard(args[0], answer, position + PASSAGES_SHOWN, language, with_article=False)
        await reply_html(query.message, passage_blocks(hits), markup)
    elif kind == "a" and position < len(answer.hits):
        await query.answer()
        cited = answer.hits[position].article
        article = engine(context).snapshot.articles.get(cited.id, cited)
        await reply_html(query.message, article_blocks(article))
    else:
        await query.answer(t(language, "expired"))


# --- inline mode -----------------------------------------------------------------------------


def _inline_article(result_id: str, title: str, description: str, blocks: list[Block]) -> InlineQueryResultArticle:
    return InlineQueryResultArticle(
        id=result_id,
        title=title[:256],
        description=description[:512],
        input_message_content=InputTextMessageContent(pack(blocks, LIMIT)[0], parse_mode=ParseMode.HTML),
    )


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.inline_query
    language = lang(update)
    question = _clean_question(query.query)[: context.bot_data["settings"].max_question_chars]
    if not re.search(r"\w", question):
        example = EXAMPLES[language][0]
        hint = t(language, "inline_hint_body", bot=context.bot.username, example=example)
        await query.answer([_inline_article("hint", t(language, "inline_hint"), hint, [Block(hint)])], cache_time=60)
        return
    answer = await asyncio.to_thread(engine(context).ask, question, INLINE_RESULTS - 1)
    if not answer.found:
        results = [_inline_article("none", answer.text, t(language, "not_found_hint"), answer_blocks(answer, 0))]
    else:
        top = answer.hits[0].article
        results = [_inline_article("answer", answer.text, citation(top), answer_blocks(answer, 1))]
        for i, hit in enumerate(answer.hits[: INLINE_RESULTS - 1]):
            results.append(_inline_article(f"p{i}", hit.article.title, hit.passage.text, passage_blocks([hit])))
    await query.answer(results, cache_time=30, is_personal=False)


# --- errors ----------------------------------------------------------------------------------


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """One bad update never stops the bot: log it (no message text) and apologise."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("error while handling update %s", update_id, exc_info=context.error)
    if isinstance(update, Update) and update.effective_message and update.effective_chat:
        try:
            await update.effective_message.reply_text(t(lang(update), "sorry"))
        except Exception:  # the apology itself may fail (blocked, deleted chat); never raise from here
            log.warning("could not send the apology for update %s", update_id)
