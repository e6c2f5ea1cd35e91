"""Read a corpus folder into cleaned Articles, skipping bad files without stopping.

One unreadable or junk file must never break an index build, so every
rejection becomes a `Skipped` entry plus a logged warning, and the build
goes on with the rest.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from index.clean import clean, outlet_name, parse_indonesian_date
from index.models import Article

log = logging.getLogger(__name__)

MAX_BYTES = 5 * 1024 * 1024
SUFFIXES = {".txt", ".md", ".html", ".htm"}
META_KEYS = ("title", "date", "outlet", "source", "url", "editor")
_FRONT = re.compile(r"\A---[ \t]*\n(?P<block>(?:[^\n]*\n)*?)---[ \t]*(?:\n|\Z)")


@dataclass(frozen=True)
class Skipped:
    """A corpus file that was not indexed, and why."""

    path: str
    reason: str


class BadArticle(ValueError):
    """A file or text that cannot become an Article; the message is the reason."""


def load_corpus(corpus_dir: Path) -> tuple[list[Article], list[Skipped]]:
    """Load every article file under `corpus_dir` (recursively, in sorted order).

    Hidden files and folders (".git", ".DS_Store") are ignored silently; any
    other file that cannot be read becomes a `Skipped` with a warning.
    """
    root = Path(corpus_dir)
    articles: list[Article] = []
    skipped: list[Skipped] = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or path.suffix.lower() not in SUFFIXES:
            continue
        if any(part.startswith(".") for part in rel.parts):
            continue
        try:
            articles.append(read_article(path, root))
        except BadArticle as e:
            log.warning("skipping %s: %s", path, e)
            skipped.append(Skipped(str(path), str(e)))
    return articles, skipped


def read_article(path: Path, root: Path) -> Article:
    """Read one file into an Article (id = path relative to `root`); raise BadArticle."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise BadArticle(f"too large ({size} bytes > {MAX_BYTES})")
        data = path.read_bytes()
    except OSError as e:
        raise BadArticle(f"unreadable: {e.strerror or e}") from e
    text = decode(data, str(path))
    article_id = path.relative_to(root).as_posix()
    if path.suffix.lower() in (".html", ".htm"):
        text, meta = extract_html(text)
        return parse_article(text, article_id, str(path), meta)
    return parse_article(text, article_id, str(path))


def decode(data: bytes, name: str = "") -> str:
    """Decode file bytes: UTF-8 (with or without BOM), else cp1252/latin-1 with a warning.

    Raises BadArticle for empty or binary content, which must not be indexed.
    """
    if not data.strip():
        raise BadArticle("empty file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as error:  # e.g. an odd number of bytes: a cut-off file
            raise BadArticle(f"broken UTF-16 ({error.reason} at byte {error.start})") from None
    elif b"\x00" in data:
        raise BadArticle("binary file (NUL bytes)")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text, enc = data.decode("cp1252"), "cp1252"
            except UnicodeDecodeError:
                text, enc = data.decode("latin-1"), "latin-1"
            log.warning("%s is not valid UTF-8; decoded as %s", name or "text", enc)
    sample = text[:8192]
    controls = sum(1 for c in sample if ord(c) < 32 and c not in "\t\n\r\f")
    if controls > 0.1 * len(sample):
        raise BadArticle("binary file (mostly control characters)")
    if not text.strip():
        raise BadArticle("empty file")
    return text.lstrip("\ufeff")


def split_front_matter(raw: str) -> tuple[dict[str, str], str]:
    """Split a leading `---` block of `key: value` lines from the text.

    Only the known keys are kept; text without a well-formed block is returned unchanged.
    """
    text = raw.lstrip("\ufeff").replace("\r\n", "\n")
    m = _FRONT.match(text)
    if not m:
        return {}, raw
    meta: dict[str, str] = {}
    for line in m.group("block").splitlines():
        key, sep, value = line.partition(":")
        if not sep and line.strip():
            return {}, raw  # not key/value lines: a horizontal rule, not front matter
        key = key.strip().lower()
        if key in META_KEYS and value.strip():
            meta[key] = value.strip().strip("\"'")
    return meta, text[m.end() :]


def extract_html(html: str) -> tuple[str, dict[str, str]]:
    """Main text and metadata of an HTML page (menus, scripts and comments dropped)."""
    import trafilatura  # ~0.5 s to import; only pages need it, questions never do

    try:
        doc = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False, include_tables=False)
    except Exception as error:  # a parser failure on one odd page must not stop a refresh or a feed poll
        raise BadArticle(f"the page could not be parsed ({type(error).__name__})") from error
    if doc is None or not (doc.text or "").strip():
        raise BadArticle("no article text found in HTML")
    meta = {
        "title": doc.title or "",
        "date": doc.date or "",
        "outlet": outlet_name(doc.sitename or doc.hostname or ""),
        "url": doc.url or "",
    }
    return doc.text, {k: v for k, v in meta.items() if v}


def parse_article(raw: str, article_id: str, path: str = "", meta: dict[str, str] | None = None) -> Article:
    """Turn raw article text (optionally with front matter) into a cleaned Article.

    Metadata precedence: front matter, then `meta` (e.g. from HTML), then what
    cleaning finds in the text (dateline outlet, date line, "Editor:" line).
    """
    front, text = split_front_matter(raw)
    given = {**(meta or {}), **front}
    cleaned = clean(text, known_title=given.get("title", ""))
    if not cleaned.body.strip():
        raise BadArticle("no text left after cleaning")
    date = parse_indonesian_date(given.get("date", "")) or cleaned.date
    fields = {
        "title": given.get("title") or cleaned.title,
        "text": cleaned.body,
        "outlet": outlet_name(given["outlet"]) if given.get("outlet") else cleaned.outlet,
        "date": date,
        "editor": given.get("editor") or cleaned.editor,
        "source": given.get("source") or cleaned.source,
        "url": given.get("url", ""),
    }
    digest = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()
    return Article(id=article_id, path=path, hash=digest, **fields)
