"""Mine the checker's own mistakes on train questions, as the bot meets them: negatives for its next run.

    python -m bench.mine_negatives [--skip 5000] [--limit 5000] [--out data/checker-train/mined.jsonl]

Every chosen train question (the same shuffle `bench.train_checker` draws from) is asked through Kabar's
retrieval over one index of both benchmark corpora, and the shipped checker reads all its candidate
sentences. The ones it scores highest that hold no gold answer are what fools it end to end: sentences
from other passages naming the question's people, with the right kind of fact. The heuristic negatives
of `bench.train_checker` (answer erased, same kind, BM25 miss) only guess at those.

Only negatives that are surely negatives are kept, as a wrong label teaches the checker to refuse
answers. An IDK-MRC question's candidates from passages other than the one it was written against might
answer it, so only that passage's sentences are mined for it. An answerable question's are mined only
when its gold answers are short (a name, a date, a number: a sentence lacking the string lacks the
answer; TyDi's long answers are paraphrased or split over sentences, and "Apakah itu aerodinamika?" is
answered by any passage's definition), and only from other passages than its gold one (whose sentences
`bench.train_checker` already reads as negatives).
"""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import replace
from pathlib import Path

from tqdm import tqdm

from bench.common import ROOT
from bench.train_checker import Data, train_questions
from bench.trust import test_bench
from index.answer import AnswerConfig, read_pool
from index.checker import settings_checker
from index.embed import load_embedder
from index.evaluate import Question, contains_answer, prepare
from index.search import SearchConfig, search
from index.settings import get_settings

log = logging.getLogger("mine_negatives")
KEEP = 3  # negatives per question: the likeliest to fool the checker
FLOOR = 0.05  # a candidate the checker already scores this low teaches it nothing
SHORT = 4  # words: a gold answer this short is matched reliably by its string


def minable(q: Question, passage_id: str, against: str | None) -> bool:
    """May a candidate of this passage be taken as a negative for this question?"""
    if not q.answerable:
        return passage_id == against
    return passage_id not in q.positives and all(len(a.split()) <= SHORT for a in q.answers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "checker-train" / "mined.jsonl")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    settings = get_settings()
    checker = settings_checker(settings)
    chosen = {q["id"]: q for q in train_questions(Data(), args.skip, args.limit)}
    bench = test_bench({"facqa": ("train",), "tydiqa_id": ("train",)})
    bench.questions = [q for q in bench.questions if q.id in chosen]
    embedder = load_embedder(settings.embedding_model, settings.model_cache_dir)
    prepared = prepare(bench, embedder, settings.data_dir / "eval-cache")
    config = replace(AnswerConfig(), read_every=True)
    snapshot = prepared.snapshot
    args.out.parent.mkdir(parents=True, exist_ok=True)
    mined = 0
    with args.out.open("w", encoding="utf-8") as f:
        for q, vector in tqdm(zip(bench.questions, prepared.query_vectors, strict=True), total=len(bench.questions)):
            hits = search(snapshot, prepared.embedder, q.text, k=10, config=SearchConfig(), query_vector=vector)
            pool = read_pool(checker, q.text, hits, prepared.embedder, config, vector, snapshot.sentences_of)
            against = chosen[q.id].get("written_against_passage_id")
            fooled = {
                c.text: c  # a sentence once: the pool may hold it alone and read after the one before it
                for c in reversed(pool)
                if c.probability >= FLOOR
                and not contains_answer(c.context or c.text, q.answers)
                and minable(q, hits[c.hit].passage.article_id, against)
            }
            negatives = sorted(fooled.values(), key=lambda c: -c.probability)[:KEEP]
            mined += len(negatives)
            row = {
                "id": q.id,
                "negatives": [c.context or c.text for c in negatives],
                "probabilities": [round(c.probability, 4) for c in negatives],
            }
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    log.info("%d negatives for %d questions -> %s", mined, len(bench.questions), args.out)


if __name__ == "__main__":
    main()
