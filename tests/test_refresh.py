"""Refreshing safely: crashes, concurrent refreshes, questions during a refresh, duplicate stories."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from filelock import FileLock

from index import store
from index.build import IndexBusy, build_index
from index.convert import BUNDLED_MODEL_ID
from index.embed import Embedder
from index.engine import Engine
from index.settings import Settings

ROOT = Path(__file__).resolve().parent.parent

# Runs a real refresh in a child process and SIGKILLs it at the named stage.
CRASHING_BUILD = """
import os, signal, sys
from pathlib import Path
from index.build import build_index
from index.embed import load_embedder
corpus, index_dir, models, stage = sys.argv[1:]
embedder = load_embedder("bundled", Path(models))
def maybe_die(name):
    if name.startswith(stage):
        os.kill(os.getpid(), signal.SIGKILL)
build_index(Path(corpus), Path(index_dir), embedder, on_stage=maybe_die)
"""


@pytest.fixture(scope="module")
def embedder(st_model) -> Embedder:
    return Embedder(st_model, BUNDLED_MODEL_ID)


def corpus_copy(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for source in (ROOT / "corpus").glob("*.txt"):
        shutil.copy(source, path / source.name)
    return path


NEW_ARTICLE = "Kim Kunjungi Pabrik\n\nKim Jong Un mengunjungi pabrik amunisi di dekat Pyongyang pada Senin pagi."


@pytest.mark.parametrize("stage", ["metadata written", "snapshot renamed", "pointer written"])
def test_kill_9_during_refresh_leaves_the_old_index_and_the_next_refresh_completes(
    tmp_path, embedder, model_dir, stage
):
    corpus, index_dir = corpus_copy(tmp_path / "corpus"), tmp_path / "index"
    before = build_index(corpus, index_dir, embedder)
    (corpus / "baru.txt").write_text(NEW_ARTICLE)

    child = subprocess.run(
        [sys.executable, "-c", CRASHING_BUILD, str(corpus), str(index_dir), str(model_dir.parent), stage],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr

    survivor = store.read_snapshot(index_dir)
    assert survivor.version == before.version
    assert len(survivor.passages) == before.passages and "baru.txt" not in survivor.articles

    after = build_index(corpus, index_dir, embedder, lock_timeout=5)  # the dead child's lock is free again
    assert (after.added, after.reused) == (1, before.passages)
    assert "baru.txt" in store.read_snapshot(index_dir).articles


def test_a_second_refresh_waits_or_says_why(tmp_path, embedder):
    corpus, index_dir = corpus_copy(tmp_path / "corpus"), tmp_path / "index"
    index_dir.mkdir()
    with FileLock(index_dir / "build.lock"), pytest.raises(IndexBusy, match="Another `kabar index` is running"):
        build_index(corpus, index_dir, embedder, lock_timeout=0.2)


def test_questions_during_a_refresh_are_answered_from_the_old_index(tmp_path, embedder):
    settings = Settings(corpus_dir=corpus_copy(tmp_path / "corpus"), data_dir=tmp_path / "data")
    engine = Engine.open(settings, embedder)
    old_version = engine.snapshot.version
    for i in range(12):  # enough new text that the refresh takes a while
        (settings.corpus_dir / f"baru-{i}.txt").write_text(
            f"Laporan {i}\n\n" + " ".join(f"Kalimat nomor {j} dari laporan {i} tentang ekonomi." for j in range(60))
        )
    refresh = threading.Thread(target=engine.refresh)
    refresh.start()
    answers = []
    while refresh.is_alive():
        answers.append(engine.ask("Apa yang diinginkan Kim Jong Un sebagai imbalannya?"))
    refresh.join()
    assert len(answers) >= 2
    assert all(a.found and "teknologi militer" in a.text for a in answers)
    assert engine.snapshot.version != old_version and len(engine.snapshot.articles) == 14


def test_a_refresh_by_another_process_is_picked_up(tmp_path, embedder):
    settings = Settings(corpus_dir=corpus_copy(tmp_path / "corpus"), data_dir=tmp_path / "data")
    serving = Engine.open(settings, embedder)
    assert not serving.reload_if_changed()
    (settings.corpus_dir / "baru.txt").write_text(NEW_ARTICLE)
    build_index(settings.corpus_dir, settings.index_dir, embedder)  # as `kabar index` would
    assert serving.reload_if_changed()
    assert "baru.txt" in serving.snapshot.articles
    assert serving.ask("Pabrik apa yang dikunjungi Kim Jong Un?").hits[0].article.id == "baru.txt"


def test_same_story_with_other_boilerplate_is_indexed_once_and_near_duplicates_reported(tmp_path, embedder):
    corpus = corpus_copy(tmp_path / "corpus")
    original = (corpus / "kilasklaten-2024-06-14-putin-pyongyang.txt").read_text()
    # The same story scraped from another page layout: other nav tail, a "Baca Juga" box, CRLF.
    (corpus / "mirror.txt").write_text(
        original.replace("Tags\n", "Berita Terkait\n")
        .replace("Baca Juga: Korea Selatan Siaga", "BACA JUGA: Harga Emas Turun")
        .replace("\n", "\r\n")
    )
    # The same wire story rewritten by another outlet: a different lead and ending.
    paragraphs = original.split("\n\n")
    rewritten = ["Putin Segera ke Korea Utara", "JAKARTA - Laporan kantor berita menyebut kunjungan segera terjadi."]
    rewritten += paragraphs[4:18] + ["Kunjungan ini dinilai penting bagi kawasan."]
    (corpus / "wire.txt").write_text("\n\n".join(rewritten))

    report = build_index(corpus, tmp_path / "index", embedder)
    assert ("kilasklaten-2024-06-14-putin-pyongyang.txt", "mirror.txt") in report.duplicates
    assert report.articles == 3
    kilas = "kilasklaten-2024-06-14-putin-pyongyang.txt"
    assert [(a, b) for a, b, _ in report.near_duplicates] == [(kilas, "wire.txt")]


def test_unchanged_corpus_embeds_nothing_from_the_cli(tmp_path, model_dir):
    data = tmp_path / "data"
    (data / "models").mkdir(parents=True)
    os.symlink(model_dir, data / "models" / model_dir.name)
    env = {**os.environ, "KABAR_DATA_DIR": str(data), "KABAR_CORPUS_DIR": str(corpus_copy(tmp_path / "corpus"))}
    kabar = [sys.executable, "-m", "bot.cli", "index"]
    first = subprocess.run(kabar, capture_output=True, text=True, env=env, cwd=ROOT)
    assert first.returncode == 0, first.stderr
    assert "2 articles" in first.stdout and "0 reused" in first.stdout
    second = subprocess.run(kabar, capture_output=True, text=True, env=env, cwd=ROOT)
    assert " 0 embedded" in second.stdout and "2 unchanged" in second.stdout
