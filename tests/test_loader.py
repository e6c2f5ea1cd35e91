"""Loading a corpus folder: good files become Articles, bad ones are skipped with a reason."""

import logging
from pathlib import Path

import pytest

from index.loader import MAX_BYTES, BadArticle, load_corpus, parse_article, read_article

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "corpus"  # shared/ sits beside the repo (also in CI)
DATA = Path(__file__).resolve().parent / "data"
STORY = "Putin tiba di Pyongyang pada Rabu dini hari. Kim Jong Un menyambutnya di bandara."


@pytest.fixture(params=["shared", "corpus"])
def seed_dir(request) -> Path:
    path = SHARED if request.param == "shared" else ROOT / "corpus"
    if not path.is_dir():
        pytest.skip(f"{path} not present")
    return path


def test_seed_corpus_loads_both_articles(seed_dir):
    articles, skipped = load_corpus(seed_dir)
    assert skipped == []
    by_outlet = {a.outlet: a for a in articles}
    assert sorted(by_outlet) == ["Kilas Klaten", "Republika"]
    assert [a.id for a in articles] == sorted(p.name for p in seed_dir.glob("*.txt"))
    kilas = by_outlet["Kilas Klaten"]
    assert (kilas.date, kilas.editor, kilas.source) == ("2024-06-14", "Fajar Sidik Nur Cahyo", "Chosun")
    assert by_outlet["Republika"].title == "Apa yang Diinginkan Korut dan Rusia Satu Sama Lain?"
    assert all(len(a.hash) == 64 and a.text and a.title not in a.text for a in articles)


def test_corpus_copies_clean_the_same_as_the_originals():
    if not SHARED.is_dir():
        pytest.skip("shared corpus not present")
    originals, _ = load_corpus(SHARED)
    copies, _ = load_corpus(ROOT / "corpus")
    assert sorted(a.hash for a in originals) == sorted(a.hash for a in copies)


def test_bad_files_are_skipped_with_a_warning_and_the_rest_loads(tmp_path, caplog):
    (tmp_path / "good.txt").write_text(f"Putin Tiba\n\n{STORY}", encoding="utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.md").write_text("  \n\n\t\n", encoding="utf-8")
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (tmp_path / "controls.txt").write_bytes(bytes(range(1, 9)) * 100)
    with open(tmp_path / "huge.txt", "wb") as f:  # sparse: the size check must come before reading
        f.seek(MAX_BYTES)
        f.write(b"x")
    (tmp_path / "only-title.txt").write_text("Judul Saja\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="index.loader"):
        articles, skipped = load_corpus(tmp_path)
    assert [a.id for a in articles] == ["good.txt"]
    reasons = {Path(s.path).name: s.reason for s in skipped}
    assert reasons.keys() == {"empty.txt", "blank.md", "binary.txt", "controls.txt", "huge.txt", "only-title.txt"}
    assert reasons["empty.txt"] == reasons["blank.md"] == "empty file"
    assert "binary" in reasons["binary.txt"] and "binary" in reasons["controls.txt"]
    assert "too large" in reasons["huge.txt"]
    assert "no text" in reasons["only-title.txt"]
    for s in skipped:  # every skip is logged with file and reason
        assert any(s.path in r.getMessage() and s.reason in r.getMessage() for r in caplog.records)


def test_latin1_bytes_are_decoded_with_a_warning(tmp_path, caplog):
    (tmp_path / "lama.txt").write_bytes("Kafe Baru\n\nKafé di Jakarta menyajikan crème brûlée.".encode("latin-1"))
    with caplog.at_level(logging.WARNING, logger="index.loader"):
        articles, skipped = load_corpus(tmp_path)
    assert skipped == []
    assert articles[0].text == "Kafé di Jakarta menyajikan crème brûlée."
    assert any("lama.txt" in r.getMessage() and "UTF-8" in r.getMessage() for r in caplog.records)


def test_utf8_bom_and_crlf(tmp_path):
    (tmp_path / "win.txt").write_bytes(f"\ufeffPutin Tiba\r\n\r\n{STORY}\r\n".encode())
    [article], _ = load_corpus(tmp_path)
    assert (article.title, article.text) == ("Putin Tiba", STORY)


def test_recursive_sorted_ids_and_only_article_files(tmp_path):
    page = f"<html><body><article><h1>Judul</h1><p>{STORY}</p></article></body></html>"
    for rel in ["b.txt", "a/z.md", "a/b/c.htm", "notes.pdf", "data.json", ".hidden/x.txt", "a/.draft.txt"]:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page if rel.endswith("htm") else f"Judul\n\n{STORY}", encoding="utf-8")
    articles, skipped = load_corpus(tmp_path)
    assert [a.id for a in articles] == ["a/b/c.htm", "a/z.md", "b.txt"]
    assert [a.path for a in articles] == [str(tmp_path / a.id) for a in articles]
    assert skipped == []


def test_front_matter_supplies_metadata_and_the_first_line_stays_body():
    raw = (
        "---\ntitle: Putin Tiba di Pyongyang\ndate: 19 Juni 2024\noutlet: kompas.com\n"
        "url: https://example.com/putin\neditor: Budi\nsource: Yonhap\nlayout: post\n---\n"
        f"{STORY}\n\nKedua pemimpin menandatangani perjanjian."
    )
    a = parse_article(raw, "putin.md")
    assert (a.title, a.date, a.outlet, a.url, a.editor, a.source) == (
        "Putin Tiba di Pyongyang",
        "2024-06-19",
        "Kompas",
        "https://example.com/putin",
        "Budi",
        "Yonhap",
    )
    assert a.text == f"{STORY}\n\nKedua pemimpin menandatangani perjanjian."


def test_front_matter_title_repeated_in_the_text_is_not_body():
    a = parse_article(f"---\ntitle: Putin Tiba\n---\nPutin Tiba\n\n{STORY}", "x.txt")
    assert (a.title, a.text) == ("Putin Tiba", STORY)


def test_a_leading_rule_without_key_values_is_not_front_matter():
    a = parse_article(f"---\nCatatan redaksi\n---\nPutin Tiba\n\n{STORY}", "x.txt")
    assert "Catatan redaksi" in a.title + a.text


def test_html_page_gives_main_text_and_metadata():
    a = read_article(DATA / "kompas-page.html", DATA)
    assert a.id == "kompas-page.html"
    assert (a.title, a.outlet, a.date, a.editor) == (
        "Putin Tiba di Pyongyang, Teken Perjanjian Kemitraan",
        "Kompas",
        "2024-06-19",
        "Budi Santoso",
    )
    assert a.text.startswith("Presiden Rusia Vladimir Putin tiba di Pyongyang pada Rabu dini hari")
    assert a.text.endswith("reaksi keras dari Seoul serta Washington.")
    for junk in ["Beranda", "dataLayer", "tracking", "Baca juga", "Berita Terkait", "Copyright", "KOMPAS.com", "WIB"]:
        assert junk not in a.text, junk


def test_parse_article_is_pure_and_hash_tracks_text_and_metadata():
    raw = f"Putin Tiba\n\n{STORY}"
    a = parse_article(raw, "a.txt")
    assert parse_article(raw, "a.txt") == a
    assert parse_article(raw, "b.txt", path="/elsewhere/b.txt").hash == a.hash  # same content, same hash
    assert parse_article(raw, "a.txt", meta={"outlet": "Tempo"}).hash != a.hash
    assert parse_article(raw + " Lalu pergi.", "a.txt").hash != a.hash


def test_read_article_raises_bad_article(tmp_path):
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(BadArticle, match="empty"):
        read_article(tmp_path / "empty.txt", tmp_path)
    with pytest.raises(BadArticle, match="unreadable"):
        read_article(tmp_path / "missing.txt", tmp_path)
