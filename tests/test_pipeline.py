"""The core path, end to end on the real model: corpus → index → hits → answer."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from index import store
from index.answer import NOT_FOUND_IN
from index.build import build_index
from index.convert import BUNDLED_MODEL_ID
from index.embed import Embedder
from index.engine import Engine
from index.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
KIM_ID = "Apa yang diinginkan Kim Jong Un sebagai imbalannya?"
KIM_EN = "What does Kim want in return?"


@pytest.fixture(scope="session")
def embedder(st_model) -> Embedder:
    return Embedder(st_model, BUNDLED_MODEL_ID)


@pytest.fixture(scope="session")
def seeded(tmp_path_factory, embedder) -> Engine:
    """An engine over the bundled corpus, built once."""
    data = tmp_path_factory.mktemp("data")
    return Engine.open(Settings(corpus_dir=ROOT / "corpus", data_dir=data), embedder)


def small_corpus(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for source in (ROOT / "corpus").glob("*.txt"):
        shutil.copy(source, path / source.name)
    return path


def test_kim_question_is_answered_from_republika(seeded):
    answer = seeded.ask(KIM_ID)
    assert answer.found
    assert answer.hits[0].article.outlet == "Republika"
    assert "prioritas Kim adalah pengiriman bantuan, prestise, dan teknologi militer" in answer.text
    assert any("makanan dan energi" in h.passage.text for h in answer.hits[:3])


def test_english_question_finds_the_same_passage(seeded):
    indonesian = seeded.ask(KIM_ID)
    english = seeded.ask(KIM_EN)
    assert english.found
    assert indonesian.hits[0].passage.id in {h.passage.id for h in english.hits[:2]}
    # Any of the article's answers will do: aid, prestige, military technology; food and energy.
    assert any(w in english.text for w in ("teknologi", "bantuan", "makanan dan energi")), english.text


@pytest.mark.parametrize(
    "question",
    ["Siapa pemenang Piala Dunia 2022?", "Who won the 2022 World Cup?", "Berapa harga beras di Jakarta hari ini?"],
)
def test_off_topic_questions_are_not_answered(seeded, question):
    answer = seeded.ask(question)
    assert not answer.found
    assert answer.hits == []
    assert answer.text == NOT_FOUND_IN["en" if question.startswith("Who") else "id"]


def test_known_passages_for_known_questions(seeded):
    cases = {
        "Kapan Putin akan berkunjung ke Korea Utara?": "kilasklaten",
        "Apa yang diinginkan Rusia dari Korea Utara?": "republika",
        "Siapa Konstantin Asmolov?": "kilasklaten",
        "Apakah Korea Utara pernah latihan militer dengan negara asing?": "republika",
    }
    for question, article in cases.items():
        answer = seeded.ask(question)
        assert answer.found, question
        assert answer.hits[0].article.id.startswith(article), question
    assert "Asmolov" in seeded.ask("Siapa Konstantin Asmolov?").text


def test_index_round_trip_and_incremental_refresh(tmp_path, embedder):
    corpus, index_dir = small_corpus(tmp_path / "corpus"), tmp_path / "index"
    first = build_index(corpus, index_dir, embedder)
    assert (first.articles, first.added, first.reused) == (2, 2, 0)
    assert first.embedded == first.passages > 2

    snap = store.read_snapshot(index_dir)
    assert snap.model == BUNDLED_MODEL_ID and snap.vectors.ntotal == len(snap.passages) == first.passages
    kilas = next(a for a in snap.articles.values() if a.outlet == "Kilas Klaten")
    assert (kilas.date, kilas.editor, kilas.source) == ("2024-06-14", "Fajar Sidik Nur Cahyo", "Chosun")
    vectors = snap.vector_by_passage()
    fresh = embedder.passages([snap.passages[0].embed_text])[0]
    assert float(vectors[snap.passages[0].id] @ fresh) > 0.9999

    again = build_index(corpus, index_dir, embedder)
    assert (again.embedded, again.reused, again.unchanged) == (0, first.passages, 2)
    assert again.version == first.version  # nothing changed, nothing written

    (corpus / "new.txt").write_text("Judul baru\n\nKim Jong Un mengunjungi pabrik amunisi di Pyongyang pada Senin.")
    (corpus / "kilasklaten-2024-06-14-putin-pyongyang.txt").unlink()
    third = build_index(corpus, index_dir, embedder)
    assert (third.added, third.removed, third.embedded) == (1, 1, 1)
    assert {a.id for a in store.read_snapshot(index_dir).articles.values()} == {
        "new.txt",
        "republika-2023-korut-rusia-saling-inginkan.txt",
    }


def test_same_text_under_two_names_is_indexed_once(tmp_path, embedder):
    corpus = small_corpus(tmp_path / "corpus")
    shutil.copy(corpus / "kilasklaten-2024-06-14-putin-pyongyang.txt", corpus / "copy.txt")
    report = build_index(corpus, tmp_path / "index", embedder)
    assert report.articles == 2
    assert report.duplicates == [("copy.txt", "kilasklaten-2024-06-14-putin-pyongyang.txt")]


def test_bad_corpus_files_are_skipped_with_a_warning(tmp_path, embedder, caplog):
    corpus = small_corpus(tmp_path / "corpus")
    (corpus / "empty.txt").write_text("")
    (corpus / "binary.md").write_bytes(b"\x00\x01\x02" * 100)
    with caplog.at_level(logging.WARNING):
        report = build_index(corpus, tmp_path / "index", embedder)
    assert report.articles == 2
    assert {s.path.split("/")[-1] for s in report.skipped} == {"empty.txt", "binary.md"}
    assert all(s.reason for s in report.skipped)
    assert "empty.txt" in caplog.text and "binary.md" in caplog.text


def test_model_mismatch_names_the_fix(tmp_path, embedder, st_model):
    settings = Settings(corpus_dir=small_corpus(tmp_path / "corpus"), data_dir=tmp_path / "data")
    build_index(settings.corpus_dir, settings.index_dir, Embedder(st_model, "some/other-model"))
    with pytest.raises(store.IndexUnavailable, match="kabar index --rebuild"):
        Engine.open(settings, embedder)


@pytest.mark.parametrize("damage", ["truncate_faiss", "garbage_sqlite", "delete_bm25", "bad_pointer"])
def test_corrupt_index_names_the_fix(tmp_path, embedder, damage):
    settings = Settings(corpus_dir=small_corpus(tmp_path / "corpus"), data_dir=tmp_path / "data")
    build_index(settings.corpus_dir, settings.index_dir, embedder)
    snap = settings.index_dir / store.current_version(settings.index_dir)
    if damage == "truncate_faiss":
        path = snap / "vectors.faiss"
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "garbage_sqlite":
        (snap / "store.sqlite").write_bytes(b"not a database" * 10)
    elif damage == "delete_bm25":
        shutil.rmtree(snap / "bm25")
    else:
        (settings.index_dir / store.CURRENT).write_text("snap-missing")
    with pytest.raises(store.IndexUnavailable, match="kabar index --rebuild"):
        Engine.open(settings, embedder)


def _cli_env(tmp_path: Path, model_dir: Path) -> dict[str, str]:
    """A data dir that reuses the session's converted model instead of converting again."""
    data = tmp_path / "data"
    (data / "models").mkdir(parents=True)
    os.symlink(model_dir, data / "models" / model_dir.name)
    return {**os.environ, "KABAR_DATA_DIR": str(data), "KABAR_CORPUS_DIR": str(ROOT / "corpus")}


def test_cli_ask_builds_the_index_and_prints_json(tmp_path, model_dir):
    env = _cli_env(tmp_path, model_dir)
    kabar = [sys.executable, "-m", "bot.cli"]
    questions = f"{KIM_ID}\n\nSiapa pemenang Piala Dunia 2022?\n"
    run = subprocess.run([*kabar, "ask", "--json", "-"], input=questions, capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert [line["found"] for line in lines] == [True, False]
    first = lines[0]
    # Every field the contract had, plus the checker's calibrated probability and the question's language.
    assert {"question", "found", "answer", "passages", "confidence", "language"} <= set(first)
    assert 0 <= lines[1]["confidence"] < first["confidence"] <= 1 and first["language"] == "id"
    assert first["question"] == KIM_ID and "teknologi militer" in first["answer"]
    assert set(first["passages"][0]) == {"text", "title", "outlet", "date", "path", "score"}
    assert first["passages"][0]["outlet"] == "Republika" and len(first["passages"]) == 3
    assert lines[1]["passages"] == []

    text = subprocess.run([*kabar, "ask", KIM_EN], capture_output=True, text=True, env=env)
    assert text.returncode == 0, text.stderr
    assert "teknologi militer" in text.stdout and "[1]" in text.stdout and "Republika" in text.stdout

    refused = subprocess.run([*kabar, "ask", "Who is Kim Jong Un's father?"], capture_output=True, text=True, env=env)
    assert refused.stdout.startswith("The articles don't answer this question."), refused.stdout
    # The byline answers a question about the article: cited, no passage quoted as if it held the editor.
    asked = [*kabar, "ask", "Siapa editor berita Kilas Klaten?"]
    editor = subprocess.run(asked, capture_output=True, text=True, env=env)
    assert "Fajar Sidik Nur Cahyo" in editor.stdout and "[1]" not in editor.stdout, editor.stdout
    assert "— Kilas Klaten · 2024-06-14 · " in editor.stdout

    empty = subprocess.run([*kabar, "ask", "  "], capture_output=True, text=True, env=env)
    assert empty.returncode == 2 and "empty" in empty.stderr
