"""Turn scraped Indonesian news text into a clean body plus metadata.

Scraped pages carry boilerplate ("Baca Juga" links, captions, navigation
tails, byline lines) that would otherwise be embedded and shown as answers.
The rules here are general patterns of Indonesian news sites, not per-file
fixes, so new articles from other outlets come out clean too.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Cleaned:
    """The result of cleaning: body paragraphs are separated by blank lines."""

    title: str
    body: str
    outlet: str = ""
    date: str = ""
    editor: str = ""
    source: str = ""


# --- dates -------------------------------------------------------------------

MONTHS = {
    "januari": 1, "jan": 1, "january": 1,
    "februari": 2, "pebruari": 2, "feb": 2, "peb": 2, "february": 2,
    "maret": 3, "mar": 3, "march": 3,
    "april": 4, "apr": 4,
    "mei": 5, "may": 5,
    "juni": 6, "jun": 6, "june": 6,
    "juli": 7, "jul": 7, "july": 7,
    "agustus": 8, "agu": 8, "agt": 8, "ags": 8, "aug": 8, "august": 8,
    "september": 9, "sep": 9, "sept": 9,
    "oktober": 10, "okt": 10, "oct": 10, "october": 10,
    "november": 11, "nopember": 11, "nov": 11, "nop": 11,
    "desember": 12, "des": 12, "dec": 12, "december": 12,
}  # fmt: skip
MONTH_NAMES = "Januari Februari Maret April Mei Juni Juli Agustus September Oktober November Desember".split()
_MONTH_ALT = "|".join(sorted(MONTHS, key=len, reverse=True))
_DATE = (
    r"(?:\d{4}-\d{1,2}-\d{1,2}"
    rf"|\d{{1,2}}\s+(?:{_MONTH_ALT})\.?\s+\d{{4}}"
    r"|\d{1,2}[/.-]\d{1,2}[/.-]\d{4})"
)
_DATE_RE = re.compile(rf"(?<!\d)({_DATE})(?!\d)", re.IGNORECASE)
_DAY = r"(?:senin|selasa|rabu|kamis|jum'?at|sabtu|minggu|ahad)"
_DATE_LINE = re.compile(
    r"^[\W_]*(?:(?:diterbitkan|dipublikasikan|diperbarui|publikasi|terbit|update[d]?"
    r"|published)\s*:?\s*)?"
    rf"(?:{_DAY}\s*,?\s*)?\(?{_DATE}\)?"
    r"(?:\s*[,|\-–]?\s*(?:pukul\s*)?\d{1,2}[:.]\d{2}(?:[:.]\d{2})?"
    r"\s*(?:WIB|WITA|WIT|GMT\s*[+-]?\s*\d*|UTC)?)?\W*$",
    re.IGNORECASE,
)


def parse_indonesian_date(s: str) -> str | None:
    """Return the first date in `s` as ISO "YYYY-MM-DD", or None.

    Understands "14 Juni 2024, 15:09 WIB", "Jumat (14/6/2024)", abbreviated
    months ("14 Agt 2024") and ISO dates, so front matter and datelines agree.
    """
    for m in _DATE_RE.finditer(s or ""):
        text = m.group(1)
        if re.match(r"\d{4}-", text):
            y, mo, d = (int(p) for p in text.split("-"))
        elif re.search(r"[A-Za-z]", text):
            d_s, mon, y_s = re.split(r"\s+", text)
            d, mo, y = int(d_s), MONTHS[mon.rstrip(".").lower()], int(y_s)
        else:
            d, mo, y = (int(p) for p in re.split(r"[/.-]", text))
        try:
            return date(y, mo, d).isoformat()
        except ValueError:
            continue
    return None


# --- outlets -----------------------------------------------------------------

DOMAINS = {
    "republika.co.id": "Republika", "kompas.com": "Kompas", "kompas.id": "Kompas",
    "kompas.tv": "Kompas TV", "detik.com": "detikcom", "detiknews": "detikcom",
    "tempo.co": "Tempo", "liputan6.com": "Liputan6", "tribunnews.com": "Tribunnews",
    "cnnindonesia.com": "CNN Indonesia", "cnbcindonesia.com": "CNBC Indonesia",
    "antaranews.com": "Antara", "okezone.com": "Okezone", "suara.com": "Suara",
    "merdeka.com": "Merdeka", "viva.co.id": "VIVA", "bisnis.com": "Bisnis",
    "kumparan.com": "kumparan", "jpnn.com": "JPNN", "sindonews.com": "SINDOnews",
    "idntimes.com": "IDN Times", "pikiran-rakyat.com": "Pikiran Rakyat",
    "jawapos.com": "Jawa Pos", "mediaindonesia.com": "Media Indonesia",
    "thejakartapost.com": "The Jakarta Post", "bbc.com": "BBC",
}  # fmt: skip
NAMES = {
    "ANTARA": "Antara", "ANTARANEWS": "Antara", "CNN INDONESIA": "CNN Indonesia",
    "CNBC INDONESIA": "CNBC Indonesia", "VIVA": "VIVA", "KOMPAS": "Kompas",
    "TEMPO": "Tempo", "DETIK": "detikcom", "DETIKNEWS": "detikcom",
}  # fmt: skip
# Places that open datelines ("JAKARTA, KOMPAS.com -"): a place is not an outlet.
CITIES = {
    "JAKARTA", "BANDUNG", "SURABAYA", "SEMARANG", "YOGYAKARTA", "YOGYA", "JOGJA",
    "SOLO", "SURAKARTA", "KLATEN", "MALANG", "MEDAN", "MAKASSAR", "DENPASAR",
    "PALEMBANG", "PADANG", "PEKANBARU", "BANDA ACEH", "BOGOR", "DEPOK", "BEKASI",
    "TANGERANG", "SERANG", "CIREBON", "SLEMAN", "BANTUL", "BALIKPAPAN", "SAMARINDA",
    "PONTIANAK", "BANJARMASIN", "MANADO", "KUPANG", "MATARAM", "AMBON", "JAYAPURA",
    "BATAM", "JAMBI", "BENGKULU", "LAMPUNG", "BANDAR LAMPUNG", "KUALA LUMPUR",
    "SINGAPURA", "SEOUL", "PYONGYANG", "MOSKOW", "BEIJING", "TOKYO", "WASHINGTON",
    "NEW YORK", "LONDON", "JENEWA", "KIEV", "KYIV", "BANGKOK", "MANILA", "SYDNEY",
}  # fmt: skip
_TLD = r"(?:\.(?:co|or|go|ac|web|my))?\.(?:com|id|co|net|org|tv|news|info|asia)"
_DOMAIN = re.compile(rf"^(?:www\.)?[A-Za-z0-9-]+{_TLD}$", re.IGNORECASE)


def outlet_name(s: str) -> str:
    """Map "REPUBLIKA.CO.ID", "Kompas.com", "(ANTARA)" or "KILAS KLATEN" to a nice name."""
    s = s.strip().strip("()").strip()
    low = s.lower().removeprefix("www.")
    if low in DOMAINS:
        return DOMAINS[low]
    if s.upper() in NAMES:
        return NAMES[s.upper()]
    if _DOMAIN.match(s):
        label = low.split(".")[0]
        return DOMAINS.get(label + ".com") or label.replace("-", " ").title()
    return s.title() if s.isupper() else s


_DASH = r"(?:\s*(?:--|—|–)\s*|\s+-\s+)"
_DATELINE = re.compile(rf"^(?P<pre>[^\n]{{2,70}}?){_DASH}(?=\S)")
_DOMAIN_LEAD = re.compile(rf"^(?P<dom>[A-Za-z0-9-]+{_TLD})\s*[,:]\s*(?=\S)", re.IGNORECASE)
_PART = re.compile(r"^[A-Z0-9][\w.&'-]*(?:\s+[A-Z0-9][\w.&'-]*){0,3}(?:\s*\([^()]{2,30}\))?$")


def split_dateline(par: str) -> tuple[str, str] | None:
    """Return (outlet, rest) if `par` opens with a news dateline, else None.

    "REPUBLIKA.CO.ID, JAKARTA -- Teks" -> ("Republika", "Teks"); the outlet is
    "" for a bare place ("JAKARTA - Teks"). A title-case phrase before a dash
    ("Presiden Rusia – ...") is content, not a dateline.
    """
    m = _DATELINE.match(par)
    if m:
        outlet, ok = "", True
        for part in (p.strip() for p in m.group("pre").split(",")):
            paren = re.search(r"\(([^()]+)\)", part)
            bare = re.sub(r"\s*\([^()]*\)", "", part).strip()
            if not _PART.match(part):
                ok = False
            elif paren and (paren.group(1).isupper() or _DOMAIN.match(paren.group(1))):
                outlet = outlet_name(paren.group(1))
            elif _DOMAIN.match(bare) or bare.upper() in NAMES:
                outlet = outlet_name(bare)
            elif bare.upper() in CITIES or parse_indonesian_date(bare):
                continue
            elif bare.isupper() and " " in bare:
                outlet = outlet_name(bare)  # "KILAS KLATEN", "PORTAL JEMBER"
            elif not bare.isupper() or len(bare) < 4:
                ok = False  # "Presiden Rusia – ..." or "AS – ..." is content
        if ok and len(m.group("pre").split(",")) <= 3:
            return outlet, par[m.end() :]
    m = _DOMAIN_LEAD.match(par)
    if m:
        return outlet_name(m.group("dom")), par[m.end() :]
    return None


# --- line rules --------------------------------------------------------------

_SEE_ALSO = re.compile(
    r"^\W*(?:(?i:baca|simak|lihat|tonton)\s+(?i:juga|pula)\s*(?::|-|–|—|»|>>|$)"
    r"|(?:BACA|SIMAK|LIHAT|TONTON)\s+(?:JUGA|PULA)\b)"
)
_BYLINE = re.compile(
    r"^\W*(editor|redaktur|penyunting|penulis|reporter|pewarta|kontributor|sumber"
    r"|foto|fotografer|ilustrasi|video)\s*:\s*(.+)$",
    re.IGNORECASE,
)
_CREDIT = re.compile(
    r"(?:\s/\s*[A-Z][^/]{1,40}"
    r"|\((?:foto|ilustrasi|dok\.?|sumber foto|antara foto|photo)\b[^)]*\))\s*$",
    re.IGNORECASE,
)
NAV = {
    "tags", "tag", "topik", "artikel pilihan", "pilihan", "pilihan editor", "terkait",
    "berita terkait", "artikel terkait", "terkini", "berita terkini", "terpopuler",
    "populer", "berita populer", "kabar daerah", "rekomendasi", "rekomendasi untuk anda",
    "share", "bagikan", "komentar", "berita lainnya", "baca berita lainnya",
    "lihat semua", "video pilihan", "trending", "headline", "related", "most popular",
}  # fmt: skip
_TERMINAL = (".", "!", "?", '"', "”", "…", ":", ";", ")", "'")


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", s.lower())).strip()


def _words(s: str) -> int:
    return len(s.split())


def _is_nav(line: str) -> bool:
    head = line.split(":", 1)[0] if ":" in line else line
    return _norm(head) in NAV and (":" in line or _words(line) <= 3)


def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFC", text.lstrip("\ufeff"))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u00a0", " ").replace("\u200b", "")
    lines = (re.sub(r"[ \t]+", " ", ln).strip() for ln in text.split("\n"))
    return "\n".join(re.sub(r"^#{1,6} ", "", ln) for ln in lines)  # Markdown headings


def _same_title(line: str, title: str) -> bool:
    """A first line that repeats the known title, maybe with a " - Site" suffix on either."""

    def base(s: str) -> str:
        return _norm(re.sub(r"\s[-|–—]\s[^-|–—]{1,40}$", "", s))

    a, b = _norm(line), _norm(title)
    return bool(a) and (a == b or base(line) == b or a == base(title))


def _cut_nav_tail(lines: list[str]) -> list[str]:
    """Drop the trailing navigation block ("Tags", "Terkait", related headlines).

    The cut starts at a known nav word and only when everything after it is
    short and sentence-less, so an article ending in a real paragraph survives.
    """
    cut = len(lines)
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i]
        if _is_nav(line):
            cut = i
        elif _words(line) > 15 or line.endswith(_TERMINAL[:3]):
            break
    return lines[:cut]


def _drop_captions(lines: list[str], title: str) -> list[str]:
    """Drop photo captions: credited lines and the alt text they repeat."""
    captions = {i for i, ln in enumerate(lines) if _words(ln) <= 40 and _CREDIT.search(ln)}
    keep: list[str] = []
    for i, line in enumerate(lines):
        norm = _norm(line)
        near = [_norm(lines[j]) for j in range(i - 2, i + 3) if j in captions and j != i]
        if i in captions or (title and norm == _norm(title)):
            continue
        if norm and any(c.startswith(norm) for c in near):
            continue
        if keep and norm == _norm(keep[-1]):
            continue
        keep.append(line)
    return keep


def _paragraphs(lines: list[str | None]) -> list[str]:
    """Group lines into paragraphs; re-join hard-wrapped lines (None = blank line)."""
    pars: list[str] = []
    joinable = False
    for line in lines:
        if line is None:
            joinable = False
            continue
        if joinable and pars and not pars[-1].endswith(_TERMINAL) and line[:1].islower():
            pars[-1] += " " + line
        else:
            pars.append(line)
        joinable = True
    return pars


def clean(text: str, known_title: str = "") -> Cleaned:
    """Clean a scraped article; the first non-empty line is its title.

    With `known_title` (from front matter or HTML metadata) the text carries
    no title line of its own: `Cleaned.title` is "" and a first line that just
    repeats the known title is dropped.
    """
    raw = [ln or None for ln in _normalize(text).split("\n")]
    while raw and raw[0] is None:
        raw.pop(0)
    title = ""
    if raw and known_title and _same_title(raw[0] or "", known_title):
        raw.pop(0)
    elif raw and not known_title and _words(raw[0] or "") <= 25:
        title = raw.pop(0) or ""
    meta = {"date": "", "editor": "", "source": ""}
    lines: list[str | None] = []
    skip_next = False
    for line in raw:
        if line is None:
            lines.append(None)
            continue
        if skip_next:  # headline under a bare "BACA JUGA"
            skip_next = False
            if _words(line) <= 20 and not line.endswith("."):
                continue
        if _SEE_ALSO.match(line):
            skip_next = _words(re.sub(r"^\W*\w+\s+\w+\W*", "", line)) == 0
            continue
        if _byline(line, meta):
            continue
        if _DATE_LINE.match(line):
            meta["date"] = meta["date"] or parse_indonesian_date(line) or ""
            continue
        if re.fullmatch(r"[*\s]+", line):
            continue
        lines.append(re.sub(r"\s*\*{3,}$", "", line))
    pars = _paragraphs(lines)
    pars = _cut_nav_tail(_drop_captions(pars, title or known_title))
    outlet = ""
    for i, par in enumerate(pars[:3]):
        found = split_dateline(par)
        if found:
            outlet, rest = found
            pars[i] = rest[:1].upper() + rest[1:]
            break
    return Cleaned(title, "\n\n".join(p for p in pars if p), outlet, **meta)


def _byline(line: str, meta: dict[str, str]) -> bool:
    """Record editor/source from byline lines ("Editor: X | Penulis: Y"); True if it is one."""
    parts = [p.strip() for p in line.split("|")]
    found = [_BYLINE.match(p) for p in parts]
    if not all(m and _words(m.group(2)) <= 10 for m in found):
        return False
    for m in filter(None, found):
        key, value = m.group(1).lower(), m.group(2).strip().rstrip(".()")
        if key in ("editor", "redaktur", "penyunting"):
            meta["editor"] = meta["editor"] or value
        elif key == "sumber":
            meta["source"] = meta["source"] or value
    return True
