"""Answer → Telegram HTML messages: escaped, balanced, and never over 4096 characters.

Messages are built from blocks, each one tag around escaped text, so a split
can only fall between blocks (or between sentences inside one block) and never
inside a tag.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from index.models import Answer, Article, Hit

LIMIT = 4096
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


@dataclass(frozen=True)
class Block:
    text: str
    tag: str = ""  # "", "b", "i", "blockquote", ...

    def render(self) -> str:
        body = html.escape(self.text, quote=False)
        return f"<{self.tag}>{body}</{self.tag}>" if self.tag else body


def citation(article: Article) -> str:
    return " · ".join(p for p in (article.outlet, article.date, article.title) if p)


def passage_blocks(hits: list[Hit]) -> list[Block]:
    blocks = []
    for hit in hits:
        blocks += [Block(hit.passage.text, "blockquote"), Block(citation(hit.article), "i")]
    return blocks


def answer_blocks(answer: Answer, passages: int = 3, not_found_hint: str = "") -> list[Block]:
    if not answer.found:
        return [Block(answer.text)] + ([Block(not_found_hint)] if not_found_hint else [])
    return [Block(answer.text, "b"), *passage_blocks(answer.hits[:passages])]


def article_blocks(article: Article) -> list[Block]:
    head = [Block(article.title, "b")]
    if citation(article) != article.title:
        head.append(Block(" · ".join(p for p in (article.outlet, article.date) if p), "i"))
    return head + [Block(p) for p in article.text.split("\n\n") if p.strip()]


def _cut(block: Block, limit: int) -> list[Block]:
    """A block too long for one message, cut at sentences (or words, or characters)."""
    room = limit - len(block.tag) * 2 - 5

    def fits(text: str) -> bool:
        return len(html.escape(text, quote=False)) <= room

    pieces, current = [], ""
    for unit in _SENTENCE_END.split(block.text):
        candidate = f"{current} {unit}".strip()
        if fits(candidate):
            current = candidate
            continue
        if current:
            pieces.append(current)
        while not fits(unit):  # a single monster sentence: hard cut
            cut = room // 6  # escaped text is at most 5x longer ("&amp;"), keep a margin
            space = unit.rfind(" ", 0, cut)
            cut = space if space > cut // 2 else cut
            pieces.append(unit[:cut].strip())
            unit = unit[cut:].strip()
        current = unit
    if current:
        pieces.append(current)
    return [Block(p, block.tag) for p in pieces]


def pack(blocks: list[Block], limit: int = LIMIT, sep: str = "\n\n") -> list[str]:
    """Blocks → as few messages as possible, each within `limit` characters."""
    messages, current = [], ""
    for block in blocks:
        parts = [block] if len(block.render()) <= limit else _cut(block, limit)
        for part in parts:
            rendered = part.render()
            candidate = f"{current}{sep}{rendered}" if current else rendered
            if len(candidate) <= limit:
                current = candidate
            else:
                messages.append(current)
                current = rendered
    if current:
        messages.append(current)
    return messages


_TAG = re.compile(r"<[^>]+>")


def to_plain(message: str) -> str:
    """The same message without markup, for when Telegram rejects the entities."""
    return html.unescape(_TAG.sub("", message))
