"""RSS/Atom feeds → new corpus articles; entries already taken are remembered across restarts."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import feedparser
import httpx

from index.ingest import IngestError, fetch, from_url, save, write_atomically

log = logging.getLogger(__name__)


@dataclass
class FeedReport:
    added: list[Path] = field(default_factory=list)
    skipped: int = 0  # entries seen before
    failed: list[tuple[str, str]] = field(default_factory=list)  # (url, why): retried next time


def _load_seen(path: Path) -> set[str]:
    try:
        return set(json.loads(path.read_text()))
    except (OSError, ValueError):
        return set()


def poll(feed_urls: list[str], corpus_dir: Path, state_path: Path, client: httpx.Client | None = None) -> FeedReport:
    """Fetch every feed and save its new entries; one failing feed or entry never stops the others."""
    report = FeedReport()
    seen = _load_seen(state_path)
    for feed_url in feed_urls:
        try:
            parsed = feedparser.parse(fetch(feed_url, client).body)
            if parsed.bozo and not parsed.entries:
                raise IngestError(f"{feed_url} is not an RSS or Atom feed.")
        except IngestError as exc:
            log.warning("feed %s failed: %s", feed_url, exc)
            report.failed.append((feed_url, str(exc)))
            continue
        for entry in parsed.entries:
            link = entry.get("link", "")
            key = entry.get("id") or link
            if not link or key in seen:
                report.skipped += bool(link)
                continue
            try:
                article = from_url(link, client)
            except IngestError as exc:
                log.warning("feed entry %s failed: %s", link, exc)
                report.failed.append((link, str(exc)))
                continue
            report.added.append(save(corpus_dir, article))
            seen.add(key)
            write_atomically(state_path, json.dumps(sorted(seen), indent=0))
    return report
