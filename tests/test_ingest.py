"""Adding articles from URLs, files, pasted text and feeds, over a loopback news site."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from newssite import NewsSite
from typer.testing import CliRunner

from index import feeds, ingest
from index.fetch import OPEN
from index.loader import load_corpus


@pytest.fixture
def site():
    with NewsSite() as running:
        yield running


def test_url_becomes_a_clean_article_with_metadata(site, tmp_path):
    article = ingest.from_url(f"{site.url}/berita/kompas-putin-pyongyang", OPEN)
    assert article.title == "Putin Tiba di Pyongyang, Teken Perjanjian Kemitraan"
    assert (article.outlet, article.date) == ("Kompas", "2024-06-19")
    assert "perjanjian kemitraan strategis" in article.text
    for clutter in ("Beranda", "Baca juga", "Berita Terkait", "Copyright", "tracking", "Harga Emas"):
        assert clutter not in article.text

    saved = ingest.save(tmp_path, article)
    assert saved.parent.name == "added" and saved.suffix == ".md"
    [loaded], skipped = load_corpus(tmp_path)
    assert skipped == []
    assert (loaded.title, loaded.outlet, loaded.date, loaded.url) == (
        article.title,
        "Kompas",
        "2024-06-19",
        f"{site.url}/berita/kompas-putin-pyongyang",
    )
    assert loaded.text == article.text


def test_page_clutter_ads_and_comments_are_dropped(site):
    article = ingest.from_url(f"{site.url}/berita/kim-pabrik-amunisi", OPEN)
    assert article.title == "Kim Jong Un Kunjungi Pabrik Amunisi Baru"
    assert article.date == "2024-07-01"
    assert "dua juta peluru artileri" in article.text
    for clutter in ("ADVERTISEMENT", "Mantap beritanya", "Resep Rendang", "Baca Juga", "Masuk", "Pedoman Media"):
        assert clutter not in article.text


def test_saves_at_once_never_overwrite_and_an_exact_copy_names_the_original(site, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    article = ingest.from_url(f"{site.url}/berita/balon-sampah", OPEN)
    versions = [replace(article, text=f"{article.text}\n\nPembaruan ke-{i}.") for i in range(8)]  # one title
    with ThreadPoolExecutor(8) as pool:
        paths = list(pool.map(lambda a: ingest.save(tmp_path, a), versions))
    assert len(set(paths)) == 8 and all(p.exists() for p in paths)
    assert sorted(a.text for a in load_corpus(tmp_path)[0]) == sorted(a.text for a in versions)
    with pytest.raises(ingest.Duplicate, match=paths[3].relative_to(tmp_path).as_posix()):
        ingest.save(tmp_path, replace(versions[3], title="Judul lain, isi sama"))
    assert not [p for p in (tmp_path / "added").iterdir() if p.name.startswith(".tmp-")]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/pdf", "application/pdf"),
        ("/huge", "larger than 5 MB"),
        ("/redirect/9", "redirects more than 5"),
        ("/nowhere", "HTTP 404"),
        ("/empty", "(No article text|no text left)"),
    ],
)
def test_bad_urls_are_refused_with_a_reason(site, path, message):
    with pytest.raises(ingest.IngestError, match=message):
        ingest.from_url(site.url + path, OPEN)


def test_bounded_redirects_are_followed(site):
    assert ingest.from_url(f"{site.url}/redirect/3", OPEN).title == "Kim Jong Un Kunjungi Pabrik Amunisi Baru"


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/a", "javascript:alert(1)", "kompas.com"])
def test_only_http_urls(url):
    with pytest.raises(ingest.IngestError, match="Only http"):
        ingest.from_url(url, OPEN)


def test_uploads_and_pasted_text(tmp_path):
    pasted = ingest.from_text("Judul Tempelan\n\nJAKARTA, KOMPAS.com - Isi berita yang ditempel. Kalimat kedua.")
    assert (pasted.title, pasted.outlet) == ("Judul Tempelan", "Kompas")
    upload = ingest.from_upload("berita.md", b"---\ntitle: Dari Berkas\ndate: 2024-06-20\n---\nIsi berkas.")
    assert (upload.title, upload.date, upload.text) == ("Dari Berkas", "2024-06-20", "Isi berkas.")
    with pytest.raises(ingest.IngestError, match=".pdf"):
        ingest.from_upload("scan.pdf", b"%PDF")
    with pytest.raises(ingest.IngestError, match="binary"):
        ingest.from_upload("x.txt", b"\x00\x01" * 10)
    with pytest.raises(ingest.IngestError):
        ingest.from_text("   \n ")


def test_resolve_and_remove_stay_inside_the_corpus(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "sub" / "a.txt").write_text("Putin ke Pyongyang\n\nIsi A.")
    (corpus / "b.txt").write_text("Balon sampah lagi\n\nIsi B.")
    articles, _ = load_corpus(corpus)
    assert ingest.resolve(articles, "balon").id == "b.txt"
    assert ingest.resolve(articles, "1").id == ingest.newest_first(articles)[0].id
    assert ingest.resolve(articles, "a").id == "sub/a.txt"
    with pytest.raises(ingest.IngestError, match="No article"):
        ingest.resolve(articles, "rendang")
    removed = ingest.remove(corpus, ingest.resolve(articles, "sub/a.txt"))
    assert not (corpus / "sub" / "a.txt").exists() and (corpus / "b.txt").exists()
    assert removed.is_relative_to(corpus / ".trash") and "Isi A." in removed.read_text()  # kept, not indexed
    assert [a.id for a in load_corpus(corpus)[0]] == ["b.txt"]
    evil = articles[1].__class__(**{**articles[1].__dict__, "id": "../outside.txt"})
    (tmp_path / "outside.txt").write_text("keep me")
    with pytest.raises(ingest.IngestError):
        ingest.remove(corpus, evil)
    assert (tmp_path / "outside.txt").exists()


def test_feed_polling_adds_new_entries_once_and_survives_failures(site, tmp_path):
    corpus, state = tmp_path / "corpus", tmp_path / "data" / "seen.json"
    site.fail.add("/broken-feed")
    urls = [f"{site.url}/broken-feed", f"{site.url}/rss.xml"]
    first = feeds.poll(urls, corpus, state, OPEN)
    assert len(first.added) == 2
    assert [url for url, _ in first.failed] == [f"{site.url}/broken-feed"]
    titles = sorted(a.title for a in load_corpus(corpus)[0])
    assert titles == ["Kim Jong Un Kunjungi Pabrik Amunisi Baru", "Korsel Temukan Lagi Balon Sampah dari Korut"]
    assert len(json.loads(state.read_text())) == 2

    # Restart: the seen entries come from disk; only the new entry is fetched.
    site.feed_items.append("/berita/kompas-putin-pyongyang")
    site.hits.clear()
    second = feeds.poll(urls, corpus, state, OPEN)
    assert len(second.added) == 1 and second.skipped == 2
    assert [h for h in site.hits if h.startswith("/berita/")] == ["/berita/kompas-putin-pyongyang"]

    # A failing entry is not marked seen, so the next poll retries it.
    site.feed_items.append("/berita/missing")
    third = feeds.poll(urls, corpus, state, OPEN)
    assert f"{site.url}/berita/missing" in [url for url, _ in third.failed]
    assert f"{site.url}/berita/missing" not in json.loads(state.read_text())


def test_cli_add_and_remove_without_indexing(site, tmp_path, monkeypatch):
    from bot.cli import app
    from index.settings import get_settings

    monkeypatch.setenv("KABAR_CORPUS_DIR", str(tmp_path / "corpus"))
    monkeypatch.setenv("KABAR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KABAR_FETCH_ALLOW_PRIVATE", "*")  # the loopback news site
    monkeypatch.setenv("KABAR_FETCH_PORTS", "*")
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        added = runner.invoke(app, ["add", f"{site.url}/berita/balon-sampah", "--no-index"])
        assert added.exit_code == 0, added.output
        assert "Korsel Temukan Lagi Balon Sampah" in added.output
        pasted = runner.invoke(app, ["add", "-", "--no-index"], input="Judul Tempel\n\nIsi yang ditempel.\n")
        assert pasted.exit_code == 0, pasted.output
        assert len(load_corpus(tmp_path / "corpus")[0]) == 2
        refused = runner.invoke(app, ["add", "ftp://x/y", "--no-index"])
        assert refused.exit_code == 1 and "Only http" in refused.output
        kept = runner.invoke(app, ["remove", "balon", "--no-index"], input="n\n")  # it asks first
        assert kept.exit_code == 1 and len(load_corpus(tmp_path / "corpus")[0]) == 2
        removed = runner.invoke(app, ["remove", "balon", "--no-index", "--yes"])
        assert removed.exit_code == 0, removed.output
        assert [a.title for a in load_corpus(tmp_path / "corpus")[0]] == ["Judul Tempel"]
    finally:
        get_settings.cache_clear()
