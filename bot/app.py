"""The Telegram Application, wired in one place: settings → engine → handlers → polling or webhook."""

from __future__ import annotations

import asyncio
import logging
import pickle
import re
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import NetworkError, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    PersistenceInput,
    PicklePersistence,
    TypeHandler,
    filters,
)

from bot import admin, limits, questions, sources
from bot.context import Context, KabarApp
from bot.errors import on_error
from index import store
from index.engine import Engine
from index.settings import Settings

log = logging.getLogger(__name__)

TOKEN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{30,}$")
INDEX_WATCH_SECONDS = 5
STATE_FILE = "bot-state.pickle"  # in the data dir: what buttons and follow-ups need across restarts
STATE_FLUSH_SECONDS = 5
QUESTION_THREADS = 2
UNDELIVERED = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)  # never reached Telegram
FEED_FIRST_SECONDS = 60  # the first feed poll, soon after start; then every KABAR_FEED_INTERVAL minutes

COMMANDS = {
    "id": [
        ("ask", "Tanya sesuatu (di grup: /ask pertanyaan)"),
        ("sources", "Daftar artikel"),
        ("help", "Cara memakai Kabar"),
    ],
    "en": [
        ("ask", "Ask a question (in groups: /ask question)"),
        ("sources", "List the articles"),
        ("help", "How to use Kabar"),
    ],
}
# Admins see these too, in a menu scoped to their own chat with the bot; nobody else does.
ADMIN_COMMANDS = {
    "id": [
        ("add", "Tambah artikel: /add URL, atau /add lalu teksnya"),
        ("remove", "Hapus artikel (nama berkas, nomor, atau judul)"),
        ("refresh", "Perbarui indeks dari folder korpus"),
    ],
    "en": [
        ("add", "Add an article: /add URL, or /add and its text"),
        ("remove", "Remove an article (file name, number or title)"),
        ("refresh", "Refresh the index from the corpus folder"),
    ],
}


class TokenMalformed(ValueError):
    pass


def check_token(settings: Settings) -> str:
    """The token, or one clear line (that never contains it)."""
    token = settings.telegram_bot_token.get_secret_value().strip() if settings.telegram_bot_token else ""
    if not token:
        raise TokenMalformed("TELEGRAM_BOT_TOKEN is not set: get one from @BotFather and put it in .env.")
    if not TOKEN.match(token):
        raise TokenMalformed("TELEGRAM_BOT_TOKEN is malformed: it should look like 123456789:AAH… (from @BotFather).")
    return token


class RedactToken:
    """A log record factory: every record, from any library, has the token replaced by `<token>`.

    httpx logs each request URL, and Bot API URLs contain the token; so may an exception
    message. A factory sees every record before any handler (or pytest's caplog) does.
    """

    tokens: set[str] = set()

    def __init__(self, make):
        self.make = make

    @classmethod
    def install(cls, token: str) -> None:
        if not any(isinstance(f, cls) for f in _factories()):
            logging.setLogRecordFactory(cls(logging.getLogRecordFactory()))
        cls.tokens.add(token)

    def __call__(self, *args, **kwargs) -> logging.LogRecord:
        record = self.make(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to logging to report
            return record
        if any(token in message for token in self.tokens):
            record.msg, record.args = self.redact(message), None
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            if any(token in text for token in self.tokens):
                record.exc_text = self.redact(text)
        return record

    def redact(self, text: str) -> str:
        for token in self.tokens:
            text = text.replace(token, "<token>")
        return text


def _factories():
    factory = logging.getLogRecordFactory()
    while factory is not None:
        yield factory
        factory = getattr(factory, "make", None)


def hide_token(token: str) -> None:
    """httpx's request lines (with the token) off at INFO, and the token redacted from any record."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    RedactToken.install(token)


def setup_logging(token: str) -> None:
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    for noisy in ("httpcore", "apscheduler", "sentence_transformers", "bm25s"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    hide_token(token)


class RetryingRateLimiter(AIORateLimiter):
    """AIORateLimiter waits out RetryAfter; this also retries requests that cannot have been delivered.

    Only a failed connection or a full connection pool is retried. A read error, a timeout or a 5xx
    may come after Telegram delivered the message, and a retry would send the answer twice. The
    typing action skips the queue: it is cosmetic, must be immediate, and should not spend a
    group's 20 messages a minute.
    """

    retries = 2

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):
        if endpoint == "sendChatAction":
            return await callback(*args, **kwargs)
        for attempt in range(self.retries + 1):
            try:
                return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
            except NetworkError as exc:
                undelivered = isinstance(exc.__cause__, UNDELIVERED)
                if not undelivered or attempt == self.retries or endpoint == "getUpdates":
                    raise
                log.warning("%s was not delivered (%s); retrying", endpoint, exc)
                await asyncio.sleep(0.5 * (attempt + 1))


async def _post_init(app: Application) -> None:
    """The command menu: Indonesian by default, English for English-speaking users; admins also
    get /add, /remove and /refresh in their own chat (an admin who never opened one is skipped)."""
    for language, commands in COMMANDS.items():
        try:
            await app.bot.set_my_commands(
                [BotCommand(c, d) for c, d in commands], language_code=None if language == "id" else language
            )
        except TelegramError as exc:  # a menu is a nicety: never refuse to start over it
            log.warning("could not set the %s command menu: %s", language, exc)
    for admin_id in sorted(app.bot_data["settings"].admin_ids):
        for language, commands in COMMANDS.items():
            menu = [BotCommand(c, d) for c, d in commands + ADMIN_COMMANDS[language]]
            try:
                await app.bot.set_my_commands(
                    menu, scope=BotCommandScopeChat(admin_id), language_code=None if language == "id" else language
                )
            except TelegramError as exc:
                log.warning("could not set the admin command menu for %s: %s", admin_id, exc)
                break


async def _watch_index(context: Context) -> None:
    """Pick up an index refreshed by `kabar index` in another process."""
    engine = context.engine
    current = engine.snapshot.path.name if engine.snapshot else None
    if store.current_version(engine.settings.index_dir) in (None, current):
        return  # the usual case, decided on the loop: a worker thread may be busy with questions
    try:
        if await asyncio.to_thread(engine.reload_if_changed):
            log.info("loaded the refreshed index %s", engine.snapshot.version)
    except Exception:
        log.exception("could not load the refreshed index; still serving the previous one")


async def _poll_feeds(context: Context) -> None:
    """Fetch new entries of KABAR_FEEDS into the corpus and index them; questions go on meanwhile."""
    from index import feeds

    settings = context.settings
    try:
        report = await asyncio.to_thread(
            feeds.poll, list(settings.feeds), settings.corpus_dir, settings.feeds_state, settings.fetch_policy
        )
        if report.added:
            await asyncio.shield(asyncio.wrap_future(context.engine.refresh_soon()))
            log.info("feeds: %d new articles indexed", len(report.added))
    except Exception:
        log.exception("feed poll failed; trying again at the next interval")


def usable_state(path: Path) -> Path:
    """The persistence file, after setting a damaged one aside (buttons under old answers then expire
    politely) instead of failing to start."""
    if path.exists():
        try:
            with path.open("rb") as handle:
                state = pickle.load(handle)
            if not isinstance(state, dict):
                raise ValueError(f"a {type(state).__name__}, not a dict")
        except Exception as error:  # noqa: BLE001 (any damage means the same)
            aside = path.with_name(f"{path.name}.damaged-{int(time.time())}")
            path.replace(aside)
            log.warning("bot state %s is damaged (%s): moved to %s, starting afresh", path, error, aside.name)
    return path


def _persistence(settings: Settings) -> PicklePersistence:
    """Chats' follow-up questions and the buttons' records; the engine and settings (bot_data) never."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return PicklePersistence(
        usable_state(settings.data_dir / STATE_FILE),
        store_data=PersistenceInput(bot_data=False, chat_data=True, user_data=False, callback_data=True),
        update_interval=STATE_FLUSH_SECONDS,
    )


def language_model(settings: Settings):
    """The language model behind generated answers, if configured; its key is redacted from every log."""
    if not settings.llm_enabled:
        return None
    from index.generate import Writer

    if settings.llm_api_key:
        RedactToken.install(settings.llm_api_key.get_secret_value())
    return Writer(settings)


async def _post_shutdown(app: Application) -> None:
    app.bot_data["questions"].shutdown(wait=False, cancel_futures=True)


def build_application(settings: Settings, engine: Engine, token: str) -> KabarApp:
    hide_token(token)
    builder = (
        ApplicationBuilder()
        .token(token)
        .context_types(ContextTypes(context=Context))
        .persistence(_persistence(settings))
        .arbitrary_callback_data(4096)
        .rate_limiter(RetryingRateLimiter(max_retries=3))
        .concurrent_updates(True)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    if settings.telegram_base_url:
        base = settings.telegram_base_url.rstrip("/")
        builder = builder.base_url(base).base_file_url(base.removesuffix("/bot") + "/file/bot")
    app = builder.build()
    pool = ThreadPoolExecutor(QUESTION_THREADS, thread_name_prefix="kabar-question")
    app.bot_data.update(engine=engine, settings=settings, questions=pool, writer=language_model(settings))

    app.add_handler(TypeHandler(Update, limits.rate_limit), group=-1)
    # New messages only: edited messages and channel posts match nothing and get silence.
    new, private, groups = filters.UpdateType.MESSAGE, filters.ChatType.PRIVATE, filters.ChatType.GROUPS
    app.add_handler(CommandHandler(["start", "help"], sources.help_command, filters=new))
    app.add_handler(CommandHandler("ask", questions.ask_command, filters=new))
    app.add_handler(CommandHandler("sources", sources.sources_command, filters=new))
    app.add_handler(CommandHandler("refresh", admin.refresh_command, filters=new))
    app.add_handler(CommandHandler("add", admin.add_command, filters=new))
    app.add_handler(CommandHandler("remove", admin.remove_command, filters=new))
    app.add_handler(MessageHandler(new & private & filters.COMMAND, questions.unknown_command))
    app.add_handler(MessageHandler(new & private & filters.TEXT & ~filters.COMMAND, questions.private_text))
    app.add_handler(MessageHandler(new & groups & filters.TEXT & ~filters.COMMAND, questions.group_text))
    app.add_handler(MessageHandler(new & private & filters.Document.ALL, admin.document_upload))
    app.add_handler(MessageHandler(new & private & ~filters.TEXT & ~filters.StatusUpdate.ALL, questions.not_text))
    app.add_handler(CallbackQueryHandler(questions.more_button, pattern=questions.More))
    app.add_handler(CallbackQueryHandler(questions.article_button, pattern=questions.ShowArticle))
    app.add_handler(CallbackQueryHandler(sources.sources_button, pattern=sources.SourcesPage))
    app.add_handler(CallbackQueryHandler(admin.remove_button, pattern=admin.Removal))
    app.add_handler(CallbackQueryHandler(questions.expired_button))  # InvalidCallbackData, or anything else
    app.add_handler(InlineQueryHandler(questions.inline_query))
    app.add_error_handler(on_error)
    if app.job_queue:
        app.job_queue.run_repeating(_watch_index, interval=INDEX_WATCH_SECONDS, first=INDEX_WATCH_SECONDS)
        if settings.feeds:
            every = settings.feed_interval * 60
            app.job_queue.run_repeating(_poll_feeds, interval=every, first=min(every, FEED_FIRST_SECONDS))
    return app


def webhook_options(settings: Settings) -> dict:
    """run_webhook's arguments. Without KABAR_WEBHOOK_SECRET a fresh random secret is made at each start
    (the bot registers the webhook itself, so Telegram learns it): a POST without it is refused."""
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else secrets.token_urlsafe(32)
    RedactToken.install(secret)
    return dict(
        listen=settings.webhook_listen,
        port=settings.webhook_port,
        url_path=urlsplit(settings.webhook_url).path.strip("/"),
        webhook_url=settings.webhook_url,
        secret_token=secret,
        allowed_updates=Update.ALL_TYPES,
    )


def run(settings: Settings, token: str) -> None:
    """Load the model and index once, then serve until stopped."""
    engine = Engine.open(settings)
    engine.warm()
    log.info(
        "index %s: %d articles, %d passages",
        engine.snapshot.version,
        len(engine.snapshot.articles),
        len(engine.snapshot.passages),
    )
    app = build_application(settings, engine, token)
    if settings.webhook_url:
        app.run_webhook(**webhook_options(settings))
    else:
        app.run_polling(allowed_updates=Update.ALL_TYPES)
