"""Vector search alone at up to 1M vectors: which FAISS index, with which parameters.

Real question embeddings search a set of real passage embeddings (~6k, facqa + tydiqa_id)
padded with perturbed copies of them (see bench/corpus.perturbed; the perturbation is
calibrated so a copy is as close to its original as a real text variant is). Embedding
1M passages on 2 cores would take days; the perturbed set is what makes 1M measurable.

For each size: exact ground truth (IndexFlatIP), then each candidate index: build time,
bytes per vector (serialized size), whether reconstruct works, and per search parameter
recall@10 / recall@50 against exact and single-query latency (nq=1, k=50, as the app searches).

    .venv/bin/python -m bench.vector_scale      # 50k, 200k, 1M; the main candidates (~40 min on 2 cores)
    .venv/bin/python -m bench.vector_scale --sizes 1000000 --kinds hnsw,ivf_sq8_refine,ivf_pqfs_refine
"""

from __future__ import annotations

import argparse
import gc
import itertools
import time

import faiss
import numpy as np

from bench import corpus
from bench.common import header, write_results
from index import vectors

TIE = 0.01  # cosine difference under which two neighbours count as equally good (near-recall)
DEPTH = 50  # index/search.py asks the vectors for this many candidates (SearchConfig.depth)

# name → (factory string, {search parameter: values}); "auto" is what index/vectors.py builds.
CANDIDATES = {
    "flat": ("Flat", {}),
    "hnsw": ("HNSW32,Flat", {"efSearch": [16, 32, 64, 128, 256]}),
    "hnsw_fp16": ("HNSW32,SQfp16", {"efSearch": [32, 64, 128, 256]}),
    "hnsw_sq8": ("HNSW32,SQ8", {"efSearch": [32, 64, 128, 256]}),
    "ivf": ("IVF{nlist},Flat", {"nprobe": [8, 16, 32, 64, 128]}),
    "ivf_fp16": ("IVF{nlist},SQfp16", {"nprobe": [64, 128, 256]}),
    "ivf_sq8": ("IVF{nlist},SQ8", {"nprobe": [64, 128, 256, 512]}),
    "ivf_sq8_refine": ("IVF{nlist},SQ8,Refine(SQfp16)", {"nprobe": [64, 128, 256, 512]}),
    "ivf_pqfs_refine": ("IVF{nlist},PQ64x4fs,Refine(SQfp16)", {"nprobe": [256, 512, 1024], "k_factor": [16, 64, 128]}),
    "ivf_pq128fs_refine": ("IVF{nlist},PQ128x4fs,Refine(SQfp16)", {"nprobe": [256, 512, 1024], "k_factor": [16, 64]}),
    "ivf_pq_refine": ("IVF{nlist},PQ48,Refine(SQfp16)", {"nprobe": [128, 256, 512], "k_factor": [4, 16]}),
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
    if "IVF" in spec and "Refine" not in spec:
        faiss.extract_index_ivf(index).make_direct_map()  # reconstruct() needs it
    return index


def describe(index: faiss.Index) -> str:
    if isinstance(index, faiss.IndexRefine):
        ivf = faiss.extract_index_ivf(index)
        pq = faiss.downcast_index(index.base_index).pq
        return f"IVF{ivf.nlist},PQ{pq.M}x{pq.nbits}fs,Refine(SQfp16) nprobe={ivf.nprobe} k_factor={index.k_factor:g}"
    return type(index).__name__


def set_param(index: faiss.Index, name: str, value: int) -> None:
    if name == "efSearch":
        faiss.downcast_index(index).hnsw.efSearch = value
    elif name == "nprobe":
        faiss.extract_index_ivf(index).nprobe = value
    elif name == "k_factor":  # Refine: re-rank k_factor·k candidates with the float16 copy
        faiss.downcast_index(index).k_factor = value


def recall(found: np.ndarray, truth: np.ndarray, k: int) -> float:
    return float(np.mean([len(set(f[:k]) & set(t[:k])) / k for f, t in zip(found, truth, strict=True)]))


def near_recall(found: np.ndarray, data: np.ndarray, queries: np.ndarray, kth: np.ndarray, k: int) -> float:
    """Share of the returned top k whose exact score is within TIE of the exact k-th best score:
    recall that does not count swapping near-equal neighbours as a miss."""
    scores = np.einsum("qkd,qd->qk", data[np.maximum(found[:, :k], 0)], queries)
    return float(np.mean((scores >= kth[:, None] - TIE) & (found[:, :k] >= 0)))


def latency_ms(index: faiss.Index, queries: np.ndarray, k: int, runs: int) -> tuple[float, float]:
    times = []
    for q in queries[:runs]:
        started = time.perf_counter()
        vectors.search(index, q[None, :], k)
        times.append((time.perf_counter() - started) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="50000,200000,1000000")
    parser.add_argument("--kinds", default="flat,hnsw_fp16,ivf,ivf_pq128fs_refine,auto")
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
        f"(recall over all of them, latency over the first {args.timed}, one query at a time, "
        f"k={DEPTH} as index/search.py asks).",
        f"Past {len(base)} vectors the set is perturbed copies, normalize(v_i + {alpha:.3f}·(v_j − v_k)): "
        f"alpha calibrated so a copy's median cosine to its original is {target:.3f}, that of real text "
        "variants (a sentence of another passage + the passage + a sentence of a third) embedded by the model.",
        f"FAISS OpenMP threads for building and batch recall: {threads}; one query at a time runs on one "
        f"(index/vectors.search). HNSW M=32, efConstruction={args.ef_construction}; IVF nlist = 4·√n rounded to a "
        "power of two, trained on 64·nlist vectors; Refine(SQfp16) re-ranks k_factor·k PQ candidates with "
        "float16 vectors. `auto` is what index/vectors.py builds for that size, with its own parameters.",
        "Bytes/vector = serialized index size / n (what sits in RAM and on disk).",
        "",
        f"Near-recall@10: share of the returned top 10 whose exact cosine is within {TIE} of the exact 10th best "
        "(a swap between near-equal neighbours is no loss to the answer).",
        "",
        "| n | index | build s | bytes/vector | reconstruct | param | recall@10 | near-recall@10 | recall@50 "
        "| p50 ms | p95 ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n in [int(s) for s in args.sizes.split(",")]:
        data = corpus.perturbed(base, n, alpha)
        faiss.omp_set_num_threads(threads)
        started = time.perf_counter()
        exact = faiss.IndexFlatIP(data.shape[1])
        exact.add(data)
        truth_scores, truth = exact.search(questions, DEPTH)
        print(f"n={n}: exact ground truth in {time.perf_counter() - started:.1f}s", flush=True)
        del exact
        for kind in args.kinds.split(","):
            gc.collect()
            started = time.perf_counter()
            index = make(kind, data, args.ef_construction)
            built = time.perf_counter() - started
            faiss.omp_set_num_threads(threads)  # vectors.build leaves this thread at 1
            size = faiss.serialize_index(index).nbytes
            try:
                back = vectors.all_vectors(index)
                err = float(np.abs(back[:: max(1, n // 1000)] - data[:: max(1, n // 1000)]).max())
                rec = "exact" if err == 0 else f"max err {err:.1e}"
                del back
            except RuntimeError as exc:
                rec = f"no ({str(exc).splitlines()[0][:40]})"
            label = kind if kind != "auto" else f"auto = {describe(index)}"
            grid = CANDIDATES[kind][1]
            for values in itertools.product(*grid.values()):
                for name, value in zip(grid, values, strict=True):
                    set_param(index, name, value)
                label_params = ", ".join(f"{name}={value}" for name, value in zip(grid, values, strict=True)) or "-"
                _, found = index.search(questions, DEPTH)
                runs = args.timed if n < 500_000 or kind != "flat" else min(args.timed, 50)
                p50, p95 = latency_ms(index, questions, DEPTH, runs)
                row = (
                    f"| {n:,} | {label} | {built:.1f} | {size / n:.0f} | {rec} | {label_params} | "
                    f"{recall(found, truth, 10):.3f} | "
                    f"{near_recall(found, data, questions, truth_scores[:, 9], 10):.3f} | "
                    f"{recall(found, truth, 50):.3f} | {p50:.2f} | {p95:.2f} |"
                )
                print(row, flush=True)
                body.append(row)
            del index
        del data
    write_results(args.out, head, body, title="Vector search at scale (bench/vector_scale.py)")


if __name__ == "__main__":
    main()
