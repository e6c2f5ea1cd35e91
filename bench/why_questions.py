"""Why-questions written from the train passages' reason sentences, for the answer checker.

The benchmarks' train splits hold 23 answerable why-questions against 82 unanswerable ones (how: 32
against 91), so a checker trained on them learns that "mengapa?" is seldom answered, while news readers
ask why often ("Kenapa Korut enggan berlatih bersama militer asing?"). A sentence that gives
a reason ("Pertandingan ditunda karena hujan deras.") becomes a question about what it explains
("Mengapa pertandingan ditunda?"), answered by the sentence and not by the same sentence with its reason
erased ("Pertandingan ditunda."): the same words, no reason.
"""

from __future__ import annotations

import random
import re

REASON_WORDS = r"karena|sebab|lantaran|disebabkan oleh|akibat"
# "X karena Y." and "Karena Y, X."
REASON_AFTER = re.compile(rf"^(?P<what>.+?),?\s+(?:{REASON_WORDS})\s+(?!itu\b|alasan\b)(?P<why>.+?)[.!]?$", re.I)
REASON_FIRST = re.compile(rf"^(?:{REASON_WORDS})\s+(?P<why>[^,]+),\s*(?P<what>.+?)[.!]?$", re.I)
CONNECTIVES = re.compile(
    r"^(namun|tetapi|akan tetapi|selain itu|oleh sebab itu|oleh karena itu|dan|sehingga|maka|hal ini|ini)\b\s*,?\s*",
    re.I,
)
DANGLING = set(
    "dan atau terutama yang juga dengan namun tetapi hanya justru bukan adalah ialah merupakan yaitu yakni".split()
)
DATELINE = re.compile(r"^[A-Z][\w .]+,\s*[\w .]+\s+[-–]\s+")  # "Jakarta, Kompas - "
TEMPLATES = ("Mengapa {}?", "Kenapa {}?", "Apa alasan {}?", "Apa penyebab {}?")


def split_reason(sentence: str) -> tuple[str, str] | None:
    """(what is explained, the reason), or None when the sentence gives no reason worth a question."""
    text = re.sub(r"\[\d+\]", "", sentence).strip().strip("\"“”'")
    match = REASON_FIRST.match(text) or REASON_AFTER.match(text)
    if not match:
        return None
    what = CONNECTIVES.sub("", DATELINE.sub("", match["what"].strip(" ,;:\"“”'")))
    why = match["why"].strip(" ,;:")
    if not 4 <= len(what.split()) <= 20 or len(why.split()) < 3 or re.search(REASON_WORDS, what, re.I):
        return None
    if what.split()[-1].lower() in DANGLING or ". " in what or what.lower().startswith(("meskipun", "walaupun")):
        return None  # "…identitas Alice dan karena itu…", two sentences the splitter left joined, a concession
    return what, why


def ask_why(what: str, rng: random.Random) -> str:
    """ "Pertandingan ditunda" → "Mengapa pertandingan ditunda?"; a name keeps its capital."""
    words = what.split()
    if words[0][1:].islower() and not (len(words) > 1 and words[1][:1].isupper()):
        what = what[0].lower() + what[1:]
    templates = TEMPLATES[:2] if what.lower().startswith(("alasan", "penyebab")) else TEMPLATES
    return rng.choice(templates).format(what)


def erased(what: str) -> str:
    """The sentence without its reason: what a why-question must not be answered by."""
    return what[0].upper() + what[1:] + "."
