"""New articles into the corpus: from a URL, an uploaded file or pasted text; and removal.

Everything lands as a plain corpus file (front matter + cleaned text), so the
corpus folder stays the single source of truth and `kabar index` picks it up.
"""

from __future__ import annotations

import itertools
import os
import re
import tempfile
import time
import unicodedata
from pathlib import Path

from filelock import FileLock

from index.dedupe import same_text
from index.fetch import Fetched, FetchError, FetchPolicy
from index.fetch import fetch as guarded_fetch
from index.loader import MAX_BYTES, SUFFIXES, BadArticle, decode, extract_html, load_corpus, parse_article
from index.models import Article
from index.store import fsync_dir

HTML_TYPES = ("text/html", "application/xhtml+xml")
TEXT_TYPES = ("text/plain", "text/markdown")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/xml", "text/xml")
ADDED_DIR = "added"
TRASH_DIR = ".trash"  # removed articles, kept for an undo by hand; hidden, so the loader skips it


class IngestError(ValueError):
    """Why an article could not be added, in words fit for the user."""


def fetch(url: str, policy: FetchPolicy, max_bytes: int = MAX_BYTES) -> Fetched:
    """A page or feed, under the fetch policy (index/fetch.py: no internal addresses, one deadline)."""
    try:
        return guarded_fetch(url, policy, HTML_TYPES + TEXT_TYPES + FEED_TYPES, max_bytes)
    except FetchError as error:
        raise IngestError(str(error)) from error


def slugify(text: str, limit: int = 60) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > limit:  # cut at a word boundary when there is one
        head = slug[: limit + 1]
        slug = head.rsplit("-", 1)[0] if "-" in head else slug[:limit]
    return slug.rstrip("-") or "artikel"


def render(article: Article) -> str:
    """An article as a corpus file: front matter, then the cleaned text."""
    meta = {
        "title": article.title,
        "date": article.date,
        "outlet": article.outlet,
        "editor": article.editor,
        "source": article.source,
        "url": article.url,
    }
    lines = ["---", *(f"{k}: {' '.join(v.split())}" for k, v in meta.items() if v), "---", ""]
    return "\n".join(lines) + article.text.strip() + "\n"


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` whole or not at all (state files; articles use `save`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _complete_temporary(path.parent, text, path.suffix)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def _complete_temporary(folder: Path, text: str, suffix: str) -> Path:
    """A hidden temporary file holding all of `text`, on disk (the loader skips hidden files)."""
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=suffix)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


class Duplicate(IngestError):
    """The corpus already holds this article's text."""


def duplicate_of(corpus_dir: Path, article: Article) -> str | None:
    """The corpus file that already has exactly this article's text, if any."""
    wanted = same_text(article.text)
    for other in load_corpus(corpus_dir)[0]:
        if same_text(other.text) == wanted:
            return other.id
    return None


def save(corpus_dir: Path, article: Article) -> Path:
    """Write the article under corpus/added/ as a file of its own, or raise Duplicate.

    Two saves at once (two admins, a feed poll, `kabar add`) never overwrite each other: the file is
    written complete under a hidden temporary name, then hard-linked to the first free name, which
    fails instead of replacing when that name was taken meanwhile. A crash at any point leaves either
    the whole article or none of it. A lock across processes keeps the duplicate check and the
    linking together, so the same story saved twice at once is kept once.
    """
    folder = corpus_dir / ADDED_DIR
    folder.mkdir(parents=True, exist_ok=True)
    stem = "-".join(p for p in (article.date, slugify(article.title)) if p)
    with FileLock(folder / ".save.lock", timeout=60):
        duplicate = duplicate_of(corpus_dir, article)
        if duplicate:
            raise Duplicate(f"The corpus already has this article, as {duplicate}.")
        tmp = _complete_temporary(folder, render(article), ".md")
        try:
            for n in itertools.count(1):
                path = folder / (f"{stem}.md" if n == 1 else f"{stem}-{n}.md")
                try:
                    os.link(tmp, path)
                    break
                except FileExistsError:
                    continue
        finally:
            tmp.unlink(missing_ok=True)
        fsync_dir(folder)
    return path


def from_text(raw: str, meta: dict[str, str] | None = None) -> Article:
    """Pasted text or an uploaded .txt/.md: the usual loader rules (front matter, first line = title)."""
    try:
        return parse_article(raw, "pasted", meta=meta)
    except BadArticle as exc:
        raise IngestError(f"That text can't be used as an article: {exc}.") from exc


def from_html(html: str, url: str = "") -> Article:
    try:
        text, meta = extract_html(html)
    except BadArticle as exc:
        where = f" at {url}" if url else ""
        why = "" if str(exc) == "no article text found in HTML" else f" ({exc})"
        raise IngestError(f"No article text found{where}{why}.") from exc
    if url:
        meta.setdefault("url", url)
    return from_text(text, meta)


def _decoded(data: bytes, name: str) -> str:
    try:
        return decode(data, name)
    except BadArticle as exc:  # empty, binary, broken UTF-16: said, not raised as a crash
        raise IngestError(f"That can't be used as an article: {exc}.") from exc


def from_upload(file_name: str, data: bytes) -> Article:
    suffix = Path(file_name).suffix.lower()
    if suffix not in SUFFIXES:
        raise IngestError(f"Send a .txt, .md or .html file, not {suffix or 'a file without extension'}.")
    if len(data) > MAX_BYTES:
        raise IngestError("That file is larger than 5 MB.")
    if b"\x00" in data[:8192]:
        raise IngestError("That file is binary, not text.")
    text = _decoded(data, file_name)
    return from_html(text) if suffix in (".html", ".htm") else from_text(text)


def from_url(url: str, policy: FetchPolicy) -> Article:
    page = fetch(url, policy)
    text = _decoded(page.body, page.url)
    if page.content_type in HTML_TYPES:
        return from_html(text, page.url)
    if page.content_type in TEXT_TYPES:
        return from_text(text, {"url": page.url})
    raise IngestError(f"{page.url} is a feed or XML, not an article page.")


def newest_first(articles: list[Article]) -> list[Article]:
    """The one order articles are numbered in: /sources, `kabar sources`, `/remove 3`, `kabar remove 3`."""
    return sorted(articles, key=lambda a: (a.date or "", a.title, a.id), reverse=True)


def resolve(articles: list[Article], name: str) -> Article:
    """An article by id, by file name, by its number in `newest_first` order, or by a unique piece of its title."""
    name = name.strip()
    ordered = newest_first(articles)
    if name.isdigit() and 1 <= int(name) <= len(ordered):
        return ordered[int(name) - 1]
    exact = [a for a in ordered if name in (a.id, Path(a.id).name, Path(a.id).stem)]
    if exact:
        return exact[0]
    matches = [a for a in ordered if name.lower() in a.title.lower()]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise IngestError(f"No article matches {name!r}; see /sources or `kabar sources`.")
    raise IngestError(f"{len(matches)} articles match {name!r}; be more precise (e.g. the file name).")


def remove(corpus_dir: Path, article: Article) -> Path:
    """Move the article's file to the corpus's trash folder (hidden, so never indexed); returns where
    it went. Only files inside the corpus folder are touched."""
    root = corpus_dir.resolve()
    path = (corpus_dir / article.id).resolve()
    if not path.is_relative_to(root) or not path.is_file() or path.is_relative_to(root / TRASH_DIR):
        raise IngestError(f"{article.id} is not a file in the corpus.")
    trash = root / TRASH_DIR / time.strftime("%Y%m%dT%H%M%S")
    trash.mkdir(parents=True, exist_ok=True)
    target = trash / path.relative_to(root).as_posix().replace("/", "__")
    os.replace(path, target)
    fsync_dir(path.parent)
    return target
