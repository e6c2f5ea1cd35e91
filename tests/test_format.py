"""Every message the bot builds is valid Telegram HTML and at most 4096 characters.

`message_problems` is an independent validator (a tokenizer, not the fake server's
HTMLParser): the bot tests run it over every message the bot sent.
"""

from __future__ import annotations

import random
import re

import pytest

from bot.format import (
    ARTICLE_PARTS,
    LIMIT,
    Block,
    answer_blocks,
    article_blocks,
    article_parts,
    pack,
    passage_blocks,
    size,
    split_text,
    to_plain,
)
from bot.texts import t
from index.models import Answer, Article, Hit, Passage

# Telegram's HTML parse mode: these tags, nothing else (tg-emoji needs a custom emoji id; we never send it).
ALLOWED = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "blockquote", "tg-spoiler"}
ALLOWED_WITH_ATTRS = {"a": r'href="[^"<>]*"', "span": r'class="tg-spoiler"', "blockquote": r"expandable"}
TOKEN = re.compile(r"<(/?)([a-z][a-z-]*)((?:\s[^<>]*)?)>|&(#\d+|#x[0-9a-fA-F]+|lt|gt|amp|quot);|[<>&]")
NO_CHILDREN = {"code", "pre"}


def message_problems(text: str, parse_mode: str | None = "HTML") -> list[str]:
    """What Telegram (or its documentation) would object to in this message; [] when it is fine."""
    problems = []
    if str(parse_mode or "").upper() != "HTML":
        plain = text
    else:
        stack: list[str] = []
        plain_parts, last = [], 0
        for match in TOKEN.finditer(text):
            plain_parts.append(text[last : match.start()])
            last = match.end()
            closing, tag, attrs, entity = match.group(1), match.group(2), match.group(3), match.group(4)
            if entity:
                plain_parts.append("x")
            elif tag is None:
                problems.append(f"bare {match.group()!r} at {match.start()}")
            elif closing:
                if not stack or stack[-1] != tag:
                    problems.append(f"</{tag}> closes {stack[-1] if stack else 'nothing'} at {match.start()}")
                else:
                    stack.pop()
            else:
                attrs = attrs.strip()
                if tag not in ALLOWED and tag not in ALLOWED_WITH_ATTRS:
                    problems.append(f"tag <{tag}> is not allowed")
                elif attrs and not re.fullmatch(ALLOWED_WITH_ATTRS.get(tag, "(?!)"), attrs):
                    problems.append(f"attributes {attrs!r} not allowed on <{tag}>")
                elif tag == "span" and not attrs:
                    problems.append("<span> without class tg-spoiler")
                if stack and (stack[-1] in NO_CHILDREN and not (stack[-1] == "pre" and tag == "code")):
                    problems.append(f"<{tag}> inside <{stack[-1]}>")
                if tag == "blockquote" and "blockquote" in stack:
                    problems.append("nested blockquote")
                stack.append(tag)
        plain_parts.append(text[last:])
        if stack:
            problems.append(f"unclosed {stack}")
        plain = "".join(plain_parts)
    if not plain.strip():
        problems.append("empty message")
    if size(plain) > LIMIT:
        problems.append(f"{size(plain)} characters after parsing > {LIMIT}")
    if size(text) > LIMIT:
        problems.append(f"{size(text)} characters of source > {LIMIT}")
    return problems


# --- the validator itself --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "plain",
        "<b>bold</b> &amp; <i>it</i> &lt;b&gt; &quot; &#128512; &#x1F600;",
        "<blockquote>quote</blockquote>\n\n<i>Republika · 2024-06-14 · Judul</i>",
        '<a href="https://kabar.id/a?b=1&amp;c=2">link</a> <span class="tg-spoiler">s</span>',
        "<pre><code>x</code></pre> <tg-spoiler>s</tg-spoiler> <blockquote expandable>q</blockquote>",
        "😀" * 2048,
    ],
)
def test_validator_accepts_valid_messages(text: str) -> None:
    assert message_problems(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "1 < 2",
        "a > b",
        "Kim & Putin",
        "&nbsp;",
        "<b>open",
        "close</b>",
        "<b><i>crossed</b></i>",
        "<script>x</script>",
        "<span>no class</span>",
        '<b class="x">attr</b>',
        "<blockquote><blockquote>twice</blockquote></blockquote>",
        "<code><b>in code</b></code>",
        "<b></b>",
        "   ",
        "x" * 4097,
        "😀" * 2049,
        "<b>" + "x" * 4090 + "</b>",
    ],
)
def test_validator_rejects_invalid_messages(text: str) -> None:
    assert message_problems(text)


def test_plain_text_is_only_checked_for_length() -> None:
    assert message_problems("<b> & <", None) == []
    assert message_problems("x" * 4097, None)


# --- blocks and packing ----------------------------------------------------------------------


def article(text: str = "Isi.", title: str = "Judul <A&B>", outlet: str = "Republika", date: str = "") -> Article:
    return Article(id="a.txt", path="a.txt", title=title, text=text, outlet=outlet, date=date)


def hit(text: str, art: Article | None = None, position: int = 0) -> Hit:
    art = art or article()
    return Hit(Passage(f"p{position}", art.id, position, text, text), art, 0.9, 0.9)


def test_block_escapes_everything_and_keeps_its_tag() -> None:
    assert Block('<b>Kim & "Putin"</b>', "b").render() == '<b>&lt;b&gt;Kim &amp; "Putin"&lt;/b&gt;</b>'
    assert Block("a < b").render() == "a &lt; b"


def test_answer_layout_answer_then_quoted_passages_with_citations() -> None:
    source = article(date="2023-09-12")
    answer = Answer("q", True, "Kim ingin <bantuan> & teknologi.", [hit("Satu.", source), hit("Dua.", source, 1)])
    [message] = pack(answer_blocks(answer, passages=3))
    assert message == (
        "<b>Kim ingin &lt;bantuan&gt; &amp; teknologi.</b>\n\n"
        "<blockquote>Satu.</blockquote>\n\n<i>Republika · 2023-09-12 · Judul &lt;A&amp;B&gt;</i>\n\n"
        "<blockquote>Dua.</blockquote>\n\n<i>Republika · 2023-09-12 · Judul &lt;A&amp;B&gt;</i>"
    )
    assert message_problems(message) == []


def test_long_passages_are_collapsed_in_expandable_blockquotes() -> None:
    [quote, cite] = passage_blocks([hit("Kalimat panjang. " * 30)])
    assert quote.tag == "blockquote expandable" and cite.tag == "i"
    rendered = quote.render()
    assert rendered.startswith("<blockquote expandable>") and rendered.endswith("</blockquote>")
    assert message_problems(pack([quote, cite])[0]) == []


def test_not_found_says_so_and_points_to_sources() -> None:
    answer = Answer("q", False, "Artikel yang ada tidak menjawab pertanyaan ini.")
    assert pack(answer_blocks(answer, 3, "Tidak ditemukan.", "Lihat /sources.")) == [
        "Tidak ditemukan.\n\nLihat /sources."
    ]
    assert pack(answer_blocks(answer)) == ["Artikel yang ada tidak menjawab pertanyaan ini."]


def test_long_article_splits_at_paragraphs_within_the_limit() -> None:
    paragraphs = [f"Paragraf {i}. " + "Kalimat yang cukup panjang & berisi <tanda>. " * 20 for i in range(30)]
    messages = pack(article_blocks(article("\n\n".join(paragraphs))))
    assert len(messages) > 1
    assert all(message_problems(m) == [] for m in messages)
    assert all(size(m) > LIMIT - 1200 for m in messages[:-1])  # packed, not one message per paragraph
    assert all(p.strip() in to_plain("\n\n".join(messages)) for p in paragraphs)


def test_one_huge_paragraph_splits_at_sentences() -> None:
    text = " ".join(f"Kalimat nomor {i} tentang Kim & Putin." for i in range(400))
    messages = pack([Block(text, "blockquote")])
    assert len(messages) > 1
    for message in messages:
        assert message_problems(message) == []
        assert to_plain(message).endswith(".")  # cut after a sentence, never inside one


def test_monster_word_and_escapes_are_cut_between_characters_never_inside_an_escape() -> None:
    for text in ("&" * 10_000, "<" * 5000 + "a" * 5000, "😀" * 5000):
        messages = pack([Block(text, "b")])
        assert all(message_problems(m) == [] for m in messages)
        assert "".join(to_plain(m) for m in messages) == text


def test_split_text_prefers_the_coarsest_boundary() -> None:
    assert split_text("Satu dua. Tiga empat.\n\nLima enam.", 21) == ["Satu dua. Tiga empat.", "Lima enam."]
    assert split_text("Satu dua. Tiga empat.", 12) == ["Satu dua.", "Tiga empat."]
    assert split_text("abcdefgh", 3) == ["abc", "def", "gh"]


def test_to_plain_drops_tags_and_unescapes() -> None:
    assert to_plain("<b>Kim &amp; &lt;Putin&gt;</b>\n\n<i>x</i>") == "Kim & <Putin>\n\nx"


def test_article_button_cuts_a_huge_article_and_says_so() -> None:
    huge = article("\n\n".join("Paragraf panjang sekali. " * 40 for _ in range(200)))
    huge = Article(**{**huge.__dict__, "url": "https://example.org/a?x=1&y=2"})
    parts = article_parts(huge, t("id", "article_cut"))
    assert ARTICLE_PARTS <= len(parts) <= ARTICLE_PARTS + 1
    assert all(message_problems(p) == [] for p in parts)
    assert "dipotong" in parts[-1] and "https://example.org/a?x=1&amp;y=2" in parts[-1]


# --- the property: random answers, any text ---------------------------------------------------

ALPHABET = list("abcdefghij klmnop <>&\"' .,!?…\n") + [
    "😀",
    "👨‍👩‍👧",
    "é",
    "ß",
    "\u200b",
    "Ж",
    "中",
    "\n\n",
    "&amp;",
    "<b>",
]


def random_text(rng: random.Random, longest: int) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, longest))).strip() or "x"


@pytest.mark.parametrize("seed", range(40))
def test_random_answers_always_become_valid_messages(seed: int) -> None:
    rng = random.Random(seed)
    source = article(random_text(rng, 9000), random_text(rng, 300), random_text(rng, 40), "2024-06-14")
    hits = [hit(random_text(rng, rng.choice([50, 800, 6000])), source, i) for i in range(rng.randint(0, 10))]
    answer = Answer("q", bool(hits), random_text(rng, rng.choice([100, 5000])), hits)
    for blocks in (
        answer_blocks(answer, 3, "tidak ada", "lihat /sources"),
        passage_blocks(hits),
        article_blocks(source),
    ):
        messages = pack(blocks)
        assert messages or not blocks
        for message in messages:
            assert message_problems(message) == [], message[:200]
        # Nothing is lost but whitespace.
        expected = "".join("".join(b.text.split()) for b in blocks)
        assert "".join("".join(to_plain(m).split()) for m in messages) == expected
