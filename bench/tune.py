"""Tuning aids on the cached benchmark embeddings: a fusion sweep and an abstention study.

1. Fusion: every combination of `--grid field=v1,v2,...` over `SearchConfig` (default: keyword_weight
   × depth), through the real `index.search.search`, scored by R@5 / MRR@10 per benchmark.
2. Abstention: evidence features of the shipped hybrid hits for TyDi answerable questions (gold in
   the top 5) vs the IDK-MRC unanswerable ones; rules are fitted on the `train` split only and judged
   on the others: per-feature thresholds, logistic regression, and a small readable rule.

    .venv/bin/python -m bench.tune [--skip-fusion] [--skip-abstention] [--grid keyword_weight=0,0.1]

Writes bench/results/quality-tuning.md. Run bench.quality first (or accept one slow embedding pass).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, fields, replace
from functools import partial

import numpy as np
from tqdm import tqdm

from bench.common import BENCHMARKS, header, write_results
from index import keyword, vectors
from index.answer import entities, key_terms
from index.chunk import split_sentences
from index.embed import load_embedder
from index.evaluate import GOLD_K, Bench, Prepared, distinct_ids, first_rank, load_bench, prepare, retrieve, run
from index.models import Hit
from index.search import SearchConfig
from index.settings import get_settings

DEFAULT_GRID = {"keyword_weight": [0.0, 0.05, 0.1, 0.2, 0.3], "depth": [20, 50, 100]}
ANSWERED_TARGET, ABSTENTION_TARGET = 0.95, 0.70


def answerable_only(prepared: Prepared) -> Prepared:
    """Retrieval metrics need only answerable questions; skipping the rest halves a TyDi sweep."""
    keep = [i for i, q in enumerate(prepared.bench.questions) if q.answerable]
    bench = Bench(prepared.bench.name, prepared.bench.corpus, [prepared.bench.questions[i] for i in keep])
    return Prepared(bench, prepared.snapshot, prepared.embedder, prepared.query_vectors[keep])


def parse_grid(items: list[str]) -> dict[str, list]:
    if not items:
        return DEFAULT_GRID
    types = {f.name: type(getattr(SearchConfig(), f.name)) for f in fields(SearchConfig)}
    grid = {}
    for item in items:
        name, _, values = item.partition("=")
        grid[name] = [types[name](v) for v in values.split(",")]
    return grid


def fusion_sweep(benches: dict[str, Prepared], grid: dict[str, list]) -> list[str]:
    names = list(grid)
    lines = [
        "| " + " | ".join(names) + " | " + " | ".join(f"{b} R@5 | {b} MRR@10" for b in benches) + " |",
        "|" + "---|" * (len(names) + 2 * len(benches)),
    ]
    for values in itertools.product(*grid.values()):
        config = replace(SearchConfig(), **dict(zip(names, values, strict=True)))
        cells = []
        for prepared in benches.values():
            m = run(prepared, "hybrid", config, with_answers=False, progress=False).overall
            cells += [f"{m.recall[5]:.3f}", f"{m.mrr:.3f}"]
        line = "| " + " | ".join(map(str, values)) + " | " + " | ".join(cells) + " |"
        print(line, flush=True)
        lines.append(line)
    return lines


# --- fusion lab: alternatives SearchConfig cannot express, vectorised over all questions ---------


def score_matrices(prepared: Prepared) -> tuple[np.ndarray, np.ndarray]:
    """Dense cosine and BM25 score of every chunk for every question (rows follow bench.questions)."""
    chunks = vectors.all_vectors(prepared.snapshot.vectors)
    dense = prepared.query_vectors @ chunks.T
    bm25 = np.stack([keyword.scores(prepared.snapshot.bm25, q.text) for q in prepared.bench.questions])
    return dense, bm25[:, : len(prepared.snapshot.passages)]


def _z(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Row-wise z-score over the masked entries (the population the fusion normalises over)."""
    n = mask.sum(1, keepdims=True)
    mean = (x * mask).sum(1, keepdims=True) / n
    std = np.sqrt((((x - mean) * mask) ** 2).sum(1, keepdims=True) / n)
    return (x - mean) / np.where(std > 1e-9, std, 1.0)


def top_mask(x: np.ndarray, depth: int, positive: bool = False) -> np.ndarray:
    rows = np.argpartition(-x, depth - 1, axis=1)[:, :depth]
    mask = np.zeros_like(x, dtype=bool)
    np.put_along_axis(mask, rows, True, axis=1)
    return mask & (x > 0) if positive else mask


def lab_metrics(score: np.ndarray, prepared: Prepared) -> tuple[float, float]:
    """R@5 and MRR@10 of a chunk score matrix, counting each benchmark passage once."""
    ids = [p.article_id for p in prepared.snapshot.passages]
    top = np.argsort(-score, axis=1)[:, :60]
    r5 = rr = 0.0
    for row, q in zip(top, prepared.bench.questions, strict=True):
        rank = first_rank(list(dict.fromkeys(ids[i] for i in row)), q.positives)
        r5 += rank is not None and rank <= 5
        rr += 1 / rank if rank is not None and rank <= 10 else 0.0
    n = len(prepared.bench.questions)
    return r5 / n, rr / n


def fuse_candidates(d: np.ndarray, k: np.ndarray, w: float, depth: int) -> np.ndarray:
    """As shipped: z-scores over the union of both retrievers' top `depth`; the rest never ranks."""
    mask = top_mask(d, depth) | top_mask(k, depth, positive=True)
    return np.where(mask, (1 - w) * _z(d, mask) + w * _z(k, mask), -np.inf)


def fuse_global(d: np.ndarray, k: np.ndarray, w: float) -> np.ndarray:
    """z-scores over every chunk: BM25's long tail of zeros then sets its scale."""
    every = np.ones_like(d, dtype=bool)
    return (1 - w) * _z(d, every) + w * _z(k, every)


def fuse_rrf(d: np.ndarray, k: np.ndarray, c: int) -> np.ndarray:
    return sum(1 / (c + 1 + np.argsort(np.argsort(-x, axis=1), axis=1)) for x in (d, k))


def fusion_lab(benches: dict[str, Prepared], weights: list[float], depth: int) -> list[str]:
    """Where z-scores are taken (candidate union, as shipped, vs every chunk) and RRF, side by side."""
    lines = [
        "| fusion | " + " | ".join(f"{b} R@5 | {b} MRR@10" for b in benches) + " |",
        "|---|" + "---|" * 2 * len(benches),
    ]
    mats = {name: score_matrices(p) for name, p in benches.items()}
    variants: list[tuple[str, Callable[[np.ndarray, np.ndarray], np.ndarray]]] = []
    for w in weights:
        variants.append((f"z over candidates (top {depth} each), w={w}", partial(fuse_candidates, w=w, depth=depth)))
        variants.append((f"z over all chunks, w={w}", partial(fuse_global, w=w)))
    variants += [(f"RRF k={c}, equal weights", partial(fuse_rrf, c=c)) for c in (10, 60)]
    for name, fuse in variants:
        cells = []
        for bench, (d, k) in mats.items():
            cells += [f"{v:.3f}" for v in lab_metrics(fuse(d, k), benches[bench])]
        line = f"| {name} | " + " | ".join(cells) + " |"
        print(line, flush=True)
        lines.append(line)
    return lines


# --- abstention ---------------------------------------------------------------------------


def idf_table(prepared: Prepared) -> tuple[dict[str, float], float]:
    """BM25-style idf over the indexed chunks; unseen words get the highest idf (rarest)."""
    df = Counter(t for p in prepared.snapshot.passages for t in set(keyword.tokenize(p.embed_text)))
    n = len(prepared.snapshot.passages)
    idf = {t: math.log((n - c + 0.5) / (c + 0.5) + 1) for t, c in df.items()}
    return idf, math.log((n + 0.5) / 0.5 + 1)


def features(question: str, hits: list[Hit], qv: np.ndarray, prepared: Prepared, idf, unseen: float) -> dict:
    """Evidence an answer rule can compute from the question, its hits and their sentences."""
    top = hits[:10]
    best: dict[str, float] = {}  # per benchmark passage: chunks of one passage are no competition
    for h in top:
        best[h.passage.article_id] = max(best.get(h.passage.article_id, -1.0), h.dense)
    dense = sorted(best.values(), reverse=True) + [0.0, 0.0]
    terms, names = key_terms(question), entities(question)
    tok1 = set(keyword.tokenize(top[0].passage.embed_text))
    tok3 = set().union(*(keyword.tokenize(h.passage.embed_text) for h in top[:3]))
    weight = {t: idf.get(t, unseen) for t in terms}
    total = sum(weight.values()) or 1.0
    missing1 = terms - tok1
    sentences = [s for h in top[:3] for s in split_sentences(h.passage.text)]
    sent_sims = prepared.embedder.passages(sentences) @ qv if sentences else np.zeros(1)
    first = len(split_sentences(top[0].passage.text))
    sent_cov = max((len(terms & set(keyword.tokenize(s))) / max(1, len(terms)) for s in sentences), default=0.0)
    return {
        "dense_top": top[0].dense,
        "dense_max": dense[0],
        "dense_margin": dense[0] - dense[1],
        "dense_gap5": dense[0] - float(np.mean(dense[1:5])),
        "bm25_top": max(h.keyword for h in top),
        "bm25_per_term": max(h.keyword for h in top) / max(1, len(terms)),
        "fused_top": top[0].score,
        "fused_margin": top[0].score - (top[1].score if len(top) > 1 else 0.0),
        "cov_top1": len(terms & tok1) / len(terms) if terms else 1.0,
        "cov_top3": len(terms & tok3) / len(terms) if terms else 1.0,
        "idf_cov_top1": sum(weight[t] for t in terms & tok1) / total if terms else 1.0,
        "missing_idf_max": max((weight[t] for t in missing1), default=0.0),
        "missing_count": float(len(missing1)),
        "names_cov_top3": len(names & tok3) / len(names) if names else 1.0,
        "sentence_max": float(sent_sims.max()),
        "sentence_max_top1": float(sent_sims[:first].max()) if first else 0.0,
        "sentence_cov_max": sent_cov,
        "key_terms": float(len(terms)),
    }


def collect(prepared: Prepared, kinds: dict[str, str]) -> list[dict]:
    """One row per TyDi question: split, label (1 = answerable, gold in top 5; 0 = unanswerable), features."""
    idf, unseen = idf_table(prepared)
    rows = []
    for i, q in enumerate(tqdm(prepared.bench.questions, desc="abstention features")):
        hits = retrieve(prepared, i, "hybrid")
        if not hits:
            continue
        rank = first_rank(distinct_ids(hits), q.positives) if q.answerable else None
        if q.answerable and (rank is None or rank > GOLD_K):
            continue  # the targets judge answering only where the gold passage was found
        row = {"id": q.id, "split": q.split, "label": int(q.answerable), "kind": kinds.get(q.id, "answerable")}
        row.update(features(q.text, hits, prepared.query_vectors[i], prepared, idf, unseen))
        rows.append(row)
    return rows


def judge(score: np.ndarray, label: np.ndarray, train: np.ndarray, threshold: float) -> dict[str, float]:
    """Answer when score ≥ threshold; abstention on unanswerable, answered share of answerable, per side."""
    out = {}
    for name, mask in (("train", train), ("held-out", ~train)):
        pos, neg = mask & (label == 1), mask & (label == 0)
        out[f"{name} answered"] = float((score[pos] >= threshold).mean())
        out[f"{name} abstention"] = float((score[neg] < threshold).mean())
    return out


def train_threshold(score: np.ndarray, label: np.ndarray, train: np.ndarray, answered: float) -> float:
    """The highest threshold that still answers `answered` of the train answerable questions."""
    return float(np.quantile(score[train & (label == 1)], 1 - answered, method="lower"))


def abstention_study(rows: list[dict], answered: float) -> list[str]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier, export_text

    names = [k for k in rows[0] if k not in ("id", "split", "label", "kind")]
    x = np.array([[r[n] for n in names] for r in rows], dtype=np.float64)
    label = np.array([r["label"] for r in rows])
    train = np.array([r["split"] == "train" for r in rows])
    kinds = np.array([r["kind"] for r in rows])
    counts = {s: int(((label == 1) & (train == s)).sum()) for s in (True, False)}
    negs = {s: int(((label == 0) & (train == s)).sum()) for s in (True, False)}
    lines = [
        f"Questions: train {counts[True]} answerable (gold in top {GOLD_K}) / {negs[True]} unanswerable; "
        f"held-out {counts[False]} / {negs[False]}. Every threshold below is set on train to answer "
        f"{answered:.0%} of the train answerable questions.",
        "",
        "### Feature distributions on train (answerable | unanswerable: 5th / 50th / 95th percentile) and AUC",
        "",
        "| feature | answerable p5 / p50 / p95 | unanswerable p5 / p50 / p95 | AUC | abstention (train / held-out) "
        "| answered held-out |",
        "|---|---|---|---|---|---|",
    ]
    single = []
    for j, name in enumerate(names):
        col = x[:, j]
        auc = roc_auc_score(label[train], col[train])
        sign = 1.0 if auc >= 0.5 else -1.0
        t = train_threshold(sign * col, label, train, answered)
        res = judge(sign * col, label, train, t)
        single.append((res["train abstention"], name))
        pa = np.percentile(col[train & (label == 1)], [5, 50, 95])
        pu = np.percentile(col[train & (label == 0)], [5, 50, 95])
        lines.append(
            f"| {name} | {' / '.join(f'{v:.3f}' for v in pa)} | {' / '.join(f'{v:.3f}' for v in pu)} "
            f"| {max(auc, 1 - auc):.3f}{'' if sign > 0 else ' (lower = answerable)'} "
            f"| {res['train abstention']:.3f} / {res['held-out abstention']:.3f} | {res['held-out answered']:.3f} |"
        )

    def fit(cols: list[str], c: float = 1.0) -> tuple[np.ndarray, dict, str]:
        idx = [names.index(n) for n in cols]
        scaler = StandardScaler().fit(x[train][:, idx])
        model = LogisticRegression(C=c, max_iter=2000).fit(scaler.transform(x[train][:, idx]), label[train])
        coef = model.coef_[0] / scaler.scale_
        bias = float(model.intercept_[0] - (coef * scaler.mean_).sum())
        score = x[:, idx] @ coef + bias
        t = train_threshold(score, label, train, answered)
        formula = " + ".join(f"{w:+.4f}·{n}" for w, n in zip(coef, cols, strict=True)) + f" {bias:+.4f}"
        return score, judge(score, label, train, t) | {"threshold": t}, formula

    lines += [
        "",
        "### Logistic regression (fitted on train; answer when the linear score ≥ threshold)",
        "",
        "| features | train abstention | held-out abstention | train answered | held-out answered | rule |",
        "|---|---|---|---|---|---|",
    ]
    best_single = [n for _, n in sorted(single, reverse=True)]
    sets = {"all": names, **{f"best {k}": best_single[:k] for k in (2, 3, 4, 6)}}
    for label_, cols in sets.items():
        score, res, formula = fit(cols)
        lines.append(
            f"| {label_}: {', '.join(cols) if len(cols) < len(names) else 'every feature'} "
            f"| {res['train abstention']:.3f} | {res['held-out abstention']:.3f} | {res['train answered']:.3f} "
            f"| {res['held-out answered']:.3f} | `{formula} ≥ {res['threshold']:.4f}` |"
        )
        if label_ == "all":
            neg = label == 0
            by_kind = ", ".join(
                f"{k} {float((score[neg & (kinds == k) & ~train] < res['threshold']).mean()):.3f}"
                for k in sorted(set(kinds[neg]))
            )
            lines.append(f"| ↳ held-out abstention by IDK-MRC question kind: {by_kind} | | | | | |")

    tree = DecisionTreeClassifier(max_depth=3, min_samples_leaf=50, class_weight={0: 1, 1: 4}, random_state=0)
    tree.fit(x[train], label[train])
    proba = tree.predict_proba(x)[:, 1]
    res = judge(proba, label, train, 0.5)
    lines += [
        "",
        "### A depth-3 decision tree (answerable weighted 4:1; answer when a leaf says 1)",
        "",
        f"train abstention {res['train abstention']:.3f}, held-out abstention {res['held-out abstention']:.3f}, "
        f"train answered {res['train answered']:.3f}, held-out answered {res['held-out answered']:.3f}",
        "",
        "```",
        export_text(tree, feature_names=names, decimals=3).rstrip(),
        "```",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--grid", action="append", default=[], help="SearchConfig field=v1,v2 (repeatable)")
    parser.add_argument("--skip-fusion", action="store_true")
    parser.add_argument("--skip-abstention", action="store_true")
    parser.add_argument("--skip-sweep", action="store_true", help="only the fusion lab, not the real-search grid")
    parser.add_argument("--answered", type=float, default=ANSWERED_TARGET, help="answered share to calibrate for")
    args = parser.parse_args()

    head = header()
    settings = get_settings()
    embedder = load_embedder(settings.embedding_model, settings.model_cache_dir)
    cache = settings.data_dir / "eval-cache"
    prepared = {name: prepare(load_bench(BENCHMARKS / name), embedder, cache) for name in ("facqa", "tydiqa_id")}
    body = [f"Shipped SearchConfig: `{json.dumps(asdict(SearchConfig()))}`", ""]
    if not args.skip_fusion:
        grid = parse_grid(args.grid)
        answerable = {n: answerable_only(p) for n, p in prepared.items()}
        if not args.skip_sweep:
            body += ["## Fusion sweep (real search, all answerable questions)", "", *fusion_sweep(answerable, grid), ""]
        body += [
            "## Fusion lab (vectorised re-implementation, no near-duplicate filter)",
            "",
            *fusion_lab(answerable, [0.05, 0.1, 0.2, 0.3], SearchConfig().depth),
            "",
        ]
    if not args.skip_abstention:
        path = BENCHMARKS / "tydiqa_id" / "unanswerable_idk_mrc.jsonl"
        kinds = {r["id"]: r.get("kind", "") for r in map(json.loads, path.read_text().splitlines())}
        rows = collect(prepared["tydiqa_id"], kinds)
        (settings.data_dir / "eval").mkdir(parents=True, exist_ok=True)
        with open(settings.data_dir / "eval" / "abstention-features.jsonl", "w") as handle:
            handle.writelines(json.dumps(r) + "\n" for r in rows)
        body += ["## Abstention on TyDi + IDK-MRC (shipped hybrid hits)", "", *abstention_study(rows, args.answered)]
    write_results("quality-tuning", head, body, title="Tuning study: fusion and abstention")


if __name__ == "__main__":
    main()
