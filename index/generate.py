"""Optional answers written by a language model (any OpenAI-compatible server), cited and checked.

Only an answer the checker already found reaches the model, so it can word what the articles say but
cannot supply what they lack. The model sees the question and the cited passages, numbered; its reply
is shown only if it cites at least one of them and nothing else. Anything else falls back to the quoted
answer (or to "not found" when the model says the passages don't answer).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

from index.answer import NOT_FOUND_IN
from index.models import Answer, Hit
from index.settings import Settings

PROMPT_VERSION = "kabar-answer-1"
NOT_ANSWERED = "NOT_IN_PASSAGES"  # what the model is told to reply when the passages don't answer
LANGUAGES = {"id": "Indonesian (Bahasa Indonesia)", "en": "English"}
CITATION = re.compile(r"\[(\d{1,3})\]")
MAX_TOKENS = 400

SYSTEM = """You answer questions about the news using only the numbered passages you are given.
- Answer in {language}, in at most three short sentences.
- Use only facts stated in the passages. Put the passage number in brackets, like [1], after each claim.
- If the passages do not answer the question, reply with exactly {not_answered} and nothing else."""


@dataclass(frozen=True)
class Written:
    """What the model replied, and what became of it."""

    text: str
    verdict: str  # "ok", "not_answered", "no_citation", "bad_citation"
    prompt_tokens: int = 0
    completion_tokens: int = 0


def messages(question: str, hits: list[Hit], language: str) -> list[dict[str, str]]:
    """The prompt: the one place it is written (its version is PROMPT_VERSION)."""
    system = SYSTEM.format(language=LANGUAGES.get(language, LANGUAGES["id"]), not_answered=NOT_ANSWERED)
    passages = []
    for n, hit in enumerate(hits, 1):
        a = hit.article
        source = ", ".join(p for p in (a.outlet, a.date) if p) or "unknown source"
        passages.append(f"[{n}] {a.title} ({source})\n{hit.passage.text}")
    user = "Passages:\n\n" + "\n\n".join(passages) + f"\n\nQuestion: {question}"
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def verdict(reply: str, given: int) -> str:
    """Whether a reply may be shown: it must cite, and cite only passages that were given."""
    if NOT_ANSWERED in reply:
        return "not_answered"
    cited = [int(n) for n in CITATION.findall(reply)]
    if not cited:
        return "no_citation"
    if any(not 1 <= n <= given for n in cited):
        return "bad_citation"
    return "ok"


def shown(answer: Answer, written: Written | None) -> Answer:
    """The answer users see: the model's words when they passed, else the quoted answer (or "not found")."""
    if written is None or written.verdict in ("no_citation", "bad_citation"):
        return answer
    if written.verdict == "not_answered":
        return replace(answer, found=False, text=NOT_FOUND_IN[answer.language], hits=[], sentences=())
    return replace(answer, text=written.text.strip(), generated=True, prompt_version=PROMPT_VERSION)


class Writer:
    """One OpenAI-compatible endpoint; the `openai` package is imported only when one is configured."""

    def __init__(self, settings: Settings):
        import openai

        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "none"  # local servers
        common = dict(base_url=settings.llm_base_url, api_key=key, timeout=settings.llm_timeout, max_retries=0)
        self.model = settings.llm_model
        self.client = openai.OpenAI(**common)
        self.async_client = openai.AsyncOpenAI(**common)

    def write(self, question: str, answer: Answer, cited: int) -> Written:
        """The whole reply at once (the CLI). Raises the client's errors; callers fall back."""
        hits = answer.hits[:cited]
        response = self.client.chat.completions.create(
            model=self.model, messages=messages(question, hits, answer.language), max_tokens=MAX_TOKENS
        )
        text = response.choices[0].message.content or ""
        usage = response.usage
        return Written(
            text,
            verdict(text, len(hits)),
            usage.prompt_tokens if usage else 0,
            usage.completion_tokens if usage else 0,
        )

    async def stream(self, question: str, answer: Answer, cited: int) -> AsyncIterator[str | Written]:
        """The reply as it arrives (the text so far, each time more came), then the Written verdict."""
        hits = answer.hits[:cited]
        stream = await self.async_client.chat.completions.create(
            model=self.model,
            messages=messages(question, hits, answer.language),
            max_tokens=MAX_TOKENS,
            stream=True,
            stream_options={"include_usage": True},
        )
        text, usage = "", None
        async for chunk in stream:
            usage = chunk.usage or usage
            if chunk.choices and chunk.choices[0].delta.content:
                text += chunk.choices[0].delta.content
                yield text
        yield Written(
            text,
            verdict(text, len(hits)),
            usage.prompt_tokens if usage else 0,
            usage.completion_tokens if usage else 0,
        )
