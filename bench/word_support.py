"""Word support beside the answer checker: tried on 2026-12-05, not shipped. This measures why.

    python -m bench.word_support

The checker is fooled by a sentence that names the question's people with the right kind of fact ("Berapa
umur Vladimir Putin?" → "Kunjungan Putin diperkirakan akan terjadi sekitar 18-19 Juni.", 0.64). Word
support asks whether every content word of the question finds itself in the sentence: each one's unit
vector (the bundled encoder's token vectors after layer 8, pooled per word; "query: " / "passage: " as e5
reads them) looks for its best cosine among the sentence's words, and the weakest word's is the sentence's
support. A candidate's confidence would be the checker's calibrated log-odds + w × (support − 0.45).

For every Indonesian seed question and every FacQA valid, TyDi dev-valid and IDK-MRC valid question (one
index of both corpora, as `bench.trust tune` builds it), the checker reads every candidate that Engine.ask
would give it, and this prints, per weight w: the seed Indonesian AUC (answerable above near- and off-topic)
on the dev and test splits, and the share of IDK-MRC valid refused at the threshold that answers 90 % of the
answerable valid questions end to end (the rule that sets the shipped threshold). English questions are left
without support (read word by word in Indonesian, their words seldom match). Writes
bench/results/word_support.md.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from bench.common import header, write_results
from bench.trust import VALID_SPLITS, _engine, auc, reading_all, test_bench
from index import keyword
from index.answer import is_english, key_terms, read_pool
from index.checker import build_model, settings_checker
from index.checker_onnx import pair_tokenizer, word_vectors
from index.convert import ensure_bundled_model
from index.embed import load_embedder
from index.engine import Engine
from index.evaluate import prepare, read_seed
from index.search import search
from index.settings import get_settings

LAYER = 8  # layers 6-8 separated the seed dev split best in a first look (4, 6, 8, 10, 12 tried); 12 did not
CENTER = 0.45  # midway between the seed dev medians of answerable (0.49) and near-topic (0.42) best candidates
WEIGHTS = (0.0, 2.0, 5.0, 10.0, 20.0, 30.0, 40.0, 60.0)
MAX_TOKENS = 128


class WordSupport:
    """The encoder's first LAYER layers (torch), their token states pooled per whitespace word."""

    def __init__(self, encoder_dir: Path):
        import torch

        self.model = build_model(encoder_dir, LAYER).roberta.eval()  # the encoder's lower layers, no head
        self.torch = torch
        self.tokenizer, self.words = pair_tokenizer(encoder_dir), word_vectors(encoder_dir)

    def support(self, question: str, sentences: Sequence[str]) -> np.ndarray | None:
        """Per sentence, the lowest over the question's content words of the best cosine to any of the
        sentence's words; None when the question has no content word."""
        terms = key_terms(question)
        (q_words, q_vecs), *rest = self.pooled(["query: " + question, *("passage: " + s for s in sentences)])
        keep = [i for i, w in enumerate(q_words) if (tokens := keyword.tokenize(w)) and set(tokens) <= terms]
        if not keep:
            return None
        return np.array([(q_vecs[keep] @ vecs.T).max(1).min() for _, vecs in rest], dtype=np.float64)

    def pooled(self, texts: Sequence[str]) -> list[tuple[list[str], np.ndarray]]:
        rows, spans, words = [], [], []
        for text in texts:
            prompt, *parts = text.split()
            ids, own, kept = [0, *self.tokenizer.encode_one(prompt, MAX_TOKENS)[1:-1]], [], []
            for word in parts:
                pieces = self.tokenizer.encode_one(word, MAX_TOKENS)[1:-1]
                if len(ids) + len(pieces) >= MAX_TOKENS - 1:
                    break
                own.append((len(ids), len(ids) + len(pieces)))
                kept.append(word)
                ids += pieces
            rows.append([*ids, 2])
            spans.append(own)
            words.append(kept)
        width = max(len(r) for r in rows)
        ids = np.array([r + [1] * (width - len(r)) for r in rows], dtype=np.int64)  # 1: XLM-R's <pad>
        with self.torch.inference_mode():
            states = self.model(
                inputs_embeds=self.torch.from_numpy(np.ascontiguousarray(self.words[ids], dtype=np.float32)),
                attention_mask=self.torch.from_numpy((ids != 1).astype(np.int64)),
            ).last_hidden_state.numpy()
        out = []
        for row, own, kept in zip(states, spans, words, strict=True):
            vecs = np.array([row[a:b].mean(0) for a, b in own], dtype=np.float32).reshape(-1, row.shape[-1])
            out.append((kept, vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)))
        return out


def scored(engine: Engine, support: WordSupport, question: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Every candidate Engine.ask would give the checker: its calibrated log-odds and its word support."""
    config = replace(engine.answer_config, read_every=True)
    q = engine.embedder.queries([question])[0]
    hits = search(engine.snapshot, engine.embedder, question, k=10, config=engine.search_config, query_vector=q)
    pool = read_pool(engine.checker, question, hits, engine.embedder, config, q, engine.snapshot.sentences_of)
    if not pool:
        return np.zeros(0), None
    p = np.clip([c.probability for c in pool], 1e-6, 1 - 1e-6)
    odds = np.log(p / (1 - p))
    return odds, None if is_english(question) else support.support(question, [c.context or c.text for c in pool])


def confidence(odds: np.ndarray, support: np.ndarray | None, weight: float) -> float:
    if not len(odds):
        return -math.inf  # the relatedness gate stopped it: no threshold answers it
    return float((odds + (0.0 if support is None else weight * (support - CENTER))).max())


def main() -> None:
    head = header()
    settings = get_settings()
    checker = settings_checker(settings)
    support = WordSupport(ensure_bundled_model(settings.model_cache_dir))
    seed_engine = Engine.open(settings, checker=checker)
    seed = [r for r in read_seed() if r["lang"] == "id"]
    with reading_all(seed_engine):
        seed_scores = [scored(seed_engine, support, r["question"]) for r in seed]
    bench = test_bench(VALID_SPLITS)
    prepared = prepare(
        bench, load_embedder(settings.embedding_model, settings.model_cache_dir), settings.data_dir / "eval-cache"
    )
    with tempfile.TemporaryDirectory() as tmp:
        engine = _engine(prepared.embedder, checker, Path(tmp))
        engine.snapshot = prepared.snapshot
        valid_scores = [scored(engine, support, q.text) for q in bench.questions]
    lines = [
        "| weight w | seed Indonesian AUC, dev | seed Indonesian AUC, test | IDK-MRC valid refused at 90 % answered |",
        "|---|---|---|---|",
    ]
    for w in WEIGHTS:
        by_split = {}
        for split in ("dev", "test"):
            pairs = [(r, confidence(*s, w)) for r, s in zip(seed, seed_scores, strict=True) if r["split"] == split]
            by_split[split] = auc(
                [c for r, c in pairs if r["kind"] == "answerable"], [c for r, c in pairs if r["kind"] != "answerable"]
            )
        yes = np.array([confidence(*s, w) for q, s in zip(bench.questions, valid_scores, strict=True) if q.answerable])
        no = np.array(
            [confidence(*s, w) for q, s in zip(bench.questions, valid_scores, strict=True) if not q.answerable]
        )
        cut = np.quantile(yes, 0.10)
        lines.append(f"| {w:g} | {by_split['dev']:.3f} | {by_split['test']:.3f} | {100 * np.mean(no < cut):.1f} % |")
        print(lines[-1])
    best: dict[str, list[float]] = {}  # each question's best support among its candidates, by group
    groups = [f"seed {r['kind']}" for r in seed] + [
        "valid answerable" if q.answerable else "IDK-MRC valid" for q in bench.questions
    ]
    for group, (_, s) in zip(groups, seed_scores + valid_scores, strict=True):
        if s is not None and len(s) and group != "seed off-topic":
            best.setdefault(group, []).append(s.max())
    medians = {name: np.median(best[name]) for name in ("seed answerable", "seed near-topic", *best)}
    body = [
        f"{len(seed)} Indonesian seed questions and {len(bench.questions)} valid questions; the checker reads every "
        f"candidate; support from layer {LAYER}, centred at {CENTER}. w = 0 is the shipped checker.",
        "",
        *lines,
        "",
        "The best support among a question's candidates, median: "
        + ", ".join(f"{name} {value:.3f}" for name, value in medians.items())
        + ".",
    ]
    write_results("word_support", head, body, title="Word support beside the answer checker (not shipped)")


if __name__ == "__main__":
    main()
