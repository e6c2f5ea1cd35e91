"""Shared fixtures. The bundled embedding model is converted once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from index.convert import BundledModelUnavailable, ensure_bundled_model


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The converted bundled model; set KABAR_TEST_MODEL_CACHE to keep it between runs."""
    cache = os.environ.get("KABAR_TEST_MODEL_CACHE")
    try:
        return ensure_bundled_model(Path(cache) if cache else tmp_path_factory.mktemp("model"))
    except BundledModelUnavailable as e:
        pytest.skip(str(e))


@pytest.fixture(scope="session")
def st_model(model_dir: Path):
    """The converted model, loaded the way the app loads it: offline, on the CPU."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        yield SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
