"""How an article introduces a person or defines a term, as a sentence the answer checker can read.

"Siapa Kim Taewoo?" is among the first things a reader asks about a name in the news, and the answer is
how the article introduces him: "…," kata mantan kepala Institut Unifikasi Nasional Korea di Seoul, Kim
Taewoo. Read as written, that sentence is about something else, and the checker scored it 0.43 (the
threshold is 0.58); read as "Kim Taewoo adalah mantan kepala Institut Unifikasi Nasional Korea di Seoul.",
0.91. "Apa itu juche?" likewise: '…filosofi resminya "juche" atau "kemandirian".' scored 0.13, "Juche
adalah kemandirian." 0.72. So a question asking only who a named person is, or what a term is, reads each
sentence that describes or defines it through that description, and the checker still decides; the reply
quotes the sentence as the article wrote it. The checker passes almost any "X adalah Y" ("Pyongyang adalah
kunjungan Putin." 0.83), so what counts as a description is strict: a role word beside the name, a
definition's own form ("atau", "yaitu", an abbreviation's parentheses, "adalah"), no clause.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.colloquial import root_words

NAME = r"[A-Z][\w'.-]*(?:\s+[A-Z][\w'.-]*){0,4}"  # case-sensitive: the patterns scope (?i:) to their words
TERM = r"[\"“']?[\w][\w.-]*(?:\s+[\w][\w.-]*){0,2}?[\"”']?"  # "juche", "KINU", "Asan Institute"
# "Siapa Kim Taewoo?", "Siapakah Hong Min?", "Kim Taewoo itu siapa?", "Who is Kim Taewoo?", "Who's Nam?"
ASKS_WHO = (
    re.compile(rf"^\s*(?i:siapa(?:kah)?\s+(?:itu\s+|sih\s+)?)(?P<name>{NAME})\s*\??\s*$"),
    re.compile(rf"^\s*(?P<name>{NAME})\s+(?i:(?:itu\s+|tuh\s+)?siapa(?:\s+sih)?)\s*\??\s*$"),
    re.compile(rf"^\s*(?i:who(?:\s+is|\s+was|'s)\s+)(?P<name>{NAME})\s*\??\s*$"),
)
# The kind of thing a term is, which the definition names without: "kata Mandala", "ilmu geometri", "kaum Muhajirin".
KIND = r"(?:(?:kata|istilah|ilmu|kaum|tokoh|konsep|paham|wilayah|term|word)\s+)?"
# "Apa itu juche?", "Apa yang dimaksud dengan KINU?", "ICBM itu apa?", "What is juche?", "What does KINU stand for?"
ASKS_WHAT = (
    re.compile(
        rf"^\s*(?i:apa(?:kah)?\s+(?:itu|yang\s+dimaksud\s+dengan|arti(?:nya)?|maksud(?:nya)?)\s+(?:dari\s+)?{KIND})"
        rf"(?P<name>{TERM})\s*\??\s*$"
    ),
    re.compile(rf"^\s*(?P<name>{TERM})\s+(?i:(?:itu\s+|tuh\s+)?apa(?:an)?(?:\s+sih)?|artinya\s+apa)\s*\??\s*$"),
    re.compile(rf"^\s*(?i:what(?:\s+is|\s+are|'s)\s+(?:an?\s+|the\s+)?{KIND})(?P<name>{TERM})\s*\??\s*$"),
    re.compile(rf"^\s*(?i:what\s+does\s+)(?P<name>{TERM})(?i:\s+(?:mean|stand\s+for))\s*\??\s*$"),
)


@dataclass(frozen=True)
class Subject:
    """What a question asks only the identity of: a person ("Siapa Kim Taewoo?") or a term ("Apa itu juche?")."""

    name: str
    person: bool

    @property
    def question(self) -> str:
        """The question as the checker reads it, in the words it learnt: "Who is Park Won Gon?" word by word
        would be "Siapa Taman Won Gon?"."""
        return f"{'Siapa' if self.person else 'Apa itu'} {self.name}?"


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
    "komisaris|deputi|pembantu|raja|ratu|istri|suami|adik|kakak|ayah|bapak|ibu|putra|putri|saudara|saudari"
)
DESCRIBED = re.compile(rf"\b(?:(?:seorang|sang|mantan|eks|bekas|wakil)\s+)*(?:{ROLES})\b", re.I)
PREPOSITIONS = set("pada kepada di ke dari untuk oleh dengan bagi terhadap tentang".split())
NOT_LAST = set("oleh dengan dan atau pada di ke dari untuk yang bahwa setelah sebelum ketika saat seperti".split())
NAMING = set("dikenal disebut dijuluki bernama dieja".split())  # "(…), atau dikenal dengan panggilan Ahok, adalah …"
COPULA = re.compile(r"\b(?:adalah|merupakan|ialah)\s+(?P<what>[^.;]{3,300})")  # "X (…) adalah DESC"
AFTER = re.compile(r",\s+([a-z][^,.;:\"“”]{2,120}?)\s*[,.]")


def _verb(token: str) -> bool:
    """A derived verb ("mengatakan", "berkunjung", "diangkat"), which a description holds none of: a clause
    ("…Menteri Pertahanan Rusia Sergei Shoigu berkunjung ke Pyongyang pada bulan Juli") is no description
    of July. "menteri" and "direktur" open like verbs and are root words; "Khan Besar Terakhir", a title."""
    word = token.strip(".,;:()\"'“”")
    derived = word.startswith(("me", "ber", "di", "ter")) and word not in root_words()
    return word.isalpha() and word.islower() and len(word) > 5 and derived  # a capital: a name, a title


def _role_phrase(words: str) -> str | None:
    """The words from the first role on, when they make a short noun phrase."""
    role = DESCRIBED.search(words)
    before = words[: role.start()].split()[-1:] if role else []
    if not role or (before and before[0].lower() in PREPOSITIONS):  # "Pada wartawan, Shoigu…": not his role
        return None
    phrase = words[role.start() :].strip(" ,")
    tokens = phrase.split()
    last = tokens[-1] if tokens else ""
    if not 1 <= len(tokens) <= 12 or last.lower() in NOT_LAST or any(map(_verb, tokens)):
        return None
    return phrase if phrase.count("(") == phrase.count(")") else None


def asked_subject(question: str) -> Subject | None:
    """The person or term a question asks only the identity of, else None."""
    for pattern in ASKS_WHO:
        match = pattern.match(question)
        if match and not DESCRIBED.match(match["name"]):  # "Siapa Menteri Luar Negeri Korea Selatan?" asks for a role
            return Subject(match["name"].strip(), person=True)
    for pattern in ASKS_WHAT:
        if match := pattern.match(question):
            return Subject(match["name"].strip("\"“”' "), person=False)
    return None


def _named(text: str, name: str, flags: int = 0) -> re.Match[str] | None:
    return re.search(rf"(?<![\w(-]){re.escape(name)}(?![\w)-])", text, flags)  # not "(Korut)", a gloss


def _aside(text: str) -> str:
    """The text without its parentheses, nested ones too: "(bahasa Yunani: κόσμος (kósmos), …)"."""
    while (shorter := re.sub(r"\([^()]*\)", "", text)) != text:
        text = shorter
    return text


def names(text: str, subject: Subject) -> bool:
    """The text names the subject as asked: a whole word, not inside another name; a term in its own
    parentheses too ("Institut Unifikasi Nasional Korea (KINU)"), not a person ("(Korut) Kim Jong Un")."""
    if subject.person:
        return _named(text, subject.name) is not None
    return _named(text, subject.name, re.I) is not None or f"({subject.name})" in text


def description(sentence: str, name: str) -> str | None:
    """What the sentence says the named person is: what it says they are ("Teruo Nakamura (…) adalah prajurit
    dua …"), the words between commas after the name ("Konstantin Asmolov, seorang peneliti senior di …,
    menyebutkan"), or the apposition before it ("profesor di Ewha Womans University di Seoul Park Won Gon
    mengatakan"); None when it says none of these."""
    named = _named(sentence, name)
    if named is None:
        return None
    if said := COPULA.search(sentence, named.end()):  # "Teruo Nakamura (中村輝夫), ) adalah prajurit dua …"
        between, predicate = sentence[named.end() : said.start()].split(), said["what"].split()
        glosses = [t for t in between if _verb(t) and t.strip(",").lower() not in NAMING]
        if len(between) <= 60 and not glosses and predicate[0].lower() not in PREPOSITIONS and not _verb(predicate[0]):
            return " ".join(predicate[:25])
    after = AFTER.match(sentence[named.end() :])
    if after and (phrase := _role_phrase(after[1])) and after[1].startswith(phrase.split()[0]):
        return phrase
    before = sentence[: named.start()].rstrip().rstrip(",").rstrip()
    opened = OPENS.match(before)
    phrase = _role_phrase(before[opened.end() :] if opened else before)
    if phrase is None:
        return None
    first, _, rest = phrase.partition(" ")
    return first.lower() + " " + rest if first[1:].islower() and rest[:1].islower() else phrase  # "Pengamat dari"


def definition(sentence: str, term: str) -> str | None:
    """What the sentence says the term is: '"juche" atau "kemandirian"', "ICBM, yaitu rudal …", "rudal balistik
    antarbenua (ICBM)", "juche adalah …"; None when it says none of these."""
    quoted = re.search(rf"[\"“']{re.escape(term)}[\"”']?\s+(?:atau|alias)\s+[\"“']([^\"”'.,;()]{{2,80}})", sentence)
    if quoted:  # a quoted term glossed: "juche" atau "kemandirian"
        return quoted[1].strip()
    named = _named(sentence, term, re.I)  # "Logaritma adalah …" defines "logaritma"
    if named and (said := re.match(r",?\s+(?:yaitu|yakni)\s+([^.;()]{3,200})", sentence[named.end() :])):
        return " ".join(said[1].split()[:25])
    if named and (said := COPULA.search(sentence, named.end())):
        predicate = said["what"].split()
        between = _aside(sentence[named.end() : said.start()])  # "Protagonis (bahasa Yunani: …) adalah"
        other_name = re.fullmatch(r"[\s,]*(?:(?:atau|alias)\s+[^,;:]{1,60}?)?[\s,]*", between)  # "Demografi atau …"
        if other_name and predicate[0].lower() not in PREPOSITIONS and not _verb(predicate[0]):
            return " ".join(predicate[:25])
    glossed = sentence.find(f"({term})")
    if glossed <= 0:
        return None
    words: list[str] = []  # an abbreviation: the words before it, back to a clause, a preposition or a role
    for word in reversed(sentence[:glossed].split()):
        bare = word.strip("\"“”'(")
        if word[-1] in ",;:" or bare.lower() in PREPOSITIONS | NOT_LAST or _verb(bare) or DESCRIBED.fullmatch(bare):
            break
        words.insert(0, bare)
        if bare != word or len(words) == 6:
            break
    return " ".join(words) or None


def introduction(sentence: str, subject: Subject) -> str | None:
    """ "Kim Taewoo adalah mantan kepala Institut Unifikasi Nasional Korea di Seoul.", "KINU adalah Institut
    Unifikasi Nasional Korea.": the sentence read as saying who or what the subject is; None when it does not."""
    said = description(sentence, subject.name) if subject.person else definition(sentence, subject.name)
    return f"{subject.name[:1].upper()}{subject.name[1:]} adalah {said}." if said else None  # a sentence's capital
