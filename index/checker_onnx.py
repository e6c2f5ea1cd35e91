"""The answer checker on ONNX Runtime: the question path without torch.

The shipped weights are exported once (with torch, which building the index needs anyway) to
`<model cache>/checker-<sha256[:16]>-v2.onnx` beside the converted encoder; new weights mean a new
file name, so a stale export is never used. Pairs are tokenized by `tokenizers` with the converted
encoder's tokenizer.json, as transformers does for the torch checker (tests/test_trust.py checks
both the ids and the scores agree).

The export starts after the word-embedding lookup: the 250k × 384 table (384 MB, four fifths of the
model) stays in the converted encoder's safetensors file, memory-mapped, and only the rows of the
tokens asked about are read. Loading the ~90 MB graph then takes a fraction of a second and a
fraction of the memory the whole model would.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import struct
import tempfile
import threading
from array import array
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime
from tokenizers import Tokenizer
from tokenizers.models import Unigram

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
UNK_ID = 3
PAIRS_PER_RUN = 2
FORMAT = "v2"  # the graph's inputs; a new format means a new file name
QUANTIZED = "int8a"  # which matrices are int8 (quantize); a new choice means a new file name
WORD_EMBEDDINGS = "embeddings.word_embeddings.weight"
FFN_OUTPUT = re.compile(r"/layer\.\d+/output/dense/MatMul$")  # not .../attention/output/dense


class OnnxChecker(Checker):
    def __init__(self, path: Path, tokenizer: PairTokenizer, calibration: Calibration, words: np.ndarray):
        self.session = session(path, CORES)
        self.tokenizer = tokenizer
        self.calibration = calibration
        self.words = words
        self._lock = threading.Lock()  # one run at a time: two would split the same cores

    def logits(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        if not sentences:
            return np.zeros(0, dtype=np.float32)
        ids, mask = self.tokenizer.encode(question, sentences)
        lengths = mask.sum(1)
        out = np.zeros(len(sentences), dtype=np.float32)
        # Two pairs per run, in the order given, each run padded to its own longer pair. int8 activations
        # are quantized per run, so a pair's score depends on its run mate: fixed runs make a sentence's
        # score the same whether it is read alone with its mate or among twelve (index.answer.judge reads
        # two at a time and stops early). Two per run cost about what runs grouped by length did.
        for start in range(0, len(sentences), PAIRS_PER_RUN):
            part = slice(start, start + PAIRS_PER_RUN)
            width = int(lengths[part].max())
            feed = {
                "inputs_embeds": np.ascontiguousarray(self.words[ids[part, :width]], dtype=np.float32),
                "attention_mask": mask[part, :width],
            }
            with self._lock:
                [logits] = self.session.run(["logits"], feed)
            out[part] = logits[:, 0]
        return out


def mapped_tensor(path: Path, name: str) -> np.ndarray:
    """One float32 tensor of a safetensors file, memory-mapped (read only where indexed)."""
    with path.open("rb") as handle:
        [length] = struct.unpack("<Q", handle.read(8))
        entry = json.loads(handle.read(length))[name]
    if entry["dtype"] != "F32":
        raise CheckerUnavailable(f"{path}: {name} is {entry['dtype']}, not F32; convert the model again.")
    start, end = entry["data_offsets"]
    table = np.memmap(path, dtype=np.float32, mode="r", offset=8 + length + start, shape=tuple(entry["shape"]))
    assert table.nbytes == end - start
    return table


def in_latin(text: str) -> bool:
    """Latin letters, digits, punctuation, currency and letterlike signs (what ~all news here is written in)."""
    return all(
        (o := ord(c)) < 0x250 or 0x2000 <= o < 0x2070 or 0x20A0 <= o < 0x20D0 or 0x2100 <= o < 0x2200 or c == "▁"
        for c in text
    )


class PairTokenizer:
    """XLM-R pair encoding, exactly as `tokenizer.json` does it, at a fraction of the start-up cost.

    The full 250k-piece Unigram model takes ~0.8 s and ~310 MB to build (with the GIL held), the largest
    part of a `kabar ask` process. Unigram segments each whitespace-separated word on its own, and a word
    can only match pieces made of its own characters. So a tokenizer of the ~110k Latin-script pieces
    (plus the lowest-scoring piece, so unknown characters cost the same) segments every Latin word as the
    full one does, its ids mapped back; a word in another script gets a tiny Unigram model of just the
    pieces made of its characters, built once per word from the vocabulary (read when first needed).
    """

    SPECIAL = ("<s>", "</s>", "<pad>", "<unk>", "<mask>")  # matched in raw text by the full tokenizer

    def __init__(self, encoder_dir: Path, cache_dir: Path):
        self.encoder_dir = encoder_dir
        self.latin, self.ids, self._stem = _latin_tokenizer(encoder_dir / "tokenizer.json", cache_dir)
        self._full: Tokenizer | None = None
        self._vocab: tuple[list[str], np.ndarray, dict[str, array], int] | None = None
        self._words: dict[str, list[int]] = {}

    def full(self) -> Tokenizer:
        """The whole tokenizer: only for text that spells out a special token, or a question too long to pair."""
        if self._full is None:
            self._full = _configured(Tokenizer.from_file(str(self.encoder_dir / "tokenizer.json")))
        return self._full

    def encode(self, question: str, sentences: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        normalized = [self.latin.normalizer.normalize_str(text) for text in (question, *sentences)]
        if all(in_latin(text) for text in normalized):
            encodings = self.latin.encode_batch([(question, s) for s in sentences])
            return self.ids[np.array([e.ids for e in encodings])], np.array([e.attention_mask for e in encodings])
        q = self._sequence(normalized[0])
        # Cut below as "longest_first" does: only the sentence, while the question is the shorter side.
        if 2 * len(q) + 4 > MAX_LENGTH or any(s in t for t in (question, *sentences) for s in self.SPECIAL):
            encodings = self.full().encode_batch([(question, s) for s in sentences])
            return np.array([e.ids for e in encodings]), np.array([e.attention_mask for e in encodings])
        rows = [[0, *q, 2, 2, *self._sequence(text)[: MAX_LENGTH - len(q) - 4], 2] for text in normalized[1:]]
        width = max(len(r) for r in rows)
        ids = np.array([r + [PAD_ID] * (width - len(r)) for r in rows], dtype=np.int64)
        return ids, (ids != PAD_ID).astype(np.int64)

    def encode_one(self, text: str, limit: int) -> list[int]:
        """One text alone (<s> text </s>), cut to `limit` tokens: as the full tokenizer encodes it."""
        return [0, *self._sequence(self.latin.normalizer.normalize_str(text))[: limit - 2], 2]

    def _sequence(self, normalized: str) -> list[int]:
        ids: list[int] = []
        for word, _ in self.latin.pre_tokenizer.pre_tokenize_str(normalized):
            if in_latin(word):
                ids += [int(self.ids[t.id]) for t in self.latin.model.tokenize(word)]
            else:
                ids += self._word(word)
        return ids

    def _word(self, word: str) -> list[int]:
        known = self._words.get(word)  # one lookup: the checker and the question encoder share this cache
        if known is None:
            if self._vocab is None:  # compact: ~20 MB, where the parsed tokenizer.json would take ~50
                pieces = self._stem.with_suffix(".pieces").read_text(encoding="utf-8").split("\0")
                scores = np.load(self._stem.with_suffix(".scores.npy"))
                by_first: dict[str, array] = {}
                for i in range(4, len(pieces)):  # each piece under its first character after "▁"
                    by_first.setdefault(pieces[i].lstrip("▁")[:1] or "▁", array("i")).append(i)
                self._vocab = pieces, scores, by_first, int(np.argmin(scores))
            pieces, scores, by_first, lowest = self._vocab
            chars = "".join(set(word))  # a piece fits when stripping the word's characters leaves nothing
            fits = [i for c in chars for i in by_first.get(c, ()) if not pieces[i].strip(chars)]
            chosen = list(dict.fromkeys([UNK_ID, *fits, lowest]))
            model = Unigram([(pieces[i], float(scores[i])) for i in chosen], 0, False)
            if len(self._words) > 10_000:
                self._words.clear()
            known = self._words[word] = [chosen[t.id] for t in model.tokenize(word)]
        return known


@functools.cache
def word_vectors(encoder_dir: Path) -> np.ndarray:
    """The converted model's word-embedding table, memory-mapped once per process (checker and question encoder)."""
    return mapped_tensor(encoder_dir / "model.safetensors", WORD_EMBEDDINGS)


@functools.cache
def pair_tokenizer(encoder_dir: Path) -> PairTokenizer:
    """One per converted model and process (~0.2 s to build): the checker and the question encoder share it."""
    return PairTokenizer(encoder_dir, encoder_dir.parent)


def _configured(tokenizer: Tokenizer) -> Tokenizer:
    tokenizer.enable_truncation(MAX_LENGTH, strategy="longest_first")
    tokenizer.enable_padding(pad_id=PAD_ID, pad_token="<pad>")
    return tokenizer


def _latin_tokenizer(source: Path, cache_dir: Path) -> tuple[Tokenizer, np.ndarray, Path]:
    """The Latin-script tokenizer and its id map, derived from `source` once and kept in the model cache
    (with the whole vocabulary in a compact form, for words in other scripts); and their common stem."""
    stat = source.stat()  # the converted model is written once; its size and time name this derivation
    stem = cache_dir / f"checker-latin-{stat.st_size:x}-{stat.st_mtime_ns:x}"
    json_path, ids_path = stem.with_suffix(".json"), stem.with_suffix(".npy")
    files = (json_path, ids_path, stem.with_suffix(".pieces"), stem.with_suffix(".scores.npy"))
    if not all(path.exists() for path in files):
        spec = json.loads(source.read_text(encoding="utf-8"))
        vocab = spec["model"]["vocab"]
        assert not any("\0" in piece for piece, _ in vocab)
        write_whole(files[2], lambda p: p.write_text("\0".join(piece for piece, _ in vocab), encoding="utf-8"))
        write_whole(files[3], lambda p: np.save(p, np.array([score for _, score in vocab], np.float64)))
        lowest = min(range(len(vocab)), key=lambda i: vocab[i][1])
        keep = [i for i, (piece, _) in enumerate(vocab) if i < 4 or i == lowest or in_latin(piece)]
        assert spec["model"]["unk_id"] < 4, "the special pieces keep their ids"
        spec["model"]["vocab"] = [vocab[i] for i in keep]
        spec["added_tokens"] = [a for a in spec["added_tokens"] if a["id"] < 4]  # "<mask>" is not Latin-only text
        write_whole(ids_path, lambda p: np.save(p, np.array(keep, np.int64)))
        write_whole(json_path, lambda p: p.write_text(json.dumps(spec), encoding="utf-8"))
        for stale in cache_dir.glob("checker-latin-*"):  # from an earlier converted model
            if not stale.name.startswith(stem.name + "."):
                stale.unlink(missing_ok=True)
    return _configured(Tokenizer.from_file(str(json_path))), np.load(ids_path), stem


def write_whole(path: Path, write) -> None:
    """`write(temporary path)`, then renamed into place: a crash never leaves half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=path.suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def export_path(model_cache_dir: Path, digest: str) -> Path:
    return model_cache_dir / f"checker-{digest[:16]}-{FORMAT}.onnx"


def export(encoder_dir: Path, out: Path) -> None:
    """The checker, torch → ONNX, from word vectors to its logit."""
    torch_checker = load_checker(encoder_dir)
    example = torch_checker.tokenizer(["q"] * 2, ["a sentence", "another one"], padding=True, return_tensors="pt")
    export_from_word_vectors(torch_checker.model, lambda output: output.logits, example, out, "logits")


def export_from_word_vectors(model, pick, example, out: Path, output: str) -> None:
    """A transformers encoder, torch → ONNX, starting after its word-embedding lookup (the table stays
    memory-mapped at run time: `mapped_tensor`); `pick` chooses what of its output the graph returns.

    Position ids count from the first token, as they do from input_ids for every token that is not
    right-padding (and padding is masked). Written to a temporary name and renamed, so a crash never
    leaves half a file.
    """
    import torch

    model = model.eval().requires_grad_(False)
    model.config._attn_implementation = "eager"  # traceable attention; the same arithmetic

    class FromWordVectors(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model  # the attribute names the graph's nodes ("/model/roberta/encoder/layer.0/…")

        def forward(self, inputs_embeds, attention_mask):
            return pick(self.model(inputs_embeds=inputs_embeds, attention_mask=attention_mask))

    embeds = model.get_input_embeddings()(example["input_ids"])
    out.parent.mkdir(parents=True, exist_ok=True)
    axes = {0: "rows", 1: "tokens"}

    def write(path: Path) -> None:
        with torch.inference_mode():
            torch.onnx.export(
                FromWordVectors(),
                (embeds, example["attention_mask"]),
                str(path),
                dynamo=False,
                input_names=["inputs_embeds", "attention_mask"],
                output_names=[output],
                dynamic_axes={"inputs_embeds": axes, "attention_mask": axes},
                opset_version=17,
            )

    write_whole(out, write)


def session(path: Path, threads: int) -> onnxruntime.InferenceSession:
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def quantize(source: Path, out: Path) -> None:
    """fp32 graph → int8 weights (per output channel), activations quantized on the fly.

    Each feed-forward block's second matrix stays fp32: its input is the GELU output, whose outliers
    per-tensor int8 activations blur most. On benchmark passages that keeps the best logit within 0.15
    of fp32 on average (0.40 with every matrix int8) at 1.6× the speed (1.9× all int8); the figures in
    bench/results/trust-*.md are measured on it, and tests/test_runtime.py checks its verdicts.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(source)).graph
    keep = [n.name for n in graph.node if n.op_type == "MatMul" and FFN_OUTPUT.search(n.name)]

    def write(path: Path) -> None:
        quantize_dynamic(str(source), str(path), weight_type=QuantType.QInt8, per_channel=True, nodes_to_exclude=keep)

    write_whole(out, write)


def load(encoder_dir: Path, weights: Path = WEIGHTS, meta_path: Path = META, precision: str = "int8") -> OnnxChecker:
    """The ONNX checker for the shipped weights, exporting them first if this data dir has no export yet."""
    meta = read_meta(meta_path)
    if not weights.is_file() or sha256(weights) != meta.get("sha256"):
        load_checker(encoder_dir, weights, meta_path)  # raises the one-line message naming the fix
    fp32 = export_path(encoder_dir.parent, meta["sha256"])
    path = fp32.with_name(f"{fp32.stem}-{QUANTIZED}.onnx") if precision == "int8" else fp32
    if not path.exists():
        if not fp32.exists():
            log.info("exporting the answer checker to %s (once)", fp32)
            export(encoder_dir, fp32)
        if path != fp32:
            quantize(fp32, path)
        current = {fp32, fp32.with_name(f"{fp32.stem}-{QUANTIZED}.onnx")}
        for stale in path.parent.glob("checker-*.onnx"):  # earlier weights or formats: never read again
            if stale not in current:
                stale.unlink(missing_ok=True)
    words = word_vectors(encoder_dir)
    tokenizer, calibration = pair_tokenizer(encoder_dir), Calibration(**meta.get("calibration", {}))
    try:
        return OnnxChecker(path, tokenizer, calibration, words)
    except Exception as error:  # onnxruntime raises its own types for a damaged file
        path.unlink(missing_ok=True)
        raise CheckerUnavailable(f"The answer checker export {path} was damaged and is removed: run again.") from error
