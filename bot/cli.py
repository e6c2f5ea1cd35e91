"""`kabar`: build the index and ask questions from the terminal."""

from __future__ import annotations

import json
import logging
import sys
import time
from functools import partial
from pathlib import Path
from typing import Annotated

import typer

from bot.eval_cli import eval_command
from bot.format import citation
from index.models import Answer
from index.settings import get_settings

log = logging.getLogger("kabar")
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
    from index.checker import CheckerUnavailable
    from index.convert import BundledModelUnavailable
    from index.engine import Engine
    from index.store import IndexUnavailable

    try:
        return Engine.open(get_settings(), build_if_missing=build_if_missing)
    except (BundledModelUnavailable, IndexUnavailable, CheckerUnavailable) as exc:
        raise _fail(str(exc)) from None


def display_path(path: str) -> str:
    """Relative to the working directory when the file is below it: shorter and still openable."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return path


def answer_json(answer: Answer) -> dict:
    """The `--json` contract: question, found, answer (what was shown), confidence, closest_article,
    language, generated, prompt_version, passages[text,title,outlet,date,path,score]."""
    return {
        "question": answer.question,
        "found": answer.found,
        "answer": answer.text,
        "confidence": round(answer.confidence, 4),
        "closest_article": answer.closest,
        "language": answer.language,
        "generated": answer.generated,
        "prompt_version": answer.prompt_version or None,
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


CLOSEST = {"id": "artikel terdekat: {title}", "en": "closest article: {title}"}


def answer_text(answer: Answer) -> str:
    lines = [answer.text]
    if answer.closest:
        lines.append(CLOSEST[answer.language].format(title=answer.closest))
    if answer.from_byline:  # the article's metadata answered: cite the article, quote no passage
        source = answer.hits[0].article
        return "\n".join(lines + ["", f"    — {citation(source)} ({display_path(source.path)})"])
    for i, hit in enumerate(answer.hits, 1):
        lines += ["", f"[{i}] {hit.passage.text}", f"    — {citation(hit.article)} ({display_path(hit.article.path)})"]
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
        build = partial(
            build_index,
            settings.corpus_dir,
            settings.index_dir,
            embedder,
            rebuild=rebuild,
            progress=sys.stderr.isatty(),
        )
        try:
            report = build(lock_timeout=0)
        except IndexBusy:
            typer.echo("another refresh of this index is running; waiting for it to finish…", err=True)
            report = build(lock_timeout=600)
    except (BundledModelUnavailable, IndexBusy) as exc:
        raise _fail(str(exc)) from None
    for skip in report.skipped:
        typer.echo(f"skipped {skip.path}: {skip.reason}", err=True)
    for kept, dropped in report.duplicates:
        typer.echo(f"duplicate: {dropped} is the same article as {kept}; indexed once", err=True)
    for first, second, similarity in report.near_duplicates:
        typer.echo(f"near-duplicate: {second} resembles {first} ({similarity:.0%} shared); both kept", err=True)
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
    no_llm: Annotated[bool, typer.Option("--no-llm", help="Quote the articles even if a model is configured.")] = False,
) -> None:
    """Answer a question from the indexed articles, with citations."""
    _setup_logging(verbose)
    settings = get_settings()
    writer = None
    if settings.llm_enabled and not no_llm:
        from bot.app import language_model

        writer = language_model(settings)
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
        if writer and result.found:
            result = _written(writer, q, result)
        if as_json:
            typer.echo(json.dumps(answer_json(result), ensure_ascii=False))
        else:
            typer.echo(answer_text(result) + ("\n" if question == "-" else ""))


def _written(writer, question: str, answer: Answer) -> Answer:
    """The model's answer when it passes the citation check; the quoted one on any failure."""
    import openai

    from index.generate import shown

    try:
        written = writer.write(question, answer, len(answer.hits))
    except openai.OpenAIError as exc:
        log.warning("the language model failed (%s); quoting the articles", type(exc).__name__)
        return answer
    if written.verdict != "ok":
        log.info("the language model's reply was not used: %s", written.verdict)
    return shown(answer, written)


def _refresh_after_change() -> None:
    """Index right away, so the change is searchable when the command returns."""
    index(rebuild=False, verbose=False)


@app.command()
def add(
    source: Annotated[str, typer.Argument(help='A URL, a .txt/.md/.html file, or "-" for text on stdin.')],
    no_index: Annotated[bool, typer.Option("--no-index", help="Only save it into the corpus.")] = False,
) -> None:
    """Add an article to the corpus (fetched, cleaned, saved with front matter) and index it."""
    from index import ingest

    settings = get_settings()
    try:
        if source == "-":
            article = ingest.from_text(sys.stdin.read())
        elif source.startswith(("http://", "https://")) or "://" in source:
            article = ingest.from_url(source, settings.fetch_policy)
        else:
            path = Path(source)
            if not path.is_file():
                raise ingest.IngestError(f"No such file: {source}")
            article = ingest.from_upload(path.name, path.read_bytes())
        saved = ingest.save(settings.corpus_dir, article)
    except (ingest.IngestError, OSError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"added {display_path(str(saved))}: {article.title} ({article.outlet or 'unknown outlet'})")
    if not no_index:
        _refresh_after_change()


@app.command()
def remove(
    article: Annotated[
        str, typer.Argument(help="Its number in `kabar sources` (as in /sources), its file, or a unique title piece.")
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before removing.")] = False,
    no_index: Annotated[bool, typer.Option("--no-index", help="Only remove it from the corpus.")] = False,
) -> None:
    """Remove an article: its file goes to the corpus's .trash folder, then the index is refreshed."""
    from index import ingest
    from index.loader import load_corpus

    settings = get_settings()
    articles, _ = load_corpus(settings.corpus_dir)
    try:
        target = ingest.resolve(articles, article)
    except ingest.IngestError as exc:
        raise _fail(str(exc)) from None
    if not yes and not typer.confirm(f"Remove {target.id}: {target.title}?", default=False):
        raise _fail("Nothing removed.")
    try:
        path = ingest.remove(settings.corpus_dir, target)
    except (ingest.IngestError, OSError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"removed {target.id}: {target.title} (moved to {display_path(str(path))})")
    if not no_index:
        _refresh_after_change()


@app.command()
def sources() -> None:
    """List the articles in the corpus, numbered as /sources numbers them (newest first)."""
    from index.ingest import newest_first
    from index.loader import load_corpus

    articles, skipped = load_corpus(get_settings().corpus_dir)
    for number, article in enumerate(newest_first(articles), 1):
        byline = " · ".join(p for p in (article.outlet, article.date, article.title) if p)
        typer.echo(f"{number}\t{article.id}\t{byline}")
    for skip in skipped:
        typer.echo(f"skipped {skip.path}: {skip.reason}", err=True)


@app.command()
def feeds() -> None:
    """Poll KABAR_FEEDS once: fetch new entries into the corpus, then index."""
    from index import feeds as feed_poller

    settings = get_settings()
    if not settings.feeds:
        raise _fail("KABAR_FEEDS is empty: set it to comma-separated RSS/Atom URLs.", 2)
    report = feed_poller.poll(list(settings.feeds), settings.corpus_dir, settings.feeds_state, settings.fetch_policy)
    for path in report.added:
        typer.echo(f"added {display_path(str(path))}")
    for url, why in report.failed:
        typer.echo(f"failed {url}: {why}", err=True)
    typer.echo(f"{len(report.added)} added, {report.skipped} already seen, {len(report.failed)} failed")
    if report.added:
        _refresh_after_change()


@app.command()
def serve() -> None:
    """Run the Telegram bot (long polling, or a webhook when KABAR_WEBHOOK_URL is set)."""
    from bot.app import TokenMalformed, check_token, run, setup_logging
    from index.checker import CheckerUnavailable
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
    except (BundledModelUnavailable, IndexUnavailable, CheckerUnavailable) as exc:
        raise _fail(str(exc)) from None


app.command("eval")(eval_command)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
