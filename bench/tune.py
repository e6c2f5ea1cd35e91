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

# depth no longer changes an exact-index ranking (scores cover every chunk); it matters for HNSW only.
DEFAULT_GRID = {"keyword_weight": [0.0, 0.05, 0.1, 0.15, 0.2, 0.3]}
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
    stored = [prepared.snapshot.sentences_of(h.passage) for h in top[:3]]
    if all(v is not None for v in stored) and sentences:  # the sentence vectors answer() uses
        sent_sims = np.concatenate([np.asarray(v, np.float32) for v in stored]) @ qv
    else:
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


class Study:
    """Feature rows as matrices, and one way to judge any rule: answer when its score ≥ a threshold
    set on TyDi train so that `answered` of the train answerable questions are answered."""

    def __init__(self, rows: list[dict], answered: float):
        self.names = [k for k in rows[0] if k not in ("id", "split", "label", "kind")]
        self.x = np.array([[r[n] for n in self.names] for r in rows], dtype=np.float64)
        self.label = np.array([r["label"] for r in rows])
        split = np.array([r["split"] for r in rows])
        self.kind = np.array([r["kind"] for r in rows])
        self.facqa_train, self.facqa_held = split == "facqa-train", split == "facqa-held"
        self.train = split == "train"
        self.held = ~self.facqa_train & ~self.facqa_held & ~self.train
        self.answered = answered

    def threshold(self, score: np.ndarray, answered: float | None = None, news: bool = False) -> float:
        """Answer `answered` of TyDi train answerable questions (and, with `news`, of FacQA train ones too)."""
        q = 1 - (answered or self.answered)
        t = float(np.quantile(score[self.train & (self.label == 1)], q, method="lower"))
        return min(t, float(np.quantile(score[self.facqa_train], q, method="lower"))) if news else t

    def judge(self, score: np.ndarray, t: float) -> dict[str, float]:
        out = {}
        for name, mask in (("train", self.train), ("held-out", self.held)):
            out[f"{name} abstention"] = float((score[mask & (self.label == 0)] < t).mean())
            out[f"{name} answered"] = float((score[mask & (self.label == 1)] >= t).mean())
        out["FacQA answered"] = float((score[self.facqa_held] >= t).mean()) if self.facqa_held.any() else np.nan
        return out

    def fit(self, cols: list[str], news: bool = False) -> tuple[np.ndarray, str]:
        """Logistic regression on train (with `news`, FacQA train questions count as answerable too),
        returned as a linear score in raw feature units."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        idx = [self.names.index(n) for n in cols]
        fit_rows = self.train | (self.facqa_train if news else False)
        scaler = StandardScaler().fit(self.x[fit_rows][:, idx])
        model = LogisticRegression(max_iter=2000).fit(scaler.transform(self.x[fit_rows][:, idx]), self.label[fit_rows])
        coef = model.coef_[0] / scaler.scale_
        bias = float(model.intercept_[0] - (coef * scaler.mean_).sum())
        terms = " ".join(f"{'+' if w >= 0 else '−'} {abs(w):.4f}·{n}" for w, n in zip(coef, cols, strict=True))
        return self.x[:, idx] @ coef + bias, f"{terms} {'+' if bias >= 0 else '−'} {abs(bias):.4f}".lstrip("+ ")

    def train_abstention(self, cols: list[str], news: bool = False) -> float:
        score = self.fit(cols, news)[0]
        return self.judge(score, self.threshold(score, news=news))["train abstention"]


def _row(label: str, res: dict[str, float]) -> str:
    return f"| {label} | " + " | ".join(f"{res[k]:.3f}" for k in RESULT_KEYS) + " |"


RESULT_KEYS = ("train abstention", "held-out abstention", "train answered", "held-out answered", "FacQA answered")
NEWS_NOTE = "with FacQA train questions as answerable in the fit, and the threshold answering 95 % of them as well"


def abstention_study(rows: list[dict], answered: float) -> list[str]:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score

    st = Study(rows, answered)
    n = {
        f"{name}{lab}": int((mask & (st.label == lab)).sum())
        for name, mask in (("train", st.train), ("held", st.held))
        for lab in (0, 1)
    }
    head = "| rule | " + " | ".join(RESULT_KEYS) + " |"
    lines = [
        f"TyDi questions: train {n['train1']} answerable (gold in top {GOLD_K}) / {n['train0']} unanswerable, "
        f"held-out {n['held1']} / {n['held0']}. FacQA answered = share of the held-out (valid + test) FacQA "
        f"questions with gold in the top {GOLD_K} that a rule answers: a rule fitted on Wikipedia must still answer "
        f"news. Every threshold is set on TyDi train to answer {answered:.0%} of its answerable questions.",
        "",
        "### One feature at a time (distributions on train: p5 / p50 / p95)",
        "",
        "| feature | answerable | unanswerable | AUC | " + " | ".join(RESULT_KEYS) + " |",
        "|---|---|---|---|" + "---|" * len(RESULT_KEYS),
    ]
    for j, name in enumerate(st.names):
        col = st.x[:, j]
        auc = roc_auc_score(st.label[st.train], col[st.train])
        score = col if auc >= 0.5 else -col
        res = st.judge(score, st.threshold(score))
        pa, pu = (np.percentile(col[st.train & (st.label == lab)], [5, 50, 95]) for lab in (1, 0))
        lines.append(
            f"| {name}{'' if auc >= 0.5 else ' (low = answer)'} | {' / '.join(f'{v:.3f}' for v in pa)} "
            f"| {' / '.join(f'{v:.3f}' for v in pu)} | {max(auc, 1 - auc):.3f} | "
            + " | ".join(f"{res[k]:.3f}" for k in RESULT_KEYS)
            + " |"
        )

    for news in (False, True):
        lines += [
            "",
            "### Logistic regression, features added greedily (best train abstention first)"
            + (f", {NEWS_NOTE}" if news else ""),
            "",
            head + " rule |",
            "|---|" + "---|" * (len(RESULT_KEYS) + 1),
        ]
        chosen: list[str] = []
        for _ in range(5):
            rest = [n for n in st.names if n not in chosen]
            chosen.append(max(rest, key=lambda n, c=tuple(chosen), w=news: st.train_abstention([*c, n], w)))
            score, formula = st.fit(chosen, news)
            t = st.threshold(score, news=news)
            lines.append(_row(" + ".join(chosen), st.judge(score, t)) + f" answer when `{formula} ≥ {t:.4f}` |")
        score, _ = st.fit(st.names, news)
        lines.append(_row("every feature", st.judge(score, st.threshold(score, news=news))) + " |")
    score, _ = st.fit(st.names)
    t = st.threshold(score)
    neg = st.held & (st.label == 0)
    kinds = ", ".join(f"{k} {float((score[neg & (st.kind == k)] < t).mean()):.3f}" for k in sorted(set(st.kind[neg])))
    lines += ["", f"Held-out abstention of the every-feature TyDi rule by IDK-MRC question kind: {kinds}."]

    gbm = HistGradientBoostingClassifier(max_iter=300, learning_rate=0.05, random_state=0)
    proba = gbm.fit(st.x[st.train], st.label[st.train]).predict_proba(st.x)[:, 1]
    lines += [
        "",
        "Non-linear ceiling of these features (gradient boosting, fitted on train — its train figures overfit):",
        "",
        head,
        "|---|" + "---|" * len(RESULT_KEYS),
        _row("gradient boosting, every feature", st.judge(proba, st.threshold(proba))),
        "",
        "### Trade-off of the every-feature logistic rules (threshold set on train for each answered share)",
        "",
        head,
        "|---|" + "---|" * len(RESULT_KEYS),
    ]
    for news in (False, True):
        score, _ = st.fit(st.names, news)
        for share in (0.99, 0.95, 0.90, 0.80, 0.70, 0.50):
            t = st.threshold(score, share, news)
            lines.append(
                _row(f"{'news-aware, ' if news else ''}answer {share:.0%} of train answerable", st.judge(score, t))
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--grid", action="append", default=[], help="SearchConfig field=v1,v2 (repeatable)")
    parser.add_argument("--skip-fusion", action="store_true")
    parser.add_argument("--out", default="quality-tuning", help="results file name under bench/results/")
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
        news = collect(prepared["facqa"], {})
        rows += [r | {"split": "facqa-train" if r["split"] == "train" else "facqa-held"} for r in news]
        (settings.data_dir / "eval").mkdir(parents=True, exist_ok=True)
        with open(settings.data_dir / "eval" / "abstention-features.jsonl", "w") as handle:
            handle.writelines(json.dumps(r) + "\n" for r in rows)
        body += ["## Abstention on TyDi + IDK-MRC (shipped hybrid hits)", "", *abstention_study(rows, args.answered)]
    write_results(args.out, head, body, title="Tuning study: fusion and abstention")


if __name__ == "__main__":
    main()
