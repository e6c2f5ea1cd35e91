"""An English question, word by word in Indonesian, for the answer checker to read.

The checker learnt from Indonesian questions only (the benchmarks hold no others, and no translation model
runs offline), so an English question's score says little: on the seed dev split English answerable and
unanswerable questions scored close together. Read word by word in Indonesian ("Who replaced Shoigu as
defence minister?" → "Siapa menggantikan Shoigu sebagai pertahanan menteri?"), the same question meets the
checker in the words it knows; the word order stays English, which the checker minds less than the
language. Retrieval still embeds the question as asked (e5 is multilingual); only the checker reads this.

The word list is `index/lexicon/eng-ind.tsv` (from FreeDict, CC BY-SA 3.0; `python -m bench.build_lexicon`)
and, below, the function words and common words it lacks. A word it does not know stays as it is, which is
right for names.
"""

from __future__ import annotations

import logging
import re
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

LEXICON = Path(__file__).resolve().parent / "lexicon" / "eng-ind.tsv"

# Question and function words ("" drops the word: Indonesian has no articles or auxiliaries), and common
# words the dictionary lacks or translates by a rare sense ("kind" → "baik", kind-hearted).
# fmt: off
WORDS = {
    "who": "siapa", "whom": "siapa", "whose": "siapa", "what": "apa", "which": "apa", "when": "kapan",
    "where": "di mana", "why": "mengapa", "how": "bagaimana", "how many": "berapa", "how much": "berapa",
    "how long": "berapa lama", "how old": "berapa umur", "is": "", "are": "", "was": "", "were": "", "am": "",
    "be": "", "been": "", "being": "", "do": "", "does": "", "did": "", "has": "", "have": "", "had": "", "the": "",
    "a": "", "an": "", "s": "", "of": "dari", "in": "di", "at": "di", "to": "ke", "into": "ke", "on": "pada",
    "and": "dan", "or": "atau", "with": "dengan", "for": "untuk", "by": "oleh", "from": "dari", "about": "tentang",
    "as": "sebagai", "that": "yang", "this": "ini", "these": "ini", "those": "itu", "it": "itu", "its": "",
    "their": "mereka", "they": "mereka", "them": "mereka", "he": "dia", "she": "dia", "him": "dia", "his": "",
    "her": "", "we": "kami", "you": "anda", "i": "saya", "not": "tidak", "no": "tidak", "so": "begitu",
    "than": "daripada", "after": "setelah", "before": "sebelum", "during": "selama", "since": "sejak",
    "until": "hingga", "between": "antara", "against": "melawan", "according": "menurut", "according to": "menurut",
    "because": "karena", "will": "akan", "would": "akan", "could": "bisa", "can": "bisa", "might": "mungkin",
    "may": "mungkin", "should": "harus", "must": "harus", "many": "banyak", "much": "banyak", "more": "lebih",
    "most": "paling", "other": "lain", "another": "lain", "kind": "jenis", "kinds": "jenis", "north": "utara",
    "south": "selatan", "east": "timur", "west": "barat", "korea": "Korea", "korean": "Korea", "russia": "Rusia",
    "russian": "Rusia", "soviet": "Soviet", "military": "militer", "defence": "pertahanan", "replace": "mengganti",
    "replaced": "menggantikan", "visit": "kunjungan", "visits": "kunjungan", "visited": "mengunjungi",
    "trip": "lawatan", "summit": "pertemuan puncak", "leader": "pemimpin", "country": "negara",
    "countries": "negara", "get": "mendapat", "got": "mendapat", "want": "ingin", "wants": "ingin",
    "wanted": "ingin", "return": "imbalan", "in return": "sebagai imbalan", "year": "tahun", "years": "tahun",
    "first": "pertama", "last": "terakhir", "previous": "sebelumnya", "expected": "diperkirakan",
    "reportedly": "dilaporkan", "official": "pejabat", "officials": "pejabat", "expert": "pakar",
    "experts": "pakar", "say": "mengatakan", "says": "mengatakan", "said": "mengatakan", "sign": "menandatangani",
    "signed": "menandatangani", "supply": "memasok", "supplies": "pasokan", "help": "bantuan",
    "support": "dukungan", "ammunition": "amunisi", "shells": "peluru", "arms": "senjata", "deal": "kesepakatan",
    "deals": "kesepakatan", "pact": "pakta", "clause": "klausul", "old": "umur", "time": "kali", "times": "kali",
    "go": "pergi", "went": "pergi", "come": "datang", "came": "datang", "hold": "mengadakan", "held": "diadakan",
    "happen": "terjadi", "happened": "terjadi", "likely": "kemungkinan", "expect": "berharap", "us": "AS",
    "born": "lahir", "die": "meninggal", "died": "meninggal",
}
# fmt: on


@cache
def lexicon(path: Path = LEXICON) -> dict[str, str]:
    """English word or phrase → Indonesian, the hand list over the dictionary's."""
    words: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:  # English questions still work, on the hand list alone
        log.warning(
            "English word list %s is unreadable (%s): reinstall Kabar or run `python -m bench.build_lexicon`",
            path,
            error,
        )
        lines = []
    for line in lines:
        english, _, indonesian = line.partition("\t")
        if indonesian and not line.startswith("#"):
            words[english] = indonesian.lower()
    return {**words, **WORDS}


def _forms(word: str) -> list[str]:
    """The word and what it may be inflected from: plural, past, -ing, British spelling."""
    forms = [word]
    for suffix, base in (
        ("ies", "y"),
        ("es", ""),
        ("s", ""),
        ("ied", "y"),
        ("ed", ""),
        ("ed", "e"),
        ("ing", ""),
        ("ing", "e"),
        ("ence", "ense"),
        ("our", "or"),
        ("ise", "ize"),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            forms.append(word[: -len(suffix)] + base)
    return forms


def _cased(token: str, word: str) -> str:
    """A name keeps its capital ("Putin" → "Putin", not the list's "putin"); an acronym stays upper case."""
    if token.isupper() and len(token) > 1:
        return word.upper()
    return word[:1].upper() + word[1:] if token[:1].isupper() else word


def _in_name(tokens: list[str], i: int, words: dict[str, str]) -> bool:
    """A short capitalised word beside a capitalised word the list lacks is part of a name: "Kim Jong
    Un", "Choe Son Hui", "Moon Jae-in", "Park Won-gon" keep their "Un", "Son", "Moon", "Park", while
    "Minister Lavrov" and "What Kim…" still translate (a title is longer; a question word is listed)."""

    def unknown_name(j: int) -> bool:
        return (
            0 <= j < len(tokens) and tokens[j][:1].isupper() and not any(f in words for f in _forms(tokens[j].lower()))
        )

    token = tokens[i]
    short_name = token[:1].isupper() and not token.isupper() and len(token) <= 4
    return short_name and token.lower() not in WORDS and (unknown_name(i - 1) or unknown_name(i + 1))


def to_indonesian(question: str, words: dict[str, str] | None = None) -> str:
    """Word by word, longest phrase first (up to three words); an unknown word, or a short word inside
    a name, stays as asked."""
    words = lexicon() if words is None else words
    tokens = re.findall(r"[A-Za-z]+(?:-[A-Za-z]+)*|'s\b|[^\sA-Za-z]+", question)
    out: list[str] = []
    i = 0
    while i < len(tokens):
        if _in_name(tokens, i, words):
            out.append(tokens[i])
            i += 1
            continue
        for n in (3, 2, 1):
            phrase = " ".join(tokens[i : i + n]).lower()
            found = next((words[f] for f in (_forms(phrase) if n == 1 else [phrase]) if f in words), None)
            if found is not None:
                out.append(_cased(tokens[i], found))
                i += n
                break
        else:
            out.append("" if tokens[i] == "'s" else tokens[i])
            i += 1
    text = " ".join(t for t in out if t)
    return re.sub(r"\s+([?.,!;:)])", r"\1", re.sub(r"\(\s+", "(", text)).strip()
