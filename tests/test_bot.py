"""The real Kabar bot, through the real python-telegram-bot stack, against a loopback Bot API."""

from __future__ import annotations

import pytest
from botapi import BotAPIServer


@pytest.fixture(autouse=True)
def _timedelta(monkeypatch):
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


async def test_private_question(run_bot) -> None:
    async with BotAPIServer() as server, run_bot(server):
        asked = server.push_update(server.private_text("Apa yang diinginkan Kim Jong Un sebagai imbalannya?"))
        [reply] = await server.wait_for("sendMessage", ok=True)
        print(server.describe_calls())
        print(reply.params)
