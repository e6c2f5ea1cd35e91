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

Kamus Alay lists words, not the Jakarta verb forms chat makes of any verb: a nasal prefix without its "me-"
("nolak", "nyapai", "ngelanggar") and "-in" for "-kan" or "-i" ("diperkirain", "nguntungin"), and "2" for a
repeated word ("ahli2"). A word neither the articles, the lexicon nor the dictionary's root words hold
(Sastrawi's 29,931, from KBBI: "nanti" is not "menanti") takes the first of its possible formal forms that
the articles use ("nolak" → "menolak", "nyapai" → "mencapai"): an index that lacks every such form has
nothing the replacement would find.
"""

from __future__ import annotations

import re
from collections.abc import Container
from functools import cache
from importlib.resources import files

# Lower case only (a capital marks a name or an acronym); hyphenated names whole ("yo-jong").
WORD = re.compile(r"(?<![\w-])[a-z][a-z0-9]*(?:-[a-z0-9]+)*(?![\w-])")
SENTENCE_START = re.compile(r"(^|[.!?…:]\s+|\n)[\"“'(]*$")
TEXT_WORD = re.compile(r"(?<![\w-])\w+(?:-\w+)*(?![\w-])")  # a text's words, hyphenated ones whole
NAME_GOES_ON = re.compile(r"\s+[A-Z]")  # "Konstantin Asmolov, …" opens a sentence with a name
NASAL = re.compile(r"(ny|ng|n|m)[aeiou]")  # "nolak", "nyapai", "ngelanggar", "mukul"; not "mlalui"
REPEATED = re.compile(r"([a-z]{2,})2([a-z]*)")  # "ahli2" for "ahli-ahli", "dua2nya" for "dua-duanya"


@cache
def chat_words() -> dict[str, str]:
    """Kamus Alay, imported on first use: indoNLP's package import costs ~45 ms (its dataset downloader
    pulls in urllib; nothing is downloaded)."""
    from indoNLP.preprocessing import SLANG_DATA

    return SLANG_DATA


@cache
def root_words() -> frozenset[str]:
    """Indonesian root words, as PySastrawi's stemmer ships them (read as data; the stemmer is not loaded)."""
    text = (files("Sastrawi") / "Stemmer" / "data" / "kata-dasar.txt").read_text(encoding="utf-8")
    return frozenset(text.split())


def formal(question: str, vocabulary: Container[str]) -> str:
    """The question with its chat words replaced by their formal forms; `vocabulary` holds the words
    the indexed articles use (keyword search's)."""

    def replace(match: re.Match[str]) -> str:
        word = match.group(0)
        if len(word) < 2 or word in vocabulary:
            return word
        if formal_word := chat_words().get(word):
            return formal_word
        if repeated := REPEATED.fullmatch(word):
            base, suffix = repeated.groups()
            return f"{base}-{base}{suffix}" if base in vocabulary else word
        if word in root_words():
            return word
        return next((form for form in jakarta_forms(word) if form in vocabulary), word)

    return WORD.sub(replace, question)


def jakarta_forms(word: str) -> list[str]:
    """The formal forms a Jakarta verb form may stand for, likeliest first: "nolak" → "menolak",
    "nyapai" → "menyapai", "mencapai"; "ngelanggar" → "melanggar"; "diperkirain" → "diperkirakan".
    "-in" is read only after a prefix and on a stem of four letters or more ("kemarin", "main" and
    "ingin" are words as they are)."""
    stems = [word]
    if word.endswith("in") and len(word) >= 6 and word.startswith(("n", "m", "di")):
        stems = [word[:-2] + "kan", word[:-2] + "i", word[:-2]]
    forms = []
    for stem in stems:
        forms.append(stem)
        if NASAL.match(stem):  # the nasal of "me-" without its "me"
            forms.append("me" + stem)
            if stem.startswith("ny"):  # "nyapai": the ny- of a c- stem
                forms.append("menc" + stem[2:])
            if stem.startswith("nge"):  # "ngelanggar": nge- before a one-syllable-like stem or an l-/r- one
                forms.append("me" + stem[3:])
    return forms


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
