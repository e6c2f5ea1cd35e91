"""Chat Indonesian in the articles' words, before a question is searched and checked.

Telegram users write as they chat ("kpn terakhir x putin ke korut?", "yg gantiin shoigu jd menhan
siapa?"). Keyword search finds no "kpn" in news, and the answer checker learnt from questions written
formally: "kpn terakhir x putin ke korut?" scored 0.23 where "Kapan terakhir kali Putin ke Korea Utara?"
scores 0.96. The chat words come from Kamus Alay, the Colloquial Indonesian Lexicon (Salsabila et al.,
2018; 4,331 entries, as the indoNLP package ships it).

Chat leaves names in lower case too, and the checker is cased: "kapan terakhir kali putin ke korut?"
scores 0.27, "kapan terakhir kali Putin ke Korut?" 0.95. So in a question typed without capitals, a word
the retrieved passages only ever write capitalised inside a sentence ("putin", "korut", "shoigu") takes
their spelling. A question with capitals already spells its names: of the 1,155 benchmark test questions,
truecasing them all changed 89, mostly words that open names in the passages ("gedung", "ketua", "balai").

A chat word is replaced only when it is written in lower case (names and acronyms keep theirs: "USA" is not
"usah"), is longer than one letter, and the articles never use it as written: "km", "dr", "de" and "manta"
are words of news too, and an index that holds them keeps them.
"""

from __future__ import annotations

import re
from collections.abc import Container
from functools import cache

# Lower case only (a capital marks a name or an acronym); hyphenated names whole ("yo-jong").
WORD = re.compile(r"(?<![\w-])[a-z][a-z0-9]*(?:-[a-z0-9]+)*(?![\w-])")
SENTENCE_START = re.compile(r"(^|[.!?…:]\s+|\n)[\"“'(]*$")
TEXT_WORD = re.compile(r"(?<![\w-])\w+(?:-\w+)*(?![\w-])")  # a text's words, hyphenated ones whole
NAME_GOES_ON = re.compile(r"\s+[A-Z]")  # "Konstantin Asmolov, …" opens a sentence with a name


@cache
def chat_words() -> dict[str, str]:
    """Kamus Alay, imported on first use: indoNLP's package import costs ~45 ms (its dataset downloader
    pulls in urllib; nothing is downloaded)."""
    from indoNLP.preprocessing import SLANG_DATA

    return SLANG_DATA


def formal(question: str, vocabulary: Container[str]) -> str:
    """The question with its chat words replaced by their formal forms; `vocabulary` holds the words
    the indexed articles use (keyword search's)."""

    def replace(match: re.Match[str]) -> str:
        word = match.group(0)
        formal_word = chat_words().get(word)
        if formal_word and len(word) > 1 and word not in vocabulary:
            return formal_word
        return word

    return WORD.sub(replace, question)


def typed_without_capitals(question: str) -> bool:
    """Chat style: no capital after the first letter ("kpn terakhir putin ke korut?", "Siapa kim taewoo?");
    "Siapa Kim Taewoo?" spells its names as it means to."""
    return not any(c.isupper() for c in question[1:])


def truecase(question: str, texts: list[str]) -> str:
    """Each lower-case word of the question in the spelling `texts` give it, when they write it only
    capitalised, at least once inside a sentence or before another capitalised word (a capital that
    only opens sentences says nothing)."""
    wanted = {match.group(0) for match in WORD.finditer(question)}
    forms: dict[str, set[str]] = {}
    inside: set[str] = set()
    for text in texts:  # one pass over each text for every word of the question
        for found in TEXT_WORD.finditer(text):
            word = found.group(0).lower()
            if word not in wanted:
                continue
            forms.setdefault(word, set()).add(found.group(0))
            opens = SENTENCE_START.search(text, 0, found.start())
            if not opens or NAME_GOES_ON.match(text, found.end()):
                inside.add(word)

    def spelling(match: re.Match[str]) -> str:
        word = match.group(0)
        spelt = forms.get(word, set())
        if word in inside and len(spelt) == 1:  # one spelling, and not lower case
            (form,) = spelt
            return word if form.islower() else form
        return word

    return WORD.sub(spelling, question)
