"""How an article introduces a person, as a sentence the answer checker can read.

"Siapa Kim Taewoo?" is among the first things a reader asks about a name in the news, and the answer is
how the article introduces him: "…," kata mantan kepala Institut Unifikasi Nasional Korea di Seoul, Kim
Taewoo. Read as written, that sentence is about something else, and the checker scored it 0.43 (the
threshold is 0.58); read as "Kim Taewoo adalah mantan kepala Institut Unifikasi Nasional Korea di Seoul.",
0.91. So a question asking only who a named person is reads each sentence naming them through the
description beside the name (an apposition before it, or between commas after it), and the checker
still decides; the reply quotes the sentence as the article wrote it.
"""

from __future__ import annotations

import re

NAME = r"[A-Z][\w'.-]*(?:\s+[A-Z][\w'.-]*){0,4}"  # case-sensitive: the patterns scope (?i:) to their words
# "Siapa Kim Taewoo?", "Siapakah Hong Min?", "Kim Taewoo itu siapa?", "Who is Kim Taewoo?", "Who's Nam?"
ASKS_WHO = (
    re.compile(rf"^\s*(?i:siapa(?:kah)?\s+(?:itu\s+|sih\s+)?)(?P<name>{NAME})\s*\??\s*$"),
    re.compile(rf"^\s*(?P<name>{NAME})\s+(?i:(?:itu\s+|tuh\s+)?siapa(?:\s+sih)?)\s*\??\s*$"),
    re.compile(rf"^\s*(?i:who(?:\s+is|\s+was|'s)\s+)(?P<name>{NAME})\s*\??\s*$"),
)
# Where a description before a name begins: after a quote, a clause or a speech verb ("kata", "ujar").
OPENS = re.compile(
    r".*(?:[\"“”';:\n]|,\s|\b(?:kata|ujar|ucap|ungkap|tutur|jelas|menurut|mengatakan|menyebut|namun|tetapi|"
    r"bahwa|dan|oleh|dengan|said|says|according to)\s)",
    re.I | re.S,
)
# A description names a role ("profesor di Ewha Womans University di Seoul Park Won Gon"); a noun before a
# name without one is a possessive ("kunjungan pertama Putin", Putin's first visit).
ROLES = (
    "peneliti|profesor|guru besar|dosen|direktur|ketua|pendiri|presiden|wakil presiden|perdana menteri|menteri|"
    "juru bicara|rektor|gubernur|wali kota|bupati|pelatih|kapten|manajer|sekretaris|duta besar|panglima|komandan|"
    "jenderal|pemimpin|kepala|editor|pemilik|pengamat|analis|pakar|ahli|pejabat|wartawan|jurnalis|diplomat|"
    "penasihat|anggota|politikus|politisi|senator|hakim|jaksa|pengacara|pengusaha|ilmuwan|aktivis|penulis|"
    "komisaris|deputi|raja|ratu|istri|suami|adik|kakak|ayah|ibu|putra|putri|saudara|saudari"
)
DESCRIBED = re.compile(rf"\b(?:(?:seorang|sang|mantan|eks|bekas|wakil)\s+)*(?:{ROLES})\b", re.I)
PREPOSITIONS = set("pada kepada di ke dari untuk oleh dengan bagi terhadap tentang".split())
NOT_LAST = set("oleh dengan dan atau pada di ke dari untuk yang bahwa setelah sebelum ketika saat".split())
AFTER = re.compile(r",\s+([a-z][^,.;:\"“”]{2,120}?)\s*[,.]")


def _role_phrase(words: str) -> str | None:
    """The words from the first role on, when they make a short noun phrase."""
    role = DESCRIBED.search(words)
    before = words[: role.start()].split()[-1:] if role else []
    if not role or (before and before[0].lower() in PREPOSITIONS):  # "Pada wartawan, Shoigu…": not his role
        return None
    phrase = words[role.start() :].strip(" ,")
    tokens = phrase.split()
    last = tokens[-1] if tokens else ""
    if not 1 <= len(tokens) <= 16 or last.lower() in NOT_LAST or (last.islower() and last.startswith("me")):
        return None
    return phrase


def asks_who_is(question: str) -> str | None:
    """The name a question asks about when it asks only who that person is, else None."""
    for pattern in ASKS_WHO:
        match = pattern.match(question)
        if match:
            return match["name"].strip()
    return None


def description(sentence: str, name: str) -> str | None:
    """What the sentence says the named person is: the words between commas after the name ("Konstantin
    Asmolov, seorang peneliti senior di …, menyebutkan"), or the apposition before it ("profesor di
    Ewha Womans University di Seoul Park Won Gon mengatakan"); None when it says neither."""
    at = sentence.lower().find(name.lower())
    if at < 0:
        return None
    after = AFTER.match(sentence[at + len(name) :])
    if after and (phrase := _role_phrase(after[1])) and after[1].startswith(phrase.split()[0]):
        return phrase
    before = sentence[:at].rstrip().rstrip(",").rstrip()
    opened = OPENS.match(before)
    phrase = _role_phrase(before[opened.end() :] if opened else before)
    if phrase is None:
        return None
    first, _, rest = phrase.partition(" ")
    return first.lower() + " " + rest if first[1:].islower() and rest[:1].islower() else phrase  # "Pengamat dari"


def introduction(sentence: str, name: str) -> str | None:
    """ "Kim Taewoo adalah mantan kepala Institut Unifikasi Nasional Korea di Seoul.": the sentence read
    as an answer to who the person is; None when it does not describe them."""
    described = description(sentence, name)
    return f"{name} adalah {described}." if described else None
