"""`kabar`: build the index and ask questions from the terminal."""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from index.models import Answer
from index.settings import get_settings

app = typer.Typer(help="Kabar answers questions from news articles, with citations.", no_args_is_help=True)


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "httpcore", "sentence_transformers", "bm25s", "faiss"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _open_engine(build_if_missing: bool = True):
    from index.convert import BundledModelUnavailable
    from index.engine import Engine
    from index.store import IndexUnavailable

    try:
        return Engine.open(get_settings(), build_if_missing=build_if_missing)
    except (BundledModelUnavailable, IndexUnavailable) as exc:
        raise _fail(str(exc)) from None


def display_path(path: str) -> str:
    """Relative to the working directory when the file is below it: shorter and still openable."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return path


def answer_json(answer: Answer) -> dict:
    """The `--json` contract: question, found, answer, passages[text,title,outlet,date,path,score]."""
    return {
        "question": answer.question,
        "found": answer.found,
        "answer": answer.text,
        "passages": [
            {
                "text": hit.passage.text,
                "title": hit.article.title,
                "outlet": hit.article.outlet,
                "date": hit.article.date,
                "path": display_path(hit.article.path),
                "score": round(hit.score, 4),
            }
            for hit in answer.hits
        ],
    }


def citation(hit) -> str:
    parts = [hit.article.outlet, hit.article.date, hit.article.title]
    return " · ".join(p for p in parts if p)


def answer_text(answer: Answer) -> str:
    lines = [answer.text]
    for i, hit in enumerate(answer.hits, 1):
        lines += ["", f"[{i}] {hit.passage.text}", f"    — {citation(hit)} ({display_path(hit.article.path)})"]
    return "\n".join(lines)


@app.command()
def index(
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Re-embed everything from scratch.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Build or update the index from KABAR_CORPUS_DIR."""
    from index.build import IndexBusy, build_index
    from index.convert import BundledModelUnavailable
    from index.embed import load_embedder

    _setup_logging(verbose)
    settings = get_settings()
    started = time.perf_counter()
    try:
        embedder = load_embedder(settings.embedding_model, settings.model_cache_dir)
        report = build_index(
            settings.corpus_dir, settings.index_dir, embedder, rebuild=rebuild, progress=sys.stderr.isatty()
        )
    except (BundledModelUnavailable, IndexBusy) as exc:
        raise _fail(str(exc)) from None
    for skip in report.skipped:
        typer.echo(f"skipped {skip.path}: {skip.reason}", err=True)
    for kept, dropped in report.duplicates:
        typer.echo(f"duplicate: {dropped} has the same text as {kept}; indexed once", err=True)
    typer.echo(report.summary())
    typer.echo(
        f"{report.added} added, {report.updated} updated, {report.removed} removed, {report.unchanged} unchanged "
        f"in {time.perf_counter() - started:.1f}s"
    )


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help='The question, or "-" to read one question per line from stdin.')],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per question.")] = False,
    k: Annotated[int, typer.Option("-k", help="How many passages to cite.")] = 0,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Answer a question from the indexed articles, with citations."""
    _setup_logging(verbose)
    settings = get_settings()
    questions = (line.strip() for line in sys.stdin) if question == "-" else iter([question])
    engine = None
    for q in questions:
        if not q.strip():
            if question != "-":
                raise _fail("The question is empty.", 2)
            continue
        if len(q) > settings.max_question_chars:
            typer.echo(f"question cut to {settings.max_question_chars} characters", err=True)
            q = q[: settings.max_question_chars]
        engine = engine or _open_engine()
        result = engine.ask(q, k=k or settings.top_k)
        if as_json:
            typer.echo(json.dumps(answer_json(result), ensure_ascii=False))
        else:
            typer.echo(answer_text(result) + ("\n" if question == "-" else ""))


@app.command()
def serve() -> None:
    """Run the Telegram bot (long polling, or a webhook when KABAR_WEBHOOK_URL is set)."""
    from bot.app import TokenMalformed, check_token, run, setup_logging
    from index.convert import BundledModelUnavailable
    from index.store import IndexUnavailable

    settings = get_settings()
    try:
        token = check_token(settings)
    except TokenMalformed as exc:
        raise _fail(str(exc), 2) from None
    setup_logging(token)
    try:
        run(settings, token)
    except (BundledModelUnavailable, IndexUnavailable) as exc:
        raise _fail(str(exc)) from None


def main() -> None:
    app()


if __name__ == "__main__":
    main()
