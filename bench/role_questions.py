"""Who-holds-which-role questions written from the train passages, for the answer checker.

Near-topic questions readers ask most often name a role the articles never fill: "Siapa ketua Akademi
Ilmu Pengetahuan Rusia?" against "Konstantin Asmolov, peneliti senior di Akademi Ilmu Pengetahuan
Rusia, …": the same organisation, a person, and not the fact asked. A sentence naming a role at an
organisation ("Fransiskus Xaverius, misionaris dan pendiri Ordo Yesuit, …") answers "Siapa pendiri Ordo
Yesuit?" and must not answer "Siapa ketua Ordo Yesuit?": one word apart, so the checker learns to read
the role, not just the names around it.
"""

from __future__ import annotations

import random
import re

from index.clean import MONTH_NAMES

# Roles a person holds at an organisation; "kepala" (also a head) and "anggota" (many hold it) are left out.
ROLES = (
    "peneliti senior|peneliti|profesor|guru besar|dosen|direktur utama|direktur|ketua umum|ketua|pendiri|"
    "presiden|wakil presiden|menteri|juru bicara|rektor|gubernur|pelatih|kapten|manajer|sekretaris jenderal|"
    "duta besar|panglima|komandan|pemimpin|editor|pemilik|bendahara"
).split("|")
ROLE = "|".join(sorted(ROLES, key=len, reverse=True))
NAME_WORD = r"[A-Z][\w.&'-]*"
ORGANISATION = rf"{NAME_WORD}(?:\s+(?:{NAME_WORD}|of|for|de|van|dan(?=\s+[A-Z])))*"
HOLDS = re.compile(rf"\b(?P<role>{ROLE})\s+(?:(?P<prep>di|dari)\s+)?(?P<org>{ORGANISATION})")
PERSON = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+\b")
NOT_ORGANISATION = set(MONTH_NAMES)


def role_questions(sentence: str) -> list[tuple[str, str]]:
    """(the role, the organisation) pairs a sentence names a person to, e.g. ("pendiri", "Ordo Yesuit")."""
    found = []
    for match in HOLDS.finditer(sentence):
        org = match["org"].rstrip(".,")
        if org.split()[0] in NOT_ORGANISATION or len(org) < 3:
            continue
        rest = sentence[: match.start()] + " " + sentence[match.end() :]
        if PERSON.search(rest):  # someone holds it, named outside the organisation's own name
            where = f"{match['prep']} {org}" if match["prep"] else org
            found.append((match["role"], where))
    return found


def other_role(sentence: str, role: str, rng: random.Random) -> str:
    """A role the sentence gives nobody: asked about, the sentence must not answer it."""
    named = sentence.lower()
    return rng.choice([r for r in ROLES if r != role and r not in named and role not in r and r not in role])


def ask_who(role: str, where: str) -> str:
    return f"Siapa {role} {where}?"


ASKED = re.compile(rf"^(?P<who>siapa(?:kah)?\s+(?:nama\s+)?)(?P<role>{ROLE})\b", re.I)


# "Menteri Luar Negeri", "Direktur Pelaksana": the role goes on, and a swapped head word would garble it.
TITLE_TAIL = set("Luar Dalam Pelaksana Jenderal Umum Besar Negara Pertahanan Keuangan Utama Senior".split())


def swap_asked_role(question: str, sentence: str, rng: random.Random) -> str | None:
    """ "Siapa pendiri Freedom Institute?" → "Siapa bendahara Freedom Institute?", a role its answer
    sentence gives nobody; None when the question asks for no role."""
    question = question.strip()
    match = ASKED.match(question)
    rest = question[match.end() :] if match else ""
    following = (rest.split() or [""])[0]
    if not match or following in TITLE_TAIL:
        return None
    return match["who"] + other_role(sentence, match["role"].lower(), rng) + rest
