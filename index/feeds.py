"""RSS/Atom feeds → new corpus articles; entries already taken are remembered across restarts."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import feedparser

from index.fetch import FetchPolicy
from index.ingest import Duplicate, IngestError, fetch, from_url, save, write_atomically

log = logging.getLogger(__name__)


@dataclass
class FeedReport:
    added: list[Path] = field(default_factory=list)
    skipped: int = 0  # entries seen before
    failed: list[tuple[str, str]] = field(default_factory=list)  # (url, why): retried next time


def _load_seen(path: Path) -> set[str]:
    """The entries taken before. A damaged file is set aside (kept for a look, with a warning) and
    polling starts afresh, rather than failing every poll or silently re-adding everything forever."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return set()
    except OSError as error:
        log.warning("cannot read %s (%s): treating every feed entry as new", path, error)
        return set()
    try:
        seen = json.loads(raw)
        if isinstance(seen, list) and all(isinstance(key, str) for key in seen):
            return set(seen)
        problem = f"a JSON {type(seen).__name__}, not a list of entry ids"
    except ValueError as error:
        problem = f"not JSON ({error})"
    aside = path.with_name(f"{path.name}.damaged-{int(time.time())}")
    with contextlib.suppress(OSError):
        path.replace(aside)
    log.warning("%s is %s: moved to %s; entries are taken as new", path, problem, aside.name)
    return set()


def poll(feed_urls: list[str], corpus_dir: Path, state_path: Path, policy: FetchPolicy) -> FeedReport:
    """Fetch every feed and save its new entries; one failing feed or entry never stops the others."""
    report = FeedReport()
    seen = _load_seen(state_path)
    for feed_url in feed_urls:
        try:
            # A stream, never bytes: feedparser would try bytes as a local file path first.
            parsed = feedparser.parse(io.BytesIO(fetch(feed_url, policy).body))
            if parsed.bozo and not parsed.entries:
                raise IngestError(f"{feed_url} is not an RSS or Atom feed.")
        except Exception as exc:  # noqa: BLE001 (any failure is this feed's alone)
            log.warning("feed %s failed: %s", feed_url, exc)
            report.failed.append((feed_url, str(exc) or type(exc).__name__))
            continue
        for entry in parsed.entries:
            link = entry.get("link", "")
            key = entry.get("id") or link
            if not link or key in seen:
                report.skipped += bool(link)
                continue
            try:  # a third party wrote the link: it is fetched under the same policy as /add
                article = from_url(link, policy)
                report.added.append(save(corpus_dir, article))
            except Duplicate as exc:  # already in the corpus: nothing to retry
                log.info("feed entry %s: %s", link, exc)
                report.skipped += 1
            except Exception as exc:  # noqa: BLE001 (retried next poll; the other entries go on)
                log.warning("feed entry %s failed: %s", link, exc)
                report.failed.append((link, str(exc) or type(exc).__name__))
                continue
            seen.add(key)
            try:
                write_atomically(state_path, json.dumps(sorted(seen), indent=0))
            except OSError as exc:
                log.warning("cannot record seen feed entries in %s: %s", state_path, exc)
    return report
