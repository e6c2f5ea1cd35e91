"""Why- and how-questions written from the train passages' reason and manner sentences, for the checker.

The benchmarks' train splits hold 23 answerable why-questions against 82 unanswerable ones (how: 32
against 91), so a checker trained on them learns that "mengapa?" is seldom answered, while news readers
ask why often ("Kenapa Korut enggan berlatih bersama militer asing?"). A sentence that gives
a reason ("Pertandingan ditunda karena hujan deras.") becomes a question about what it explains
("Mengapa pertandingan ditunda?"), answered by the sentence and not by the same sentence with its reason
erased ("Pertandingan ditunda."): the same words, no reason. How-questions have the same imbalance
(32 against 91) and come the same way from sentences saying how something is done or seen ("Pulau itu
ditempuh dengan menggunakan perahu motor." → "Bagaimana pulau itu ditempuh?"; "Seoul melihat konfirmasi
itu sebagai taktik tekanan." → "Bagaimana Seoul melihat konfirmasi itu?").
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
# "X dengan (cara) menanam jagung", the way it is done; "X menilai/dianggap … sebagai Y", the way it is seen
MANNER_BY = re.compile(r"^(?P<what>.+?),?\s+dengan\s+(?:cara\s+|jalan\s+)?(?P<how>me\w+\s.+?)[.!]?$")
SEEN_AS = re.compile(
    r"^(?P<what>.+?\s(?:menilai|menganggap|memandang|menafsirkan|menggambarkan|melihat|dinilai|dianggap|"
    r"dipandang|ditafsirkan|digambarkan|dilihat)(?:\s.+?)?)\s+sebagai\s+(?P<how>.+?)[.!]?$"
)


def _cleaned(sentence: str) -> str:
    return re.sub(r"\[\d+\]", "", sentence).strip().strip("\"“”'")


def _asked_part(match: re.Match | None, why_words: int, not_in_what: str) -> tuple[str, str] | None:
    """(what is asked about, what the sentence says of it) from a pattern's match, when worth a question."""
    if not match:
        return None
    what = CONNECTIVES.sub("", DATELINE.sub("", match["what"].strip(" ,;:\"“”'")))
    said = match["why" if "why" in match.groupdict() else "how"].strip(" ,;:")
    if not 4 <= len(what.split()) <= 20 or len(said.split()) < why_words or re.search(not_in_what, what, re.I):
        return None
    if what.split()[-1].lower() in DANGLING or ". " in what or what.lower().startswith(("meskipun", "walaupun")):
        return None  # "…identitas Alice dan karena itu…", two sentences the splitter left joined, a concession
    return what, said


def split_reason(sentence: str) -> tuple[str, str] | None:
    """(what is explained, the reason), or None when the sentence gives no reason worth a question."""
    text = _cleaned(sentence)
    return _asked_part(REASON_FIRST.match(text) or REASON_AFTER.match(text), 3, REASON_WORDS)


def split_manner(sentence: str) -> tuple[str, str] | None:
    """(what is done or seen, the way), or None when the sentence says no way worth a question."""
    text = _cleaned(sentence)
    return _asked_part(MANNER_BY.match(text) or SEEN_AS.match(text), 2, r"\b(dengan|sebagai)\b")


def _lowered(what: str) -> str:
    """A sentence's opening word lowered to sit mid-question; a name ("Bank Indonesia") keeps its capital."""
    words = what.split()
    if words[0][1:].islower() and not (len(words) > 1 and words[1][:1].isupper()):
        return what[0].lower() + what[1:]
    return what


def ask_why(what: str, rng: random.Random) -> str:
    """ "Pertandingan ditunda" → "Mengapa pertandingan ditunda?"; a name keeps its capital."""
    what = _lowered(what)
    templates = TEMPLATES[:2] if what.lower().startswith(("alasan", "penyebab")) else TEMPLATES
    return rng.choice(templates).format(what)


def ask_how(what: str, rng: random.Random) -> str:
    """ "Pulau itu ditempuh dari kota" → "Bagaimana pulau itu ditempuh dari kota?" """
    return rng.choice(("Bagaimana {}?", "Bagaimanakah {}?")).format(_lowered(what))


def erased(what: str) -> str:
    """The sentence without its reason: what a why-question must not be answered by."""
    return what[0].upper() + what[1:] + "."
