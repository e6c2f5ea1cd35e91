"""Question + candidate sentence → the probability that the sentence answers the question.

A cross-encoder: the bundled multilingual-e5-small with a one-logit head, its upper six layers and the
head fine-tuned on the benchmarks' train splits by `python -m bench.train_checker`. Cross-encoding reads
the question and the sentence together, so it tells "when did he die?" from a sentence that only says
where, which the bi-encoder's cosine cannot. The embeddings and lower six layers stay frozen (shared with
the bundled encoder), so only the upper layers and the head ship (`index/weights/checker.safetensors`,
float16, ~22 MB), their sha256 checked at load.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

LAYERS = 12
FROZEN = 6  # the lower layers stay as the bundled encoder has them (shared, not shipped)
CORES = max(1, os.cpu_count() or 1)
MAX_LENGTH = 128  # question + sentence tokens; a longer sentence is cut at its end (a very long question too)
WEIGHTS = Path(__file__).resolve().parent / "weights" / "checker.safetensors"
META = WEIGHTS.with_suffix(".json")
FIX = "reinstall Kabar or run `python -m bench.train_checker` to train them again"


class CheckerUnavailable(RuntimeError):
    """The shipped checker weights are missing or damaged; the message names the fix."""


@dataclass(frozen=True)
class Calibration:
    """Logit → probability (Platt scaling) and the thresholds, all fit on the valid splits."""

    scale: float = 1.0
    bias: float = 0.0
    threshold: float = 0.5  # probability a sentence must reach to be an answer
    english_threshold: float = 0.5  # the checker was trained on Indonesian questions only

    def probability(self, logit: float) -> float:
        return 1.0 / (1.0 + math.exp(-(self.scale * logit + self.bias)))

    def threshold_for(self, english: bool) -> float:
        return self.english_threshold if english else self.threshold


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_meta(meta_path: Path = META) -> dict:
    try:
        return json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CheckerUnavailable(f"Answer checker metadata {meta_path} is unreadable ({error}): {FIX}.") from None


def build_model(encoder_dir: Path, layers: int = LAYERS):
    """The bundled encoder's first `layers` layers plus a fresh one-logit head (torch)."""
    from safetensors.torch import load_file
    from transformers import XLMRobertaConfig, XLMRobertaForSequenceClassification

    config = XLMRobertaConfig.from_pretrained(str(encoder_dir), num_hidden_layers=layers, num_labels=1)
    model = XLMRobertaForSequenceClassification(config)
    base = load_file(str(encoder_dir / "model.safetensors"))
    keep = {f"roberta.{k}": v for k, v in base.items() if not k.startswith("pooler.")}
    keep = {k: v for k, v in keep.items() if ".layer." not in k or int(k.split(".layer.")[1].split(".")[0]) < layers}
    missing, _ = model.load_state_dict(keep, strict=False)
    assert all(k.startswith("classifier.") for k in missing), missing
    return model


def apply_delta(model, weights: Path) -> None:
    """Overlay shipped weights (only what differs from the bundled encoder) on a model from build_model."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        delta = load_file(str(weights))
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckerUnavailable(f"Answer checker weights {weights} are unreadable ({error}): {FIX}.") from None
    if set(delta) - set(model.state_dict()):
        raise CheckerUnavailable(f"Answer checker weights {weights} do not fit this model: {FIX}.")
    model.load_state_dict({k: v.float() for k, v in delta.items()}, strict=False)


def trainable(name: str, frozen: int = FROZEN) -> bool:
    """The embeddings and the lower `frozen` layers stay as the bundled encoder has them: shared, not shipped.

    Frozen lower layers keep e5's cross-lingual alignment, which English questions lean on, and
    let training cache their output once instead of recomputing it every epoch.
    """
    if name.startswith("roberta.embeddings."):
        return False
    if ".layer." in name:
        return int(name.split(".layer.")[1].split(".")[0]) >= frozen
    return True


class Checker:
    """Scores (question, sentence) pairs: raw logits from a runtime, calibrated probabilities from them."""

    calibration: Calibration

    def logits(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        raise NotImplementedError

    def probabilities(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        c = self.calibration
        logits = self.logits(question, sentences)
        return 1.0 / (1.0 + np.exp(-(c.scale * logits + c.bias)))


class TorchChecker(Checker):
    """The checker in torch: what training uses, and the reference the ONNX export is checked against."""

    def __init__(self, model, tokenizer, calibration: Calibration):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.calibration = calibration
        self._lock = threading.Lock()  # torch modules are not re-entrant across threads

    def logits(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        if not sentences:
            return np.zeros(0, dtype=np.float32)
        import torch

        features = encode_pairs(self.tokenizer, [question] * len(sentences), list(sentences))
        with self._lock, torch.inference_mode():
            torch.set_num_threads(CORES)  # a batch of pairs, unlike one question, is worth both cores
            out = self.model(**features).logits[:, 0]
        return out.float().numpy()


_shared: dict[tuple, Checker | None] = {}  # (weights, mtime, runtime, precision) → checker
_shared_lock = threading.Lock()


def shared_checker(model_cache_dir: Path, runtime: str = "auto", precision: str = "int8") -> Checker | None:
    """The shipped checker, loaded once per process (on the first caller's converted encoder); None
    where there is no bundled encoder to build it on.

    Damaged or missing weights raise CheckerUnavailable: answering without the checker would
    silently bring back the answers it exists to stop.
    """
    from index.convert import BundledModelUnavailable, ensure_bundled_model

    key = (str(WEIGHTS), WEIGHTS.stat().st_mtime_ns if WEIGHTS.exists() else 0, runtime, precision)
    with _shared_lock:
        if key not in _shared:
            try:
                encoder_dir = ensure_bundled_model(model_cache_dir)
            except BundledModelUnavailable as error:
                log.warning("no answer checker (%s): answers fall back to the similarity rule", error)
                _shared[key] = None
            else:
                _shared[key] = _load(encoder_dir, runtime, precision)
        return _shared[key]


def settings_checker(settings) -> Checker | None:
    """The shipped checker on the runtime and precision the settings name (KABAR_RUNTIME,
    KABAR_CHECKER_PRECISION): what the bot runs, and so what the benches measure."""
    return shared_checker(settings.model_cache_dir, settings.runtime, settings.checker_precision)


def _load(encoder_dir: Path, runtime: str, precision: str) -> Checker:
    """ONNX Runtime when it is installed (no torch on the question path), else torch."""
    if runtime != "torch":
        try:
            from index import checker_onnx
        except ImportError:
            if runtime == "onnx":
                raise
        else:
            return checker_onnx.load(encoder_dir, precision=precision)
    return load_checker(encoder_dir)


def encode_pairs(tokenizer, questions: list[str], sentences: list[str]):
    return tokenizer(
        questions, sentences, truncation="longest_first", max_length=MAX_LENGTH, padding=True, return_tensors="pt"
    )


def load_checker(encoder_dir: Path, weights: Path = WEIGHTS, meta_path: Path = META) -> Checker:
    """The shipped checker on top of the converted bundled encoder; offline, hash-checked."""
    from transformers import AutoTokenizer

    meta = read_meta(meta_path)
    if not weights.is_file():
        raise CheckerUnavailable(f"Answer checker weights {weights} are missing: {FIX}.")
    if sha256(weights) != meta.get("sha256"):
        raise CheckerUnavailable(f"Answer checker weights {weights} are damaged (sha256 mismatch): {FIX}.")
    model = build_model(encoder_dir, int(meta.get("layers", LAYERS)))
    apply_delta(model, weights)
    tokenizer = AutoTokenizer.from_pretrained(str(encoder_dir))
    return TorchChecker(model, tokenizer, Calibration(**meta.get("calibration", {})))
