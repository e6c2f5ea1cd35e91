"""Sentence vectors: pooled from each passage's own encoding at index time, kept with the index,
reused on refresh, so answering a question embeds nothing but the question."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from index import store
from index.build import build_index
from index.chunk import chunk_article, sentence_spans, split_sentences
from index.engine import Engine
from index.loader import load_corpus
from index.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
KIM_ID = "Apa yang diinginkan Kim Jong Un sebagai imbalannya?"


@pytest.fixture(scope="module")
def seed_passages():
    articles, _ = load_corpus(ROOT / "corpus")
    return [p for a in articles for p in chunk_article(a, "m")]


def test_spans_point_at_each_sentence_inside_the_embedded_text(seed_passages):
    assert seed_passages
    for passage in seed_passages:
        spans = sentence_spans(passage)
        assert [passage.embed_text[a:b] for a, b in spans] == split_sentences(passage.text)
        assert all(a < b for a, b in spans) and spans == sorted(spans)


def test_one_forward_pass_gives_the_passage_vector_and_one_vector_per_sentence(bundled_embedder, seed_passages):
    texts = [p.embed_text for p in seed_passages[:4]]
    spans = [sentence_spans(p) for p in seed_passages[:4]]
    vecs, sentences = bundled_embedder.passages_and_sentences(texts, spans, batch_size=3)
    plain = bundled_embedder.passages(texts)
    assert np.min(np.sum(vecs * plain, axis=1)) > 0.9999  # the same passage vectors as a plain encode
    for matrix, text_spans in zip(sentences, spans, strict=True):
        assert matrix.shape == (len(text_spans), bundled_embedder.dim)
        assert np.allclose(np.linalg.norm(matrix, axis=1), 1, atol=1e-4)
        assert len({tuple(np.round(v, 4)) for v in matrix}) == len(matrix)  # each sentence pooled from its own tokens


def test_the_index_keeps_sentence_vectors_and_refresh_reuses_them(bundled_embedder, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    index_dir = tmp_path / "index"
    build_index(corpus, index_dir, bundled_embedder)
    first = store.read_snapshot(index_dir)
    for passage in first.passages:
        assert len(first.sentences_of(passage)) == len(split_sentences(passage.text))

    (corpus / "baru.txt").write_text(
        "Korut kirim delegasi olahraga\n\nKorea Utara mengirim delegasi olahraga ke Vladivostok pekan ini. "
        "Delegasi itu akan bertanding dalam turnamen bola voli persahabatan.\n",
        encoding="utf-8",
    )
    report = build_index(corpus, index_dir, bundled_embedder)
    assert report.embedded == 1 and report.reused == len(first.passages)
    second = store.read_snapshot(index_dir)
    for passage in first.passages:
        assert np.array_equal(second.sentences_of(passage), first.sentences_of(passage))


def test_an_index_without_sentence_vectors_still_answers(bundled_embedder, tmp_path):
    """Indexes written before sentence vectors existed (format 1) are read, and their answers embed sentences."""
    settings = Settings(_env_file=None, corpus_dir=ROOT / "corpus", data_dir=tmp_path)
    engine = Engine.open(settings, bundled_embedder)
    with_vectors = engine.ask(KIM_ID)
    snap = engine.snapshot
    matrix = np.stack([snap.vectors.reconstruct(i) for i in range(snap.vectors.ntotal)])
    store.write_snapshot(settings.index_dir, snap.model, list(snap.articles.values()), snap.passages, matrix)
    engine.load()
    assert engine.snapshot.sentences is None
    without = engine.ask(KIM_ID)
    assert without.found and with_vectors.found
    assert [h.passage.id for h in without.hits] == [h.passage.id for h in with_vectors.hits]
    shown = {s for h in without.hits[:3] for s in split_sentences(h.passage.text)}
    assert without.text.split(". ")[0].rstrip(".") in " ".join(shown)
