"""Retrieval and answer quality of the shipped pipeline on FacQA (news) and TyDi QA-id (Wikipedia).

TyDi is asked together with the IDK-MRC unanswerable questions, against the TyDi corpus.
Every retriever runs through `index.evaluate` (real cleaning, chunking, model, snapshot, search
and answer); embeddings are cached in KABAR_DATA_DIR/eval-cache, so only the first run is slow.

    .venv/bin/python -m bench.quality [--modes hybrid dense bm25] [--limit N]

Writes bench/results/quality.md, and each question's outcome to KABAR_DATA_DIR/eval/ for error analysis.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from bench.common import BENCHMARKS, header, write_results
from index.embed import load_embedder
from index.evaluate import GOLD_K, HELD_OUT, MODES, EvalResult, load_bench, metrics_table, prepare, run
from index.settings import get_settings

BENCHES = ("facqa", "tydiqa_id")
# Issue 5: (R@5, MRR@10) of the reference retrievers on whole benchmark passages, and the targets.
REFERENCE = {
    "facqa": {"plain BM25": (0.913, 0.817), "mE5-small dense": (0.906, 0.798), "RRF k=60": (0.931, 0.825)},
    "tydiqa_id": {"plain BM25": (0.796, 0.649), "mE5-small dense": (0.931, 0.826), "RRF k=60": (0.895, 0.775)},
}
TARGETS = {"facqa": (0.96, 0.87), "tydiqa_id": (0.95, 0.86)}
ANSWER_HIT_TARGET, ABSTENTION_TARGET, ANSWERED_TARGET = 0.80, 0.70, 0.95


def _f(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def _ok(value: float | None, target: float) -> str:
    return "–" if value is None else ("yes" if value >= target else "no")


def retrieval_table(results: list[EvalResult]) -> list[str]:
    lines = [
        "| bench | retriever | questions | R@1 | R@5 | R@10 | MRR@10 | target R@5 / MRR@10 | met |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        m = r.overall
        r5, mrr = TARGETS[r.bench]
        met = "yes" if m.recall[5] >= r5 and m.mrr >= mrr else "no"
        lines.append(
            f"| {r.bench} | {r.mode} | {m.questions} | {_f(m.recall[1])} | {_f(m.recall[5])} | {_f(m.recall[10])} "
            f"| {_f(m.mrr)} | {r5} / {mrr} | {met} |"
        )
    return lines


def answer_table(results: list[EvalResult]) -> list[str]:
    lines = [
        f"| bench | retriever | split | gold in top {GOLD_K} | answer hit | sentence hit | answered "
        "| unanswerable | abstention |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for split in ("train", HELD_OUT, "all"):
            m = r.splits.get(split)
            if m is None:
                continue
            lines.append(
                f"| {r.bench} | {r.mode} | {split} | {m.gold_in_top} | {_f(m.answer_hit)} | {_f(m.sentence_hit)} "
                f"| {_f(m.answered)} | {m.unanswerable} | {_f(m.abstention)} |"
            )
    return lines


def reference_table() -> list[str]:
    lines = ["| bench | retriever | R@5 | MRR@10 |", "|---|---|---|---|"]
    for bench, rows in REFERENCE.items():
        lines += [f"| {bench} | {name} | {r5} | {mrr} |" for name, (r5, mrr) in rows.items()]
    return lines


def verdicts(results: list[EvalResult]) -> list[str]:
    """The issue's answer targets, judged on the shipped (hybrid) configuration."""
    out = []
    for r in results:
        if r.mode != "hybrid":
            continue
        m, held = r.overall, r.splits.get(HELD_OUT)
        if r.bench == "facqa":
            out.append(
                f"- FacQA answer sentence contains the gold answer: {_f(m.answer_hit)} of {m.gold_in_top} questions "
                f"with the gold passage in the top {GOLD_K} (target ≥ {ANSWER_HIT_TARGET}: "
                f"{_ok(m.answer_hit, ANSWER_HIT_TARGET)})"
            )
        if m.unanswerable:
            for name, s in (("train", r.splits.get("train")), (HELD_OUT, held)):
                if s is None:
                    continue
                out.append(
                    f"- {r.bench} {name}: abstains on {_f(s.abstention)} of {s.unanswerable} unanswerable "
                    f"(target ≥ {ABSTENTION_TARGET}: {_ok(s.abstention, ABSTENTION_TARGET)}), answers {_f(s.answered)} "
                    f"of {s.gold_in_top} answerable with gold in the top {GOLD_K} "
                    f"(target ≥ {ANSWERED_TARGET}: {_ok(s.answered, ANSWERED_TARGET)})"
                )
    return out


def dump_outcomes(result: EvalResult, questions: dict, out_dir: Path) -> None:
    """One JSON line per question (text, gold, rank, answer, scores): the raw material of an error analysis."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / f"{result.bench}-{result.mode}.jsonl", "w", encoding="utf-8") as handle:
        for o in result.outcomes:
            q = questions[o.id]
            row = {"question": q.text, "positives": q.positives, "answers": q.answers, **asdict(o)}
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--benches", nargs="+", choices=BENCHES, default=list(BENCHES))
    parser.add_argument("--limit", type=int, default=0, help="first N questions of each file (0: all)")
    args = parser.parse_args()

    head = header()
    settings = get_settings()
    embedder = load_embedder(settings.embedding_model, settings.model_cache_dir)
    results: list[EvalResult] = []
    for name in args.benches:
        bench = load_bench(BENCHMARKS / name, limit=args.limit)
        prepared = prepare(bench, embedder, settings.data_dir / "eval-cache")
        questions = {q.id: q for q in bench.questions}
        for mode in args.modes:
            result = run(prepared, mode)
            dump_outcomes(result, questions, settings.data_dir / "eval")
            print(metrics_table([result]), flush=True)
            results.append(result)

    first = results[0]
    body = [
        f"Model `{first.model}`; every benchmark passage is cleaned, chunked and indexed like a news article "
        "(benchmark ids are recovered from the chunks, each counted once); all questions of every source split. "
        f"Recall@k counts a question as found when any of its positives is in the top k. "
        f'"Gold in top {GOLD_K}" questions are the ones the answer metrics judge: *answer hit* = the shown '
        "answer contains a gold answer (case- and whitespace-insensitive; an abstention is a miss), "
        "*sentence hit* = the sentence picker's choice contains it even when the answer abstained, "
        '*answered* = not "not found". *Abstention* = share of the IDK-MRC unanswerable questions '
        f'(asked against the TyDi corpus) answered "not found"; {HELD_OUT} = every split but train.',
        "",
        "## Retrieval (all questions)",
        "",
        *retrieval_table(results),
        "",
        "Reference figures from the issue (whole passages as documents):",
        "",
        *reference_table(),
        "",
        "## Answers and abstention",
        "",
        *verdicts(results),
        "",
        *answer_table(results),
        "",
        "## Every split",
        "",
        metrics_table(results),
        "",
        "Search configuration (hybrid): `" + json.dumps(first.search_config or results[-1].search_config) + "`",
        "",
        "Answer configuration: `" + json.dumps(first.answer_config) + "`",
        "",
        "Seconds per run (search + answer, embeddings cached): "
        + ", ".join(f"{r.bench}/{r.mode} {r.seconds}" for r in results),
    ]
    suffix = f"-limit{args.limit}" if args.limit else ""
    write_results(f"quality{suffix}", head, body, title="Retrieval and answer quality")


if __name__ == "__main__":
    main()
