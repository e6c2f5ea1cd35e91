"""`kabar eval BENCH_DIR`: retrieval and answer quality of the shipped pipeline on a benchmark."""

from __future__ import annotations

import json
import logging
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from index.settings import get_settings


class Mode(StrEnum):
    hybrid = "hybrid"
    dense = "dense"
    bm25 = "bm25"


def eval_command(
    bench_dir: Annotated[
        Path, typer.Argument(help="Folder with corpus.jsonl + queries.jsonl (BEIR-like).", exists=True, file_okay=False)
    ],
    unanswerable: Annotated[
        Path | None,
        typer.Option(
            "--unanswerable",
            help="JSONL of unanswerable questions (default: unanswerable_idk_mrc.jsonl in BENCH_DIR, if present).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    split: Annotated[
        list[str] | None, typer.Option("--split", help="Source split(s) to evaluate (repeatable; default: all).")
    ] = None,
    mode: Annotated[
        list[Mode] | None, typer.Option("--mode", help="Retriever (repeatable): hybrid (shipped), dense, bm25.")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
    limit: Annotated[int, typer.Option("--limit", help="Use only the first N questions of each file (0: all).")] = 0,
    cache_dir: Annotated[
        Path | None, typer.Option("--cache-dir", help="Embedding cache (default: KABAR_DATA_DIR/eval-cache).")
    ] = None,
) -> None:
    """Index a benchmark with the real pipeline and report recall@k, MRR@10, answer hits and abstention."""
    from index.convert import BundledModelUnavailable
    from index.embed import load_embedder
    from index.evaluate import evaluate, metrics_table

    logging.basicConfig(level=logging.WARNING)
    for noisy in ("bm25s", "sentence_transformers", "faiss"):  # bm25s logs index building at DEBUG
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = get_settings()
    try:
        embedder = load_embedder(settings.embedding_model, settings.model_cache_dir)
    except BundledModelUnavailable as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    results = evaluate(
        bench_dir,
        embedder,
        unanswerable=unanswerable,
        splits=split or (),
        modes=[m.value for m in mode or [Mode.hybrid]],
        limit=limit,
        cache_dir=cache_dir or settings.data_dir / "eval-cache",
        progress=sys.stderr.isatty(),
    )
    if json_output:
        typer.echo(json.dumps([r.to_json() for r in results], ensure_ascii=False, indent=2))
    else:
        typer.echo(metrics_table(results))
