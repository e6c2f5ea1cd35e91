"""What the bot knows: /help (with the corpus's span) and the paged /sources list."""

from __future__ import annotations

import html
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode

from bot.context import Context, lang
from bot.sending import edit
from bot.texts import EXAMPLES, t

SOURCES_PAGE = 10


@dataclass(frozen=True)
class SourcesPage:
    page: int


async def help_command(update: Update, context: Context) -> None:
    language = lang(update)
    articles = context.engine.articles()
    dates = sorted(a.date for a in articles if a.date)
    span = ""
    if dates:
        span = t(language, "span", first=dates[0], last=dates[-1]) if dates[0] != dates[-1] else ""
        span = span or t(language, "span_one", first=dates[0])
    examples = "\n".join(f"• {html.escape(q)}" for q in EXAMPLES[language])
    text = t(language, "help", articles=len(articles), span=span, examples=examples, bot=context.bot.username)
    await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML)


def sources_page(context: Context, language: str, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    """(HTML text, keyboard) of one page of the article list, numbered as `/remove N` counts."""
    articles = context.engine.articles()
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
        buttons.append(InlineKeyboardButton(t(language, "prev"), callback_data=SourcesPage(page - 1)))
    if page < pages - 1:
        buttons.append(InlineKeyboardButton(t(language, "next"), callback_data=SourcesPage(page + 1)))
    return "\n".join(lines), InlineKeyboardMarkup([buttons]) if buttons else None


async def sources_command(update: Update, context: Context) -> None:
    text, markup = sources_page(context, lang(update), 0)
    await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def sources_button(update: Update, context: Context) -> None:
    query = update.callback_query
    await query.answer()
    text, markup = sources_page(context, lang(update), query.data.page)
    await edit(query, text, markup)
