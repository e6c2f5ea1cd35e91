"""Answer → Telegram HTML messages: escaped, balanced, and never over 4096 characters.

Messages are built from blocks, each one tag around escaped text, so a split
can only fall between blocks (or between paragraphs, sentences or words inside
one block) and never inside a tag or an escape.

Telegram counts a message's length in UTF-16 code units after parsing the HTML;
we count the HTML source in UTF-16 code units, which is never less.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, replace

from index.models import Answer, Article, Hit

LIMIT = 4096
ARTICLE_PARTS = 5  # the "Article" button sends at most this many messages
COLLAPSE = 300  # passages longer than this are shown collapsed (Telegram's expandable blockquote)
# Paragraphs, then sentences, then words; below that, characters.
_SPLITS = ((re.compile(r"\n\s*\n"), "\n\n"), (re.compile(r"(?<=[.!?…])\s+"), " "), (re.compile(r"\s+"), " "))


def size(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji is usually 2)."""
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    return html.escape(text, quote=False)


@dataclass(frozen=True)
class Block:
    text: str
    tag: str = ""  # "", "b", "i", "blockquote", "blockquote expandable", ...

    def render(self) -> str:
        body = escape(self.text)
        return f"<{self.tag}>{body}</{self.tag.split()[0]}>" if self.tag else body


def citation(article: Article) -> str:
    return " · ".join(p for p in (article.outlet, article.date, article.title) if p)


def passage_blocks(hits: list[Hit], numbered: bool = False) -> list[Block]:
    """Each passage quoted, then its citation; numbered [1], [2]… under a generated answer, which cites them so."""
    blocks = []
    for n, hit in enumerate(hits, 1):
        quote = "blockquote expandable" if len(hit.passage.text) > COLLAPSE else "blockquote"
        source = f"[{n}] {citation(hit.article)}" if numbered else citation(hit.article)
        blocks += [Block(hit.passage.text, quote), Block(source, "i")]
    return blocks


def answer_blocks(
    answer: Answer, passages: int = 3, not_found: str = "", hint: str = "", closest: str = ""
) -> list[Block]:
    """The answer in bold, then the top passages, each with its citation; or "not found", the closest
    article (named, never quoted as an answer) and a hint."""
    if not answer.found:
        extra = [Block(closest, "i")] if closest else []
        return [Block(not_found or answer.text), *extra] + ([Block(hint)] if hint else [])
    if answer.from_byline:
        return [Block(answer.text, "b"), Block(citation(answer.hits[0].article), "i")]
    return [Block(answer.text, "b"), *passage_blocks(answer.hits[:passages], numbered=answer.generated)]


def article_blocks(article: Article) -> list[Block]:
    head = [Block(article.title, "b")]
    byline = " · ".join(p for p in (article.outlet, article.date) if p)
    if byline:
        head.append(Block(byline, "i"))
    return head + [Block(p.strip()) for p in article.text.split("\n\n") if p.strip()]


def article_parts(article: Article, cut_note: str, parts: int = ARTICLE_PARTS) -> list[str]:
    """The cleaned article in at most `parts` messages (+ `cut_note` when it goes on).

    The text is cut to what `parts` messages can hold before it is packed: packing a 5 MB article
    whole would take seconds on the event loop, only to throw most of it away.
    """
    room = parts * LIMIT
    text = article.text if len(article.text) <= room else article.text[:room]
    packed = pack(article_blocks(replace(article, text=text)))
    if len(packed) <= parts and text is article.text:
        return packed
    note = pack([Block(f"{cut_note} {article.url}".strip(), "i")])[0]
    packed = packed[:parts]
    if size(packed[-1]) + 2 + size(note) <= LIMIT:
        return packed[:-1] + [f"{packed[-1]}\n\n{note}"]
    return packed + [note]


def split_text(text: str, room: int, level: int = 0) -> list[str]:
    """`text` in pieces whose escaped size is at most `room`, cut at the coarsest boundary that works."""
    if size(escape(text)) <= room:
        return [text]
    if level == len(_SPLITS):  # one enormous word: cut between characters
        pieces, current, used = [], "", 0
        for char in text:
            cost = size(escape(char))
            if current and used + cost > room:
                pieces.append(current)
                current, used = "", 0
            current, used = current + char, used + cost
        return pieces + [current] if current else pieces
    splitter, joiner = _SPLITS[level]
    pieces, current, used = [], "", 0
    for unit in splitter.split(text.strip()):
        for part in split_text(unit, room, level + 1):
            if not part:
                continue
            cost = size(escape(part))
            if current and used + size(joiner) + cost <= room:
                current, used = current + joiner + part, used + size(joiner) + cost
            else:
                if current:
                    pieces.append(current)
                current, used = part, cost
    return pieces + [current] if current else pieces


def pack(blocks: list[Block], limit: int = LIMIT, sep: str = "\n\n") -> list[str]:
    """Blocks → as few messages as possible, each at most `limit` long; empty blocks are dropped."""
    messages, current = [], ""
    for block in blocks:
        if not block.text.strip():
            continue
        rendered = block.render()
        if size(rendered) <= limit:
            parts = [rendered]
        else:
            room = limit - size(Block("", block.tag).render())
            parts = [Block(piece, block.tag).render() for piece in split_text(block.text, room)]
        for part in parts:
            candidate = f"{current}{sep}{part}" if current else part
            if size(candidate) <= limit:
                current = candidate
            else:
                messages.append(current)
                current = part
    if current:
        messages.append(current)
    return messages


_TAG = re.compile(r"<[^>]*>")


def to_plain(message: str) -> str:
    """The same message without markup, for when Telegram rejects the entities."""
    return html.unescape(_TAG.sub("", message))
