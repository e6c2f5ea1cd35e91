"""Split articles into sentence-aligned passages for embedding and display.

Passages are made of whole sentences so an answer never starts or stops
mid-sentence, and section headers ("Apa yang diinginkan Kim Jong Un sebagai
imbalannya?") travel with the paragraphs they introduce, because a question
often matches the header while the answer sits in the text below it.
"""

from __future__ import annotations

import hashlib
import re

from index.models import Article, Passage

# Lower-case forms of abbreviations whose period does not end a sentence.
ABBREVIATIONS = {
    "prof", "dr", "drs", "dra", "ir", "h", "hj", "kh", "tn", "ny", "nn", "sdr", "sdri",
    "bpk", "yth", "no", "jl", "jln", "st", "dll", "dsb", "dst", "dkk",
    "tsb", "a.n", "u.p", "s.d", "kol", "jend", "brigjen", "mayjen", "letjen", "kapt",
    "kompol", "kec", "kab", "kel", "prov", "tgl", "hlm", "vol", "mr", "mrs", "ms", "vs",
    "etc", "inc", "ltd", "corp", "telp", "ket",
}  # fmt: skip
_CANDIDATE = re.compile(r"(?P<term>[.!?…]+)(?P<close>[\"”’')\]]*)\s+(?=\S)")
_OPENERS = "\"“‘'([«"
_HEADER_MAX_WORDS = 12


def words(text: str) -> int:
    """Word count used for passage sizes (whitespace tokens)."""
    return len(text.split())


def _is_abbreviation(before: str) -> bool:
    """True if the token ending at a period is a known abbreviation or an initial ("J.")."""
    token = (before.rsplit(None, 1) or [""])[-1].lstrip(_OPENERS).lower()
    return token in ABBREVIATIONS or (len(token) == 1 and token.isalpha())


def _split_line(line: str) -> list[str]:
    track_straight = line.count('"') % 2 == 0  # unbalanced: a quote spans paragraphs; ignore
    sentences, start = [], 0
    straight = curly = seen = 0  # running quote counts up to `seen`
    for m in _CANDIDATE.finditer(line):
        end = m.end("close")
        chunk = line[seen:end]
        straight, curly, seen = straight + chunk.count('"'), curly + chunk.count("“") - chunk.count("”"), end
        inside = (track_straight and straight % 2 == 1) or curly > 0
        nxt = line[m.end()]
        if inside or not (nxt.isupper() or nxt.isdigit() or nxt in _OPENERS):
            continue  # inside a quote, or '..." kata Kim.' / 'dll. dan' continues
        if (
            m.group("term") == "."
            and not m.group("close")
            and _is_abbreviation(line[max(start, m.start() - 30) : m.start()])
        ):
            continue  # "Prof.", "dll.", "J." (an initial), "a.n."
        sentences.append(line[start:end].strip())
        start = m.end()
    sentences.append(line[start:].strip())
    return [s for s in sentences if s]


def split_sentences(text: str) -> list[str]:
    """Split Indonesian text into sentences; every line break is also a boundary.

    A regex splitter with an abbreviation list, since common sentence
    splitters have no Indonesian rules; it never splits inside quotes,
    abbreviations, initials, decimals, ranges or domains ("REPUBLIKA.CO.ID").
    """
    return [s for line in text.splitlines() for s in _split_line(line.strip())]


def is_question_header(sentence: str) -> bool:
    """A short question standing as a line of its own ("Apa yang diinginkan Kim Jong Un sebagai imbalannya?"):
    a header that restates the reader's question, with the answer right below it."""
    sentence = sentence.strip()
    return sentence.endswith("?") and len(sentence.split()) <= 14 and not sentence.startswith(('"', "“"))


def sentence_spans(passage: Passage) -> list[tuple[int, int]]:
    """Where each of `split_sentences(passage.text)` sits in `passage.embed_text` (which ends with the text).

    Sentence vectors are pooled from these spans of the passage's own encoding (index/embed.py).
    """
    offset = len(passage.embed_text) - len(passage.text)
    spans, position = [], 0
    for sentence in split_sentences(passage.text):
        start = passage.text.find(sentence, position)
        if start < 0:  # cannot happen for split_sentences' own output; kept total for safety
            start = position
        position = start + len(sentence)
        spans.append((offset + start, offset + position))
    return spans


def _header_flags(pars: list[str]) -> list[bool]:
    """Which paragraphs are section headers: short, one sentence, no final period,
    and followed by a paragraph that is not itself a header (a lead-in such as
    "Berikut ini ...:" right before a header is content). The first paragraph is
    a subtitle or lede, not a header."""
    flags = [False] * len(pars)
    for i in range(len(pars) - 2, 0, -1):
        p = pars[i]
        flags[i] = (
            words(p) <= _HEADER_MAX_WORDS
            and p[:1].isupper()
            and not p.endswith((".", ",", ";", '"', "”", "'", "…"))
            and len(split_sentences(p)) == 1
            and not flags[i + 1]
        )
    return flags


def _sections(text: str) -> list[tuple[str, list[list[str]]]]:
    """Group paragraphs (as sentence lists) under their header ("" before the first)."""
    pars = [p.strip() for p in re.split(r"\n+", text) if p.strip()]
    flags = _header_flags(pars)
    sections: list[tuple[str, list[list[str]]]] = [("", [])]
    for par, is_header in zip(pars, flags, strict=True):
        if is_header:
            sections.append((par, [[par]]))
        else:
            sections[-1][1].append(split_sentences(par))
    return [s for s in sections if s[1]]


def _pack(
    pars: list[list[str]], has_header: bool, max_words: int, min_words: int, overlap: int
) -> list[list[tuple[int, str]]]:
    """Pack one section's sentences into passages of (paragraph index, sentence).

    Paragraph 0 is the header when `has_header`: it is never carried over as
    overlap and a passage is never closed while it holds only the header.
    """
    out: list[list[tuple[int, str]]] = []
    cur: list[tuple[int, str]] = []
    fresh = 0  # body sentences in `cur` not carried over from the previous passage

    def size() -> int:
        return sum(words(s) for _, s in cur)

    def emit() -> list[tuple[int, str]]:
        out.append(cur)
        body = [(i, s) for i, s in cur if not (has_header and i == 0)]
        return body[-overlap:] if overlap > 0 else []

    for pi, par in enumerate(pars):
        for sent in par:
            w = words(sent)
            if fresh and size() + w > max_words:
                cur, fresh = emit(), 0
            if not fresh and size() + w > max_words:
                cur = [(i, s) for i, s in cur if has_header and i == 0]  # drop overlap
            cur.append((pi, sent))
            fresh += not (has_header and pi == 0)
        nxt = sum(words(s) for s in pars[pi + 1]) if pi + 1 < len(pars) else 0
        if nxt and fresh and size() >= min_words and size() + nxt > max_words:
            cur, fresh = emit(), 0  # prefer a paragraph boundary
    if fresh:
        out.append(cur)
    return out


def _pack_balanced(
    pars: list[list[str]], has_header: bool, max_words: int, min_words: int, overlap: int
) -> list[list[tuple[int, str]]]:
    """Greedy packing, retried with smaller budgets while that grows a short last
    passage without adding passages: a 30-word tail retrieves poorly."""

    def tail(packed: list[list[tuple[int, str]]]) -> int:
        return sum(words(s) for _, s in packed[-1]) if packed else 0

    best = _pack(pars, has_header, max_words, min_words, overlap)
    budget = max_words - 10
    while len(best) > 1 and tail(best) < min_words and budget > min_words:
        trial = _pack(pars, has_header, budget, min_words, overlap)
        if len(trial) > len(best):
            break
        if tail(trial) > tail(best):
            best = trial
        budget -= 10
    return best


def _join(items: list[tuple[int, str]]) -> str:
    pars: dict[int, list[str]] = {}
    for pi, sent in items:
        pars.setdefault(pi, []).append(sent)
    return "\n\n".join(" ".join(sents) for sents in pars.values())


def passage_id(model_id: str, embed_text: str) -> str:
    """Id that changes exactly when the embedding would: (model, embedded text)."""
    return hashlib.sha256(f"{model_id}\x00{embed_text}".encode()).hexdigest()[:32]


def chunk_article(
    article: Article,
    model_id: str,
    max_words: int = 160,
    min_words: int = 60,
    overlap_sentences: int = 1,
) -> list[Passage]:
    """Cut an article into passages of whole sentences, up to `max_words` each.

    A passage ends early at a paragraph boundary once it has `min_words`;
    a single sentence longer than `max_words` becomes its own passage.
    Consecutive passages of one section share `overlap_sentences` sentences,
    and every passage of a section carries its header in `embed_text`.
    """
    passages: list[Passage] = []
    for header, pars in _sections(article.text):
        packed = _pack_balanced(pars, bool(header), max_words, min_words, overlap_sentences)
        for items in packed:
            text = _join(items)
            extra = header if header and not text.startswith(header) else ""
            embed = "\n".join(p for p in (article.title, extra, text) if p)
            passages.append(
                Passage(
                    id=passage_id(model_id, embed),
                    article_id=article.id,
                    position=len(passages),
                    text=text,
                    embed_text=embed,
                )
            )
    return passages
