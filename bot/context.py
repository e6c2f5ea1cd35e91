"""The handlers' typed context: the engine, the settings and the question pool, read one way everywhere."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from telegram import Update
from telegram.ext import Application, CallbackContext, ExtBot

from bot.texts import lang_of
from index.engine import Engine
from index.generate import Writer
from index.settings import Settings


class Context(CallbackContext[ExtBot, dict, dict, dict]):
    """What every handler gets. The engine and settings live in bot_data, which is not persisted."""

    @property
    def engine(self) -> Engine:
        return self.bot_data["engine"]

    @property
    def settings(self) -> Settings:
        return self.bot_data["settings"]

    @property
    def writer(self) -> Writer | None:
        """The language model that words answers, when KABAR_LLM_* configure one."""
        return self.bot_data.get("writer")

    @property
    def questions(self) -> ThreadPoolExecutor:
        """Questions get threads of their own: index changes, fetching and feeds never take them."""
        return self.bot_data["questions"]


KabarApp = Application[ExtBot, Context, dict, dict, dict, None]


def lang(update: Update) -> str:
    user = update.effective_user
    return lang_of(user.language_code if user else None)


def is_admin(update: Update, context: Context) -> bool:
    user = update.effective_user
    return user is not None and user.id in context.settings.admin_ids
