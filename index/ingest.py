"""New articles into the corpus: from a URL, an uploaded file or pasted text; and removal.

Everything lands as a plain corpus file (front matter + cleaned text), so the
corpus folder stays the single source of truth and `kabar index` picks it up.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from index.loader import MAX_BYTES, SUFFIXES, BadArticle, decode, extract_html, parse_article
from index.models import Article

HTML_TYPES = ("text/html", "application/xhtml+xml")
TEXT_TYPES = ("text/plain", "text/markdown")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/xml", "text/xml")
MAX_REDIRECTS = 5
TIMEOUT = httpx.Timeout(15.0, connect=5.0)
ADDED_DIR = "added"
USER_AGENT = "KabarBot/0.1 (+news question answering)"


class IngestError(ValueError):
    """Why an article could not be added, in words fit for the user."""


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    body: bytes
    content_type: str


def check_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise IngestError(f"Only http(s) URLs can be added, not {url[:80]!r}.")
    return url.strip()


def fetch(url: str, client: httpx.Client | None = None, max_bytes: int = MAX_BYTES) -> Fetched:
    """GET with timeouts, bounded redirects and a size cap enforced while streaming."""
    url = check_url(url)
    own = client is None
    client = client or httpx.Client(
        follow_redirects=True, max_redirects=MAX_REDIRECTS, timeout=TIMEOUT, headers={"User-Agent": USER_AGENT}
    )
    try:
        with client.stream("GET", url) as response:
            if response.status_code >= 400:
                raise IngestError(f"{url} answered HTTP {response.status_code}.")
            check_url(str(response.url))  # a redirect must not leave http(s)
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type not in HTML_TYPES + TEXT_TYPES + FEED_TYPES:
                raise IngestError(f"{url} is {content_type or 'of unknown type'}, not a web page.")
            declared = int(response.headers.get("content-length") or 0)
            if declared > max_bytes:
                raise IngestError(f"{url} is larger than {max_bytes // 1024 // 1024} MB.")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise IngestError(f"{url} is larger than {max_bytes // 1024 // 1024} MB.")
            return Fetched(str(response.url), bytes(body), content_type)
    except httpx.TooManyRedirects as exc:
        raise IngestError(f"{url} redirects more than {MAX_REDIRECTS} times.") from exc
    except httpx.HTTPError as exc:
        raise IngestError(f"Could not fetch {url}: {type(exc).__name__}.") from exc
    finally:
        if own:
            client.close()


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
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def save(corpus_dir: Path, article: Article) -> Path:
    """Write the article under corpus/added/, never overwriting another article."""
    stem = "-".join(p for p in (article.date, slugify(article.title)) if p)
    path = corpus_dir / ADDED_DIR / f"{stem}.md"
    n = 2
    while path.exists():
        path = corpus_dir / ADDED_DIR / f"{stem}-{n}.md"
        n += 1
    write_atomically(path, render(article))
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
        raise IngestError(f"No article text found{f' at {url}' if url else ''}.") from exc
    if url:
        meta.setdefault("url", url)
    return from_text(text, meta)


def from_upload(file_name: str, data: bytes) -> Article:
    suffix = Path(file_name).suffix.lower()
    if suffix not in SUFFIXES:
        raise IngestError(f"Send a .txt, .md or .html file, not {suffix or 'a file without extension'}.")
    if len(data) > MAX_BYTES:
        raise IngestError("That file is larger than 5 MB.")
    if b"\x00" in data[:8192]:
        raise IngestError("That file is binary, not text.")
    text = decode(data, file_name)
    return from_html(text) if suffix in (".html", ".htm") else from_text(text)


def from_url(url: str, client: httpx.Client | None = None) -> Article:
    page = fetch(url, client)
    text = decode(page.body, page.url)
    if page.content_type in HTML_TYPES:
        return from_html(text, page.url)
    if page.content_type in TEXT_TYPES:
        return from_text(text, {"url": page.url})
    raise IngestError(f"{page.url} is a feed or XML, not an article page.")


def resolve(corpus_dir: Path, articles: list[Article], name: str) -> Article:
    """An article by id, by file name, by its number in /sources, or by a unique piece of its title."""
    name = name.strip()
    if name.isdigit() and 1 <= int(name) <= len(articles):
        return articles[int(name) - 1]
    exact = [a for a in articles if name in (a.id, Path(a.id).name, Path(a.id).stem)]
    if exact:
        return exact[0]
    matches = [a for a in articles if name.lower() in a.title.lower()]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise IngestError(f"No article matches {name!r}; see /sources or `kabar index`.")
    raise IngestError(f"{len(matches)} articles match {name!r}; be more precise (e.g. the file name).")


def remove(corpus_dir: Path, article: Article) -> Path:
    """Delete the article's file; only ever inside the corpus folder."""
    path = (corpus_dir / article.id).resolve()
    if not path.is_relative_to(corpus_dir.resolve()) or not path.is_file():
        raise IngestError(f"{article.id} is not a file in the corpus.")
    path.unlink()
    return path
