"""An article's byline as a sentence the answer checker can read.

Readers ask about the article itself ("Siapa editor berita ini?", "Which outlet is the story based
on?", "Kapan artikel itu terbit?"), and the answer sits in the article's metadata (outlet, date,
editor, original source), which no passage holds. Written as one Indonesian sentence, it is read
like any candidate sentence, so the checker still decides whether it answers the question.
"""

from __future__ import annotations

import re

from index.clean import MONTH_NAMES
from index.models import Article

# The question is about an article, not about what it reports: who wrote or edited it, where and
# when it appeared, what it is based on.
ASKS_ABOUT_ARTICLE = re.compile(
    r"\b(editor|editornya|penyunting|disunting|menyunting|penulis(nya)?|wartawan(nya)?|reporter|jurnalis|"
    r"edited|edits|wrote the|written by|writer|author|byline|outlet|terbit|diterbitkan|dimuat|dipublikasikan|published|"
    r"bersumber|sumber (berita|artikel|tulisan)(nya)?|sumbernya|based on|original source)\b",
    re.I,
)


def asks_about_article(question: str) -> bool:
    return bool(ASKS_ABOUT_ARTICLE.search(question))


def spoken_date(iso: str) -> str:
    """ "2024-06-14" → "14 Juni 2024", as the articles write dates; anything else as given."""
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", iso)
    if not match:
        return iso
    year, month, day = (int(g) for g in match.groups())
    return f"{day} {MONTH_NAMES[month - 1]} {year}" if 1 <= month <= 12 else iso


def byline(article: Article) -> str:
    """ "Berita "…" dimuat Kilas Klaten pada 14 Juni 2024, disunting oleh …, bersumber dari Chosun."
    Empty when the article carries no metadata to tell."""
    parts = []
    if article.outlet or article.date:
        where = f" {article.outlet}" if article.outlet else ""
        when = f" pada {spoken_date(article.date)}" if article.date else ""
        parts.append(f"dimuat{where}{when}")
    if article.editor:
        parts.append(f"disunting oleh editor {article.editor}")
    if article.source:
        parts.append(f"bersumber dari {article.source}")
    if not parts:
        return ""
    named = f'Berita "{article.title}"' if article.title else "Berita ini"
    return f"{named} " + ", ".join(parts) + "."
