"""Questions: in private, in groups when addressed, by /ask, inline; and the buttons under an answer.

The buttons carry small records (PTB's arbitrary callback data, persisted with the bot's state), not
answers: "More" asks its question again (the engine's cache answers at once), "Article" names an
article id. So both still work after a restart, and an article removed since says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import TelegramError

from bot.context import Context, lang
from bot.format import LIMIT, Block, answer_blocks, article_parts, citation, pack, passage_blocks
from bot.generated import reply_generated
from bot.limits import one_at_a_time
from bot.sending import NO_PREVIEW, reply, reply_blocks
from bot.texts import EXAMPLES, t
from index.models import Answer

HITS = 10  # passages fetched per question; "More" pages through them
FOLLOW_UP_WORDS = 6  # a reply this short to one of our answers is read as a follow-up
ASKED_PER_CHAT = 200  # questions remembered behind sent messages, per chat
INLINE_RESULTS = 5
INLINE_PAUSE = 0.4  # seconds an inline query waits; a newer one from the same user replaces it


@dataclass(frozen=True)
class More:
    question: str
    offset: int


@dataclass(frozen=True)
class ShowArticle:
    article_id: str


async def ask(context: Context, question: str, k: int) -> Answer:
    """The engine's answer, computed on the question pool (never the default one index work uses)."""
    return await asyncio.get_running_loop().run_in_executor(context.questions, context.engine.ask, question, k)


def answer_keyboard(question: str, answer: Answer, offset: int, language: str, with_article: bool = True):
    row = []
    if len(answer.hits) > offset:
        row.append(InlineKeyboardButton(f"{t(language, 'more')} ▾", callback_data=More(question, offset)))
    if with_article and answer.hits:
        article = ShowArticle(answer.hits[0].article.id)
        row.append(InlineKeyboardButton(f"{t(language, 'article')} 📄", callback_data=article))
    return InlineKeyboardMarkup([row]) if row else None


def reply_language(answer: Answer, language: str) -> str:
    """A question asked in English gets Kabar's own words in English, whatever the client's language."""
    return "en" if answer.language == "en" else language


def not_found_or_answer(answer: Answer, shown: int, language: str) -> list[Block]:
    closest = t(language, "closest", title=answer.closest) if answer.closest else ""
    return answer_blocks(answer, shown, t(language, "not_found"), t(language, "not_found_hint"), closest)


def strip_mention(message: Message, username: str) -> tuple[bool, str]:
    """(does the message mention @username?, its text without that mention)."""
    text, mentioned = message.text or "", False
    for entity, value in sorted(message.parse_entities([MessageEntity.MENTION]).items(), key=lambda e: -e[0].offset):
        if value.lstrip("@").lower() == username.lower():
            mentioned = True
            start = len(text.encode("utf-16-le")[: entity.offset * 2].decode("utf-16-le"))
            text = text[:start] + " " + text[start + len(value) :]
    return mentioned, text


def _asked(context: Context) -> dict[int, str]:
    """message id → the question it answers, for follow-ups; persisted per chat, the oldest dropped."""
    return context.chat_data.setdefault("asked", {}) if context.chat_data is not None else {}


async def answer_question(update: Update, context: Context, question: str, command: bool = False) -> None:
    """The one path every question takes: checks, typing, the answer off the loop, reply, remember."""
    message, language, settings = update.effective_message, lang(update), context.settings
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

    asked = _asked(context)
    replied = message.reply_to_message
    earlier = asked.get(replied.message_id) if replied else None
    if earlier and len(question.split()) <= FOLLOW_UP_WORDS:
        question = f"{earlier[-settings.max_question_chars :]} {question}"

    with contextlib.suppress(TelegramError):  # cosmetic: never lose an answer over it
        await message.reply_chat_action(ChatAction.TYPING)
    async with one_at_a_time(update):
        answer = await ask(context, question, HITS)
    language = reply_language(answer, language)
    shown = settings.top_k

    def blocks_of(shown_answer: Answer) -> list[Block]:
        return notes + not_found_or_answer(shown_answer, shown, language)

    def markup_of(shown_answer: Answer):
        return answer_keyboard(question, shown_answer, shown, language) if shown_answer.found else None

    if context.writer is not None and answer.found:  # a refused question never reaches the model
        sent_messages = await reply_generated(update, context, question, answer, blocks_of, markup_of)
    else:
        sent_messages = await reply_blocks(message, blocks_of(answer), markup_of(answer))
    for sent in sent_messages:
        asked[sent.message_id] = question
    for old in list(asked)[: max(0, len(asked) - ASKED_PER_CHAT)]:
        del asked[old]


def _from_us(message: Message | None, context: Context) -> bool:
    return bool(message and message.from_user and message.from_user.id == context.bot.id)


async def private_text(update: Update, context: Context) -> None:
    message = update.effective_message
    if message.via_bot and message.via_bot.id == context.bot.id:
        return  # one of our inline answers, sent into our own chat
    await answer_question(update, context, strip_mention(message, context.bot.username)[1])


async def group_text(update: Update, context: Context) -> None:
    """In groups, answer only when addressed: a mention or a reply to one of our messages."""
    message = update.effective_message
    mentioned, text = strip_mention(message, context.bot.username)
    replied = message.reply_to_message
    # In forum topics every message "replies" to the topic's first message; that is no address.
    to_us = _from_us(replied, context) and not replied.forum_topic_created
    if (mentioned or to_us) and not message.via_bot:
        await answer_question(update, context, text)


async def ask_command(update: Update, context: Context) -> None:
    await answer_question(update, context, " ".join(context.args or ()), command=True)


async def not_text(update: Update, context: Context) -> None:
    """Stickers, photos, voice, documents: a hint in private chats (the filter keeps groups silent)."""
    await update.effective_message.reply_text(t(lang(update), "not_text"), do_quote=True)


async def unknown_command(update: Update, context: Context) -> None:
    await update.effective_message.reply_text(t(lang(update), "unknown_command"), do_quote=True)


# --- the buttons under an answer -------------------------------------------------------------


async def more_button(update: Update, context: Context) -> None:
    """The next passages for the question behind the answer."""
    query, language = update.callback_query, lang(update)
    more: More = query.data
    if not isinstance(query.message, Message):  # an inline message, or older than 48 hours
        await query.answer(t(language, "expired"))
        return
    await query.answer()
    answer = await ask(context, more.question, HITS)
    language = reply_language(answer, language)
    shown = context.settings.top_k
    hits = answer.hits[more.offset : more.offset + shown]
    if not hits:
        await reply(query.message, [t(language, "no_more")])
        return
    markup = answer_keyboard(more.question, answer, more.offset + shown, language, with_article=False)
    await reply_blocks(query.message, passage_blocks(hits), markup)


async def article_button(update: Update, context: Context) -> None:
    """The whole cited article, if the corpus still has it."""
    query, language = update.callback_query, lang(update)
    wanted: ShowArticle = query.data
    article = context.engine.snapshot.articles.get(wanted.article_id) if context.engine.snapshot else None
    if article is None:
        await query.answer(t(language, "article_removed"), show_alert=True)
        return
    if not isinstance(query.message, Message):
        await query.answer(t(language, "expired"))
        return
    await query.answer()
    parts = await asyncio.to_thread(article_parts, article, t(language, "article_cut"))
    await reply(query.message, parts)


async def expired_button(update: Update, context: Context) -> None:
    """A button whose record is gone (from before callback data was kept, or malformed)."""
    await update.callback_query.answer(t(lang(update), "expired"))


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


def _superseded(context: Context, update: Update) -> bool:
    latest = context.bot_data.setdefault("inline_latest", {})
    return latest.get(update.inline_query.from_user.id) != update.inline_query.id


async def inline_query(update: Update, context: Context) -> None:
    """Up to 5 results: the answer (with its best passage), then passages; a hint for an empty query.

    Clients send a query per keystroke: each waits INLINE_PAUSE, and one that a newer query from the
    same user replaced meanwhile gets an empty answer without being asked.
    """
    query, language = update.inline_query, lang(update)
    question = " ".join(query.query.split())[: context.settings.max_question_chars]
    if not re.search(r"\w", question):
        hint = t(language, "inline_hint_body", bot=context.bot.username, example=EXAMPLES[language][0])
        results = [_inline_article("hint", t(language, "inline_hint"), hint, [Block(hint)])]
        button = InlineQueryResultsButton(text="Kabar · /help", start_parameter="help")
        await query.answer(results, cache_time=60, button=button)
        return
    context.bot_data.setdefault("inline_latest", {})[query.from_user.id] = query.id
    await asyncio.sleep(INLINE_PAUSE)
    if _superseded(context, update):
        await query.answer([], cache_time=0)
        return
    async with one_at_a_time(update):
        answer = await ask(context, question, INLINE_RESULTS - 1)
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
