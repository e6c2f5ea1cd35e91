"""The answer checker on ONNX Runtime: the question path without torch.

The shipped weights are exported once (with torch, which building the index needs anyway) to
`<model cache>/checker-<sha256[:16]>.onnx` beside the converted encoder; new weights mean a new
file name, so a stale export is never used. Pairs are tokenized by `tokenizers` with the converted
encoder's tokenizer.json, as transformers does for the torch checker (tests/test_trust.py checks
both the ids and the scores agree).
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime
from tokenizers import Tokenizer

from index.checker import (
    CORES,
    MAX_LENGTH,
    META,
    WEIGHTS,
    Calibration,
    Checker,
    CheckerUnavailable,
    load_checker,
    read_meta,
    sha256,
)

log = logging.getLogger(__name__)
PAD_ID = 1  # XLM-R's <pad>


class OnnxChecker(Checker):
    def __init__(self, path: Path, tokenizer: Tokenizer, calibration: Calibration):
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = CORES
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.tokenizer = tokenizer
        self.calibration = calibration
        self._lock = threading.Lock()  # one run at a time: two would split the same cores

    def logits(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        if not sentences:
            return np.zeros(0, dtype=np.float32)
        ids, mask = encode_pairs(self.tokenizer, question, sentences)
        with self._lock:
            [out] = self.session.run(["logits"], {"input_ids": ids, "attention_mask": mask})
        return out[:, 0].astype(np.float32)


def pair_tokenizer(encoder_dir: Path) -> Tokenizer:
    tokenizer = Tokenizer.from_file(str(encoder_dir / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_LENGTH, strategy="only_second")
    tokenizer.enable_padding(pad_id=PAD_ID, pad_token="<pad>")
    return tokenizer


def encode_pairs(tokenizer: Tokenizer, question: str, sentences: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    encodings = tokenizer.encode_batch([(question, s) for s in sentences])
    ids = np.array([e.ids for e in encodings], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
    return ids, mask


def export_path(model_cache_dir: Path, digest: str) -> Path:
    return model_cache_dir / f"checker-{digest[:16]}.onnx"


def export(encoder_dir: Path, out: Path) -> None:
    """torch → ONNX, written to a temporary name and renamed, so a crash never leaves half a file."""
    import torch

    torch_checker = load_checker(encoder_dir)
    model = torch_checker.model
    model.config._attn_implementation = "eager"  # traceable attention; the same arithmetic
    example = torch_checker.tokenizer(["q"] * 2, ["a sentence", "another one"], padding=True, return_tensors="pt")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".onnx.tmp")
    os.close(fd)
    try:
        with torch.inference_mode():
            torch.onnx.export(
                model,
                (example["input_ids"], example["attention_mask"]),
                tmp,
                dynamo=False,
                input_names=["input_ids", "attention_mask"],
                output_names=["logits"],
                dynamic_axes={"input_ids": {0: "pairs", 1: "tokens"}, "attention_mask": {0: "pairs", 1: "tokens"}},
                opset_version=17,
            )
        os.replace(tmp, out)
    finally:
        Path(tmp).unlink(missing_ok=True)


def load(encoder_dir: Path, weights: Path = WEIGHTS, meta_path: Path = META) -> OnnxChecker:
    """The ONNX checker for the shipped weights, exporting them first if this data dir has no export yet."""
    meta = read_meta(meta_path)
    if not weights.is_file() or sha256(weights) != meta.get("sha256"):
        load_checker(encoder_dir, weights, meta_path)  # raises the one-line message naming the fix
    path = export_path(encoder_dir.parent, meta["sha256"])
    if not path.exists():
        log.info("exporting the answer checker to %s (once)", path)
        export(encoder_dir, path)
    try:
        return OnnxChecker(path, pair_tokenizer(encoder_dir), Calibration(**meta.get("calibration", {})))
    except Exception as error:  # onnxruntime raises its own types for a damaged file
        path.unlink(missing_ok=True)
        raise CheckerUnavailable(f"The answer checker export {path} was damaged and is removed: run again.") from error
