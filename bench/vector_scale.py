"""Vector search alone at up to 1M vectors: which FAISS index, with which parameters.

Real question embeddings search a set of real passage embeddings (~6k, facqa + tydiqa_id)
padded with perturbed copies of them (see bench/corpus.perturbed; the perturbation is
calibrated so a copy is as close to its original as a real text variant is). Embedding
1M passages on 2 cores would take days; the perturbed set is what makes 1M measurable.

For each size: exact ground truth (IndexFlatIP), then each candidate index: build time,
bytes per vector (serialized size), whether reconstruct works, and per search parameter
recall@10 / recall@50 against exact and single-query latency (nq=1, as the app searches).

    .venv/bin/python -m bench.vector_scale                 # 50k and 1M, all candidates (~1 h on 2 cores)
    .venv/bin/python -m bench.vector_scale --sizes 100000 --kinds flat,hnsw --queries 300
"""

from __future__ import annotations

import argparse
import gc
import time

import faiss
import numpy as np

from bench import corpus
from bench.common import header, write_results
from index import vectors

# name → (factory string, {search parameter: values}); "auto" is what index/vectors.py builds.
CANDIDATES = {
    "flat": ("Flat", {}),
    "hnsw": ("HNSW32,Flat", {"efSearch": [16, 32, 64, 128, 256]}),
    "hnsw_fp16": ("HNSW32,SQfp16", {"efSearch": [32, 64, 128, 256]}),
    "hnsw_sq8": ("HNSW32,SQ8", {"efSearch": [32, 64, 128, 256]}),
    "ivf": ("IVF{nlist},Flat", {"nprobe": [8, 16, 32, 64, 128]}),
    "ivf_fp16": ("IVF{nlist},SQfp16", {"nprobe": [16, 32, 64, 128]}),
    "ivf_sq8": ("IVF{nlist},SQ8", {"nprobe": [16, 32, 64, 128]}),
    "auto": ("index.vectors.build", {}),
}


def nlist_for(n: int) -> int:
    return int(2 ** round(np.log2(4 * np.sqrt(n))))


def make(kind: str, data: np.ndarray, ef_construction: int) -> faiss.Index:
    if kind == "auto":
        return vectors.build(data)
    spec = CANDIDATES[kind][0].format(nlist=nlist_for(len(data)))
    index = faiss.index_factory(data.shape[1], spec, faiss.METRIC_INNER_PRODUCT)
    if "HNSW" in spec:
        faiss.downcast_index(index).hnsw.efConstruction = ef_construction
    if not index.is_trained:
        sample = data[np.random.default_rng(0).permutation(len(data))[: 64 * nlist_for(len(data))]]
        index.train(sample)
    index.add(data)
    if "IVF" in spec:
        faiss.extract_index_ivf(index).make_direct_map()  # reconstruct() needs it
    return index


def set_param(index: faiss.Index, name: str, value: int) -> None:
    if name == "efSearch":
        faiss.downcast_index(index).hnsw.efSearch = value
    elif name == "nprobe":
        faiss.extract_index_ivf(index).nprobe = value


def recall(found: np.ndarray, truth: np.ndarray, k: int) -> float:
    return float(np.mean([len(set(f[:k]) & set(t[:k])) / k for f, t in zip(found, truth, strict=True)]))


def latency_ms(index: faiss.Index, queries: np.ndarray, k: int, runs: int) -> tuple[float, float]:
    times = []
    for q in queries[:runs]:
        started = time.perf_counter()
        vectors.search(index, q[None, :], k)
        times.append((time.perf_counter() - started) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="50000,1000000")
    parser.add_argument("--kinds", default="flat,hnsw,hnsw_fp16,hnsw_sq8,ivf,ivf_fp16,ivf_sq8,auto")
    parser.add_argument("--queries", type=int, default=1000, help="real questions for recall")
    parser.add_argument("--timed", type=int, default=300, help="of those, timed one at a time")
    parser.add_argument("--ef-construction", type=int, default=40)
    parser.add_argument("--threads", type=int, default=0, help="faiss OpenMP threads (0: as index/vectors.py sets)")
    parser.add_argument("--out", default="vector_scale")
    args = parser.parse_args()

    head = header()
    if args.threads:
        faiss.omp_set_num_threads(args.threads)
    threads = faiss.omp_get_max_threads()
    base, questions, (alpha, target) = corpus.benchmark_vectors(args.queries)
    print(f"{len(base)} real passage vectors, {len(questions)} real queries; alpha {alpha:.3f} (cos {target:.3f})")

    body = [
        f"Real passage embeddings: {len(base)}; real question embeddings: {len(questions)} "
        f"(recall over all of them, latency over the first {args.timed}, one query at a time, k=10).",
        f"Past {len(base)} vectors the set is perturbed copies, normalize(v_i + {alpha:.3f}·(v_j − v_k)): "
        f"alpha calibrated so a copy's median cosine to its original is {target:.3f}, that of real text "
        "variants (passage + one sentence of another passage) embedded by the model.",
        f"FAISS OpenMP threads: {threads}; HNSW M=32, efConstruction={args.ef_construction}; "
        "IVF nlist = 4·√n rounded to a power of two, trained on 64·nlist vectors.",
        "Bytes/vector = serialized index size / n (what sits in RAM and on disk).",
        "",
        "| n | index | build s | bytes/vector | reconstruct | param | recall@10 | recall@50 | p50 ms | p95 ms |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n in [int(s) for s in args.sizes.split(",")]:
        data = corpus.perturbed(base, n, alpha)
        started = time.perf_counter()
        exact = faiss.IndexFlatIP(data.shape[1])
        exact.add(data)
        _, truth = exact.search(questions, 50)
        print(f"n={n}: exact ground truth in {time.perf_counter() - started:.1f}s", flush=True)
        del exact
        for kind in args.kinds.split(","):
            gc.collect()
            started = time.perf_counter()
            index = make(kind, data, args.ef_construction)
            built = time.perf_counter() - started
            size = faiss.serialize_index(index).nbytes
            try:
                back = vectors.all_vectors(index)
                err = float(np.abs(back[:: max(1, n // 1000)] - data[:: max(1, n // 1000)]).max())
                rec = "exact" if err == 0 else f"max err {err:.1e}"
                del back
            except RuntimeError as exc:
                rec = f"no ({str(exc).splitlines()[0][:40]})"
            label = kind if kind != "auto" else f"auto = {type(index).__name__}"
            params = [(name, v) for name, values in CANDIDATES[kind][1].items() for v in values] or [("-", 0)]
            for name, value in params:
                set_param(index, name, value)
                _, found = index.search(questions, 50)
                runs = args.timed if n < 500_000 or kind != "flat" else min(args.timed, 50)
                p50, p95 = latency_ms(index, questions, 10, runs)
                row = (
                    f"| {n:,} | {label} | {built:.1f} | {size / n:.0f} | {rec} | {name}={value} | "
                    f"{recall(found, truth, 10):.3f} | {recall(found, truth, 50):.3f} | {p50:.2f} | {p95:.2f} |"
                )
                print(row, flush=True)
                body.append(row)
            del index
        del data
    write_results(args.out, head, body, title="Vector search at scale (bench/vector_scale.py)")


if __name__ == "__main__":
    main()
