"""The Telegram Application, wired in one place: settings → engine → handlers → polling or webhook."""

from __future__ import annotations

import asyncio
import logging
import re
from urllib.parse import urlsplit

from telegram import BotCommand, Update
from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot import handlers
from index.engine import Engine
from index.settings import Settings

log = logging.getLogger(__name__)

TOKEN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{30,}$")
INDEX_WATCH_SECONDS = 5

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


class RedactToken(logging.Filter):
    """Logs never carry the token, whoever logs a URL that contains it."""

    def __init__(self, token: str):
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "<token>"), None
        return True


def setup_logging(token: str) -> None:
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    # httpx logs every request URL at INFO, and Bot API URLs contain the token.
    for noisy in ("httpx", "httpcore", "apscheduler", "sentence_transformers", "bm25s"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    redact = RedactToken(token)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)


class RetryingRateLimiter(AIORateLimiter):
    """AIORateLimiter honours RetryAfter; this also retries transient server and network errors."""

    retries = 2

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):
        for attempt in range(self.retries + 1):
            try:
                return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
            except (BadRequest, TimedOut):
                raise  # our mistake, or maybe delivered: retrying could send twice
            except NetworkError as exc:
                if attempt == self.retries or endpoint == "getUpdates":
                    raise
                log.warning("%s failed (%s); retrying", endpoint, exc)
                await asyncio.sleep(0.5 * (attempt + 1))


async def _post_init(app: Application) -> None:
    for language, commands in COMMANDS.items():
        await app.bot.set_my_commands(
            [BotCommand(c, d) for c, d in commands], language_code=None if language == "id" else language
        )


async def _watch_index(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Pick up an index refreshed by `kabar index` in another process."""
    engine: Engine = context.bot_data["engine"]
    try:
        if await asyncio.to_thread(engine.reload_if_changed):
            log.info("loaded the refreshed index %s", engine.snapshot.version)
    except Exception:
        log.exception("could not load the refreshed index; still serving the previous one")


def build_application(settings: Settings, engine: Engine, token: str) -> Application:
    builder = (
        ApplicationBuilder()
        .token(token)
        .rate_limiter(RetryingRateLimiter(max_retries=3))
        .concurrent_updates(True)
        .post_init(_post_init)
    )
    if settings.telegram_base_url:
        base = settings.telegram_base_url.rstrip("/")
        builder = builder.base_url(base).base_file_url(base.removesuffix("/bot") + "/file/bot")
    app = builder.build()
    app.bot_data.update(engine=engine, settings=settings)

    private, groups = filters.ChatType.PRIVATE, filters.ChatType.GROUPS
    new_message = filters.UpdateType.MESSAGE
    app.add_handler(CommandHandler(["start", "help"], handlers.help_command, filters=new_message))
    app.add_handler(CommandHandler("ask", handlers.ask_command, filters=new_message))
    app.add_handler(CommandHandler("sources", handlers.sources_command, filters=new_message))
    app.add_handler(CommandHandler("refresh", handlers.refresh_command, filters=new_message))
    app.add_handler(MessageHandler(new_message & private & filters.TEXT & ~filters.COMMAND, handlers.private_text))
    app.add_handler(MessageHandler(new_message & groups & filters.TEXT & ~filters.COMMAND, handlers.group_text))
    app.add_handler(MessageHandler(new_message & ~filters.TEXT & ~filters.StatusUpdate.ALL, handlers.not_text))
    app.add_handler(CallbackQueryHandler(handlers.button))
    app.add_handler(InlineQueryHandler(handlers.inline_query))
    app.add_error_handler(handlers.on_error)
    if app.job_queue:
        app.job_queue.run_repeating(_watch_index, interval=INDEX_WATCH_SECONDS, first=INDEX_WATCH_SECONDS)
    return app


def run(settings: Settings, token: str) -> None:
    """Load the model and index once, then serve until stopped."""
    engine = Engine.open(settings)
    log.info("index %s: %d articles, %d passages", engine.snapshot.version, len(engine.snapshot.articles),
             len(engine.snapshot.passages))
    app = build_application(settings, engine, token)
    if settings.webhook_url:
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        app.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=urlsplit(settings.webhook_url).path.strip("/"),
            webhook_url=settings.webhook_url,
            secret_token=secret,
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        app.run_polling(allowed_updates=Update.ALL_TYPES)
