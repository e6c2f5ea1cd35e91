"""What must never happen: fetching internal addresses, losing or half-writing articles, a bad file or
state stopping polling or refreshing, a failed snapshot filling the disk, refreshes piling up."""

from __future__ import annotations

import errno
import ipaddress
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from newssite import NewsSite

from index import feeds, ingest, store
from index.engine import Coalescing
from index.fetch import FetchError, FetchPolicy, checked_address, fetch
from index.loader import load_corpus
from index.settings import PROJECT_DIR, Settings

PAGES = ("text/html", "text/plain")
KIM_PAGE = "/berita/kim-pabrik-amunisi"


@pytest.fixture
def site():
    with NewsSite() as running:
        yield running


@pytest.fixture
def internal():
    """Another loopback server: an internal admin page nobody should be able to have fetched."""
    with NewsSite() as running:
        running.pages["/admin"] = ("text/plain", "SECRET internal admin page: db password hunter2")
        yield running


def only(site: NewsSite) -> FetchPolicy:
    """The news site allowed as an intranet site (address:port); every other private address refused."""
    return FetchPolicy.parse([site.url.removeprefix("http://")])


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "::1", "fe80::1", "0.0.0.0"]
    + ["::ffff:127.0.0.1", "64:ff9b::a00:5", "2002:7f00:1::", "::7f00:1", "::ffff:0:7f00:1", "fec0::1"],
)
def test_internal_addresses_are_refused_by_default(address):
    assert not FetchPolicy().allows(ipaddress.ip_address(address), 80)
    assert FetchPolicy().allows(ipaddress.ip_address("93.184.216.34"), 443)
    assert not FetchPolicy().allows(ipaddress.ip_address("93.184.216.34"), 8080)  # ports 80 and 443 only
    with pytest.raises(FetchError, match="internal address"):
        checked_address(f"http://{'[' + address + ']' if ':' in address else address}/", FetchPolicy(), None)


def test_a_host_with_one_internal_address_is_refused_and_the_checked_address_is_the_one_used(site):
    def two_answers(host, port):
        return ["93.184.216.34", "127.0.0.1"]

    with pytest.raises(FetchError, match="internal address"):
        checked_address("http://news.example/", FetchPolicy(), two_answers)
    # A name resolving to the allowed site is fetched at the address checked, its Host header kept.
    port = int(site.url.rsplit(":", 1)[1])
    page = fetch(f"http://news.example:{port}{KIM_PAGE}", only(site), PAGES, 10**6, lambda h, p: ["127.0.0.1"])
    assert b"Pabrik Amunisi" in page.body and site.hosts[-1] == f"news.example:{port}"


def test_add_refuses_loopback_with_the_setting_off_and_a_redirect_is_checked_at_every_hop(site, internal):
    with pytest.raises(ingest.IngestError, match="internal address"):
        ingest.from_url(f"{internal.url}/admin", Settings(_env_file=None).fetch_policy)
    site.redirects["/to-metadata"] = "http://169.254.169.254/latest/meta-data/"
    site.redirects["/to-admin"] = f"{internal.url}/admin"
    for path in ("/to-metadata", "/to-admin"):
        with pytest.raises(ingest.IngestError, match="internal address"):
            ingest.from_url(site.url + path, only(site))
    assert internal.hits == []  # never connected to


def test_malformed_and_international_urls_get_a_reason_not_a_crash(site):
    for url in ("http://[::1/", "http://example.org:99999/"):
        with pytest.raises(FetchError, match="not a valid URL"):
            fetch(url, FetchPolicy(), PAGES, 10**6)
    port = int(site.url.rsplit(":", 1)[1])
    page = fetch(f"http://bücher.example:{port}{KIM_PAGE}", only(site), PAGES, 10**6, lambda h, p: ["127.0.0.1"])
    assert page.body and site.hosts[-1] == f"xn--bcher-kva.example:{port}"
    site.pages["/empty-200"] = ("text/plain", " ")
    with pytest.raises(ingest.IngestError, match="empty"):
        ingest.from_url(f"{site.url}/empty-200", only(site))


def test_a_feed_body_naming_a_local_file_is_not_opened(site, tmp_path):
    site.pages["/path-feed"] = ("application/rss+xml", "/etc/hostname")
    report = feeds.poll([f"{site.url}/path-feed"], tmp_path / "corpus", tmp_path / "seen.json", only(site))
    assert [why for _, why in report.failed] == [f"{site.url}/path-feed is not an RSS or Atom feed."]


def test_one_deadline_bounds_a_page_that_drips(site):
    started = time.monotonic()
    with pytest.raises(FetchError, match="too slow"):
        fetch(f"{site.url}/drip", only(site), PAGES, 10**6, deadline=1.0)
    assert time.monotonic() - started < 3


def test_feed_entries_to_internal_addresses_are_refused_and_the_next_entries_taken(site, internal, tmp_path):
    site.redirects["/redirect-metadata"] = "http://169.254.169.254/latest/meta-data/iam"
    site.feed_items = [f"{internal.url}/admin", "/redirect-metadata", KIM_PAGE, "/berita/balon-sampah"]
    report = feeds.poll([f"{site.url}/rss.xml"], tmp_path / "corpus", tmp_path / "seen.json", only(site))
    assert sorted(a.title for a in load_corpus(tmp_path / "corpus")[0]) == [
        "Kim Jong Un Kunjungi Pabrik Amunisi Baru",
        "Korsel Temukan Lagi Balon Sampah dari Korut",
    ]
    assert [url for url, _ in report.failed] == [f"{internal.url}/admin", f"{site.url}/redirect-metadata"]
    assert all("internal address" in why for _, why in report.failed)
    assert internal.hits == []


def test_a_damaged_seen_file_is_set_aside_and_a_failing_entry_does_not_stop_the_poll(site, tmp_path, monkeypatch):
    import trafilatura

    real = trafilatura.bare_extraction

    def fragile(html, **kwargs):  # trafilatura failing on one odd page
        if "Balon Sampah" in html:
            raise RecursionError("maximum recursion depth exceeded")
        return real(html, **kwargs)

    monkeypatch.setattr(trafilatura, "bare_extraction", fragile)
    state = tmp_path / "seen.json"
    for damage in ("null", '["http://x/a", "http://x/'):
        state.write_text(damage)
        site.feed_items = ["/berita/balon-sampah", KIM_PAGE]
        report = feeds.poll([f"{site.url}/rss.xml"], tmp_path / f"corpus-{len(damage)}", state, only(site))
        assert [a.title for a in load_corpus(tmp_path / f"corpus-{len(damage)}")[0]] == [
            "Kim Jong Un Kunjungi Pabrik Amunisi Baru"
        ]
        assert "could not be parsed (RecursionError)" in report.failed[0][1]
        assert json.loads(state.read_text()) == [site.url + KIM_PAGE]  # valid again; the failure is retried
    assert len(list(tmp_path.glob("seen.json.damaged-*"))) >= 1


def test_an_odd_length_utf16_file_is_skipped_with_its_reason_and_the_refresh_goes_on(bot_engine, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "cut-off.txt").write_bytes(b"\xff\xfe" + "Judul\n\nIsi berita.".encode("utf-16-le") + b"x")
    (corpus / "fine.txt").write_text("Judul Baik\n\nPutin tiba di Pyongyang pada Rabu dini hari.")
    from index.engine import Engine

    engine = Engine(Settings(_env_file=None, corpus_dir=corpus, data_dir=tmp_path / "data"), bot_engine.embedder)
    report = engine.refresh()
    assert report.articles == 1 and [Path(s.path).name for s in report.skipped] == ["cut-off.txt"]
    assert "UTF-16" in report.skipped[0].reason


def test_kill_9_during_kabar_add_never_leaves_half_an_article(tmp_path):
    body = "\n\n".join(
        f"Paragraf {i}: Kim Jong Un dan Vladimir Putin bertemu lagi di Vladivostok." for i in range(20000)
    )
    text = f"Berita Panjang Sekali\n\n{body}\n\nKalimat terakhir artikel ini."
    env = {k: v for k, v in os.environ.items() if not k.startswith("KABAR_")}
    env.update(KABAR_CORPUS_DIR=str(tmp_path / "corpus"), KABAR_DATA_DIR=str(tmp_path / "data"))
    kabar = Path(sys.executable).with_name("kabar")
    for delay in (0.6, 0.9, 1.2, 1.5, 1.8, 2.4):
        proc = subprocess.Popen([kabar, "add", "-", "--no-index"], stdin=subprocess.PIPE, env=env, cwd=PROJECT_DIR)
        proc.stdin.write(text.encode())
        proc.stdin.close()
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for article in load_corpus(tmp_path / "corpus")[0]:  # whatever landed is whole
            assert article.text.endswith("Kalimat terakhir artikel ini.")


def test_a_failed_snapshot_write_leaves_nothing_behind(bot_engine, tmp_path, monkeypatch):
    snapshot = bot_engine.snapshot
    index_dir = tmp_path / "index"
    articles, passages = list(snapshot.articles.values()), snapshot.passages
    matrix = np.random.default_rng(0).standard_normal((len(passages), 384)).astype(np.float32)
    version = store.write_snapshot(index_dir, snapshot.model, articles, passages, matrix)

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store.keyword, "save", full_disk)
    with pytest.raises(OSError, match="No space"):
        store.write_snapshot(index_dir, snapshot.model, articles, passages, matrix)
    assert sorted(p.name for p in index_dir.iterdir() if p.name != store.CURRENT) == [f"snap-{version}"]
    assert store.read_snapshot(index_dir).version == version


def test_refresh_requests_arriving_while_one_runs_share_the_next_run():
    started, release, runs = threading.Event(), threading.Event(), []

    def work():
        runs.append(1)
        started.set()
        release.wait(5)
        return len(runs)

    worker = Coalescing(work)
    first = worker.request()
    started.wait(5)
    waiting = [worker.request() for _ in range(4)]  # four more while the first runs
    release.set()
    assert first.result(5) == 1 and {f.result(5) for f in waiting} == {2}
    assert worker.runs == 2
