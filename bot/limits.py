"""Fair use: a per-user rate limit checked before any handler (handler group -1), and one question at a
time per user, so one user's flood never delays anyone else's answer by more than one question."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.context import Context, is_admin, lang
from bot.texts import t

log = logging.getLogger(__name__)

BURST = 20  # messages a user may send at once …
PER_SECOND = 0.5  # … and then one every two seconds
FORGET_AFTER = 600.0  # seconds after which an idle user's bucket is dropped


@dataclass
class Bucket:
    tokens: float
    stamp: float
    told: bool = False  # told to slow down during this flood (said once, not per message)


def _take(buckets: dict[int, Bucket], user_id: int, now: float) -> Bucket | None:
    """None when the user may go on; else their (empty) bucket."""
    if len(buckets) > 10_000:
        for key in [k for k, b in buckets.items() if now - b.stamp > FORGET_AFTER]:
            del buckets[key]
    bucket = buckets.setdefault(user_id, Bucket(BURST, now))
    bucket.tokens = min(BURST, bucket.tokens + (now - bucket.stamp) * PER_SECOND)
    bucket.stamp = now
    if bucket.tokens >= BURST / 2:
        bucket.told = False  # the flood is over: a new one is told again
    if bucket.tokens >= 1:
        bucket.tokens -= 1
        return None
    return bucket


async def rate_limit(update: Update, context: Context) -> None:
    """Group -1: over the limit, the update stops here with a polite word (once per flood)."""
    user = update.effective_user
    # Messages only: buttons re-read cached answers, inline queries are paused and superseded instead.
    if user is None or not update.message or is_admin(update, context):
        return
    bucket = _take(context.bot_data.setdefault("limits", {}), user.id, time.monotonic())
    if bucket is None:
        return
    if not bucket.told:
        bucket.told = True  # before awaiting: the flood's other messages are handled meanwhile
        log.warning("user %s is over the rate limit", user.id)
        with contextlib.suppress(TelegramError):  # the refusal is a courtesy; never fail over it
            await update.message.reply_text(t(lang(update), "slow_down"), do_quote=True)
    raise ApplicationHandlerStop


_turns: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()


@contextlib.asynccontextmanager
async def one_at_a_time(update: Update) -> AsyncIterator[None]:
    """A user's questions are answered one after another; other users' go in between."""
    user = update.effective_user
    if user is None:
        yield
        return
    lock = _turns.get(user.id)
    if lock is None:
        lock = _turns[user.id] = asyncio.Lock()
    async with lock:
        yield
