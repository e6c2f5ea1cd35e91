"""Retrieval quality on both question paths: the torch path's cached question vectors against vectors
from the shipped question path (BundledEmbedder: the encoder on ONNX Runtime, what `kabar ask` and the
bot use), on every FacQA and TyDi QA-id question.

Passages are the same (cached in KABAR_DATA_DIR/eval-cache by bench.quality); only the question vectors
differ, so any change in R@k or MRR is the question path's doing.

    .venv/bin/python -m bench.question_parity          # ~6 min on 2 cores (9.3k questions embedded)
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np

from bench.common import BENCHMARKS, header, write_results
from bench.quality import BENCHES, retrieval_table
from index.embed import BundledEmbedder, load_embedder
from index.evaluate import load_bench, prepare, run
from index.settings import get_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=0, help="first N questions of each file (0: all)")
    parser.add_argument("--out", default="quality-question-path")
    args = parser.parse_args()

    head = header()
    settings = get_settings()
    embedder = load_embedder(settings.embedding_model, settings.model_cache_dir, runtime="torch")
    fast = BundledEmbedder(settings.model_cache_dir)
    results, cosines = [], []
    for name in BENCHES:
        bench = load_bench(BENCHMARKS / name, limit=args.limit)
        prepared = prepare(bench, embedder, settings.data_dir / "eval-cache")
        texts = [q.text for q in bench.questions]
        engine_vectors = np.concatenate([fast.queries(texts[i : i + 256]) for i in range(0, len(texts), 256)])
        cosines.append((prepared.query_vectors * engine_vectors).sum(1))
        torch_run = run(prepared, "hybrid", with_answers=False)
        engine_run = run(replace(prepared, query_vectors=engine_vectors), "hybrid", with_answers=False)
        results += [replace(torch_run, mode="torch path"), replace(engine_run, mode="shipped question path")]
    allc = np.concatenate(cosines)
    body = [
        "Every question of FacQA and TyDi QA-id, hybrid search on the same index; the question vectors come "
        "from the torch path (sentence-transformers, cached) or from the shipped question path (BundledEmbedder: "
        f"{type(fast._engine).__module__}).",
        "",
        *retrieval_table(results),
        "",
        f"Cosine between the two paths' question vectors: min {allc.min():.5f}, median {np.median(allc):.5f}, "
        f"over {len(allc)} questions.",
    ]
    print("\n".join(body))
    write_results(args.out, head, body, title="Retrieval on both question paths (bench/question_parity.py)")


if __name__ == "__main__":
    main()
