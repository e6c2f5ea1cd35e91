"""Full build vs. an incremental refresh after adding one article, on N articles (default 200).

Articles are assembled from benchmark passages (five per article, in a temporary corpus dir).
Run: .venv/bin/python -m bench.refresh [--articles 200]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import header, write_results
from bench.corpus import passages
from index.build import build_index
from index.embed import load_embedder
from index.settings import get_settings

PER_ARTICLE = 5


def write_corpus(folder: Path, texts: list[str], count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        body = "\n\n".join(texts[i * PER_ARTICLE : (i + 1) * PER_ARTICLE])
        (folder / f"artikel-{i:04d}.txt").write_text(f"Artikel {i}\n\n{body}\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3, help="refreshes to time (each adds one article)")
    args = parser.parse_args()
    head = header()
    settings = get_settings()
    embedder = load_embedder(settings.embedding_model, settings.model_cache_dir)
    texts = passages((args.articles + args.repeat) * PER_ARTICLE)

    with tempfile.TemporaryDirectory(prefix="kabar-refresh-") as tmp:
        corpus, index_dir = Path(tmp) / "corpus", Path(tmp) / "index"
        write_corpus(corpus, texts, args.articles)
        started = time.perf_counter()
        full = build_index(corpus, index_dir, embedder, rebuild=True)
        full_s = time.perf_counter() - started
        print(f"full build: {full.summary()} in {full_s:.1f}s", flush=True)

        refresh_s, refreshes = [], []
        for extra in range(args.repeat):
            n = args.articles + extra
            write_corpus(corpus, texts, n + 1)  # rewrites the same files, adds one
            started = time.perf_counter()
            report = build_index(corpus, index_dir, embedder)
            refresh_s.append(time.perf_counter() - started)
            refreshes.append(report)
            print(f"refresh +1 article: {report.summary()} in {refresh_s[-1]:.2f}s", flush=True)

        started = time.perf_counter()
        unchanged = build_index(corpus, index_dir, embedder)
        unchanged_s = time.perf_counter() - started

    median = statistics.median(refresh_s)
    body = [
        "| run | articles | passages | embedded | reused | seconds |",
        "|---|---|---|---|---|---|",
        f"| full build (`--rebuild`) | {full.articles} | {full.passages} | {full.embedded} | {full.reused} "
        f"| {full_s:.2f} |",
        *(
            f"| refresh after adding 1 article | {r.articles} | {r.passages} | {r.embedded} | {r.reused} | {s:.2f} |"
            for r, s in zip(refreshes, refresh_s, strict=True)
        ),
        f"| refresh, nothing changed | {unchanged.articles} | {unchanged.passages} | {unchanged.embedded} "
        f"| {unchanged.reused} | {unchanged_s:.2f} |",
        "",
        f"Median refresh after adding one article: {median:.2f} s = **{median / full_s:.1%} of the full build** "
        f"(target ≤ 2 %); it embedded {refreshes[0].embedded} of {refreshes[0].passages} passages.",
    ]
    print("\n".join(body))
    write_results("refresh", head, body, title="Full build vs. incremental refresh")


if __name__ == "__main__":
    main()
