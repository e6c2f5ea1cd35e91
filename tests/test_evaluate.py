"""The evaluation harness computes its metrics correctly, on hand-made rankings and a tiny benchmark."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bot.eval_cli import eval_command
from index import evaluate as ev
from index.answer import NOT_FOUND, AnswerConfig
from index.convert import BUNDLED_MODEL_ID
from index.embed import Embedder

# --- pure metric functions -------------------------------------------------------------


def test_rank_recall_and_reciprocal_rank() -> None:
    ranked = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"]
    assert ev.first_rank(ranked, {"c"}) == 3
    assert ev.first_rank(ranked, {"x"}) is None
    assert ev.first_rank(ranked, ["e", "b"]) == 2  # the first of several positives counts
    assert ev.recall_at(ranked, {"c"}, 1) == 0.0
    assert ev.recall_at(ranked, {"c"}, 3) == 1.0
    assert ev.recall_at(ranked, {"c", "d"}, 5) == 1.0  # any positive, not a share of them
    assert ev.recall_at([], {"c"}, 5) == 0.0
    assert ev.reciprocal_rank(ranked, {"a"}) == 1.0
    assert ev.reciprocal_rank(ranked, {"d"}) == 0.25
    assert ev.reciprocal_rank(ranked, {"j"}) == 0.1
    assert ev.reciprocal_rank(ranked, {"k"}) == 0.0  # rank 11: outside MRR@10
    assert ev.reciprocal_rank(ranked, {"k"}, k=11) == pytest.approx(1 / 11)


def test_contains_answer_ignores_case_and_spacing() -> None:
    assert ev.contains_answer("Diresmikan pada  1 April\n2019 oleh Presiden.", ["1 april 2019"])
    assert ev.contains_answer("Hezb-ul Mujahedeen mengaku", ["x", "HEZB-UL MUJAHEDEEN"])
    assert not ev.contains_answer("Diresmikan pada 2019.", ["1 April 2019"])
    assert not ev.contains_answer("apa saja", ["", "  "])  # an empty gold answer matches nothing


def _outcome(
    split: str, rank: int | None, found: bool, answer_hit: bool | None = None, answerable: bool = True, **kw
) -> ev.Outcome:
    gold = rank is not None and rank <= ev.GOLD_K
    hit = answer_hit if gold else None
    return ev.Outcome("q", split, answerable, rank, [], found, "", hit, hit, **kw)


def test_metrics_from_hand_made_outcomes() -> None:
    outcomes = [
        _outcome("train", 1, True, True),
        _outcome("train", 2, True, False),
        _outcome("train", 7, True, answer_rank=2),  # not in the top 5, but the 2nd passage holds the answer
        _outcome("train", None, False),  # not retrieved
        _outcome("test", 4, False, False),  # gold in top 5, abstained
        _outcome("test", None, False, answerable=False),  # unanswerable, abstained
        _outcome("test", None, True, answerable=False),  # unanswerable, answered
        _outcome("test", None, False, answerable=False),
    ]
    train = ev.Metrics.of(outcomes[:4])
    assert train.questions == 4
    assert train.recall == {1: 0.25, 5: 0.5, 10: 0.75}
    assert train.mrr == pytest.approx((1 + 1 / 2 + 1 / 7) / 4)
    assert train.answer_recall == 0.75
    assert (train.gold_in_top, train.answer_hit, train.answered) == (2, 0.5, 1.0)
    assert (train.unanswerable, train.abstention) == (0, None)

    splits = ev.split_metrics(outcomes)
    assert list(splits) == ["test", "train", ev.HELD_OUT, "all"]
    test = splits["test"]
    assert (test.questions, test.recall[1], test.recall[5], test.mrr) == (1, 0.0, 1.0, 0.25)
    assert (test.gold_in_top, test.answer_hit, test.answered) == (1, 0.0, 0.0)
    assert (test.unanswerable, test.abstention) == (3, pytest.approx(2 / 3))
    assert splits[ev.HELD_OUT] == test
    everything = splits["all"]
    assert everything.recall[5] == 0.6 and everything.answer_recall == 0.8
    assert splits["test"].recall[5] == 1.0 and ev.Metrics.of(outcomes[5:]).recall[5] is None  # nothing to count
    assert (everything.gold_in_top, everything.answer_hit, everything.answered) == (3, pytest.approx(1 / 3), 2 / 3)
    assert list(ev.split_metrics(outcomes[:4])) == ["train"]  # one split: no "all" duplicate


# --- a tiny benchmark through the real pipeline ---------------------------------------------

PASSAGES = {
    "p-merapi-letus": "Gunung Merapi meletus hebat pada 26 Oktober 2010. Letusan itu menewaskan lebih dari "
    "300 orang, termasuk juru kunci Mbah Maridjan.",
    "p-merapi-letak": "Gunung Merapi terletak di perbatasan Provinsi Jawa Tengah dan Daerah Istimewa "
    "Yogyakarta. Tinggi gunung api itu sekitar 2.930 meter di atas permukaan laut.",
    "p-rendang": "Rendang adalah masakan daging khas Minangkabau dari Sumatera Barat. Daging sapi dimasak "
    "perlahan dengan santan dan bumbu selama berjam-jam.",
    "p-mrt": "MRT Jakarta mulai beroperasi secara komersial pada 1 April 2019. Jalur pertamanya "
    "menghubungkan Lebak Bulus dan Bundaran HI sepanjang 16 kilometer.",
    "p-taufik": "Pebulu tangkis Indonesia Taufik Hidayat meraih medali emas Olimpiade Athena 2004 di nomor "
    "tunggal putra setelah mengalahkan Shon Seung-mo dari Korea Selatan.",
    "p-komodo": "Komodo hanya hidup di alam liar di Pulau Komodo, Rinca, dan Flores di Nusa Tenggara Timur. "
    "Kadal terbesar di dunia itu dapat tumbuh hingga tiga meter.",
    "p-borobudur": "Candi Borobudur di Magelang, Jawa Tengah, dibangun pada abad ke-8 oleh Dinasti Syailendra. "
    "Candi Buddha itu menjadi Situs Warisan Dunia UNESCO sejak 1991.",
    "p-bi": "Jakarta, Kompas - Bank Indonesia menaikkan suku bunga acuan menjadi 6 persen pada Kamis. "
    "Kenaikan itu untuk menahan pelemahan rupiah terhadap dolar AS.",
}
# (id, question, positive, answer, split). The Merapi eruption question is labelled with the
# *location* passage, so by construction its positive ranks 2nd, behind the eruption passage.
QUESTIONS = [
    ("q-merapi", "Kapan Gunung Merapi meletus hebat?", "p-merapi-letak", "26 Oktober 2010", "train"),
    ("q-rendang", "Dari daerah mana asal masakan rendang?", "p-rendang", "Minangkabau", "train"),
    ("q-mrt", "Kapan MRT Jakarta mulai beroperasi?", "p-mrt", "1 April 2019", "train"),
    ("q-taufik", "Siapa peraih emas tunggal putra Olimpiade Athena 2004?", "p-taufik", "Taufik Hidayat", "train"),
    ("q-komodo", "Seberapa besar komodo bisa tumbuh?", "p-komodo", "tiga meter", "train"),
    ("q-bi", "Berapa suku bunga acuan Bank Indonesia sekarang?", "p-bi", "6 persen", "train"),
    ("q-borobudur", "Siapa yang membangun Candi Borobudur?", "p-borobudur", "Dinasti Syailendra", "valid"),
]
UNANSWERABLE = [("u-persib", "Siapa pelatih pertama klub sepak bola Persib Bandung?", "valid")]
ALWAYS = AnswerConfig(dense_min=-1.0, dense_sure=-1.0, coverage_min=0.0)
NEVER = AnswerConfig(dense_min=2.0, dense_sure=2.0)


def _jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture(scope="module")
def bench_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bench")
    _jsonl(root / "corpus.jsonl", [{"id": k, "title": "", "text": v} for k, v in PASSAGES.items()])
    _jsonl(
        root / "queries.jsonl",
        [
            {"id": i, "question": q, "positive_ids": [p], "answers": [a], "source_split": s}
            for i, q, p, a, s in QUESTIONS
        ],
    )
    _jsonl(
        root / ev.UNANSWERABLE_FILE,
        [{"id": i, "question": q, "positive_ids": [], "answers": [], "source_split": s} for i, q, s in UNANSWERABLE],
    )
    return root


@pytest.fixture(scope="module")
def embedder(st_model) -> Embedder:
    return Embedder(st_model, BUNDLED_MODEL_ID)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def prepared(bench_dir: Path, embedder: Embedder, cache_dir: Path) -> ev.Prepared:
    return ev.prepare(ev.load_bench(bench_dir), embedder, cache_dir, progress=False)


def test_bench_goes_through_cleaning_and_maps_back(prepared: ev.Prepared) -> None:
    assert len(prepared.bench.questions) == 8 and sum(q.answerable for q in prepared.bench.questions) == 7
    bi = prepared.snapshot.articles["p-bi"]
    assert bi.text.startswith("Bank Indonesia") and bi.outlet == "Kompas" and bi.title == ""
    assert {p.article_id for p in prepared.snapshot.passages} == set(PASSAGES)


def test_retrieval_metrics_on_tiny_bench(prepared: ev.Prepared) -> None:
    result = ev.run(prepared, "hybrid", progress=False)
    ranks = {o.id: o.rank for o in result.outcomes if o.answerable}
    assert ranks == {q[0]: (2 if q[0] == "q-merapi" else 1) for q in QUESTIONS}
    merapi = next(o for o in result.outcomes if o.id == "q-merapi")
    assert merapi.top_ids[:2] == ["p-merapi-letus", "p-merapi-letak"]
    assert merapi.answer_rank == 1  # the unlabelled top passage holds "26 Oktober 2010"
    m = result.splits["all"]
    assert m.questions == 7 and m.unanswerable == 1
    assert m.recall == {1: pytest.approx(6 / 7), 5: 1.0, 10: 1.0}
    assert m.mrr == pytest.approx((6 + 1 / 2) / 7)
    train = result.splits["train"]
    assert (train.recall[1], train.mrr) == (pytest.approx(5 / 6), pytest.approx(5.5 / 6))
    assert result.splits["valid"].recall[1] == 1.0 and result.splits[ev.HELD_OUT] == result.splits["valid"]
    assert all(o.top_ids and len(set(o.top_ids)) == len(o.top_ids) for o in result.outcomes)


def test_answer_hits_and_abstention(prepared: ev.Prepared) -> None:
    always = ev.run(prepared, "hybrid", answer_config=ALWAYS, progress=False).splits["all"]
    never = ev.run(prepared, "hybrid", answer_config=NEVER, progress=False)
    assert (always.answered, always.abstention) == (1.0, 0.0)
    assert always.gold_in_top == 7
    # Every gold answer sits in one clear sentence (the Merapi one in the top passage),
    # so the shown sentence contains it for all seven.
    assert always.answer_hit == 1.0 and always.sentence_hit == 1.0
    m = never.splits["all"]
    assert (m.answered, m.abstention, m.answer_hit) == (0.0, 1.0, 0.0)
    assert m.sentence_hit == 1.0  # the sentence picker is still judged when the answer abstains
    assert all(o.answer == NOT_FOUND for o in never.outcomes)


def test_shipped_answer_rule_on_tiny_bench(prepared: ev.Prepared) -> None:
    result = ev.run(prepared, "hybrid", progress=False)
    by_id = {o.id: o for o in result.outcomes}
    m = result.splits["all"]
    answered = [by_id[q[0]].found for q in QUESTIONS]
    assert m.answered == pytest.approx(sum(answered) / 7)
    assert m.abstention == (0.0 if by_id["u-persib"].found else 1.0)
    hits = [by_id[q[0]].found and q[3].lower() in by_id[q[0]].answer.lower() for q in QUESTIONS]
    assert m.answer_hit == pytest.approx(sum(hits) / 7)


def test_modes_and_cache(prepared: ev.Prepared, embedder: Embedder, cache_dir: Path) -> None:
    dense = ev.run(prepared, "dense", with_answers=False, progress=False)
    bm25 = ev.run(prepared, "bm25", with_answers=False, progress=False)
    assert dense.overall.recall[10] == 1.0  # every passage is a dense hit in a corpus of eight
    assert bm25.search_config == {} and bm25.overall.recall[1] >= 5 / 7
    with pytest.raises(ValueError):
        ev.run(prepared, "sparse", progress=False)

    assert isinstance(prepared.embedder, ev.CachedEmbedder)
    assert (cache_dir / prepared.embedder.path.name / "vectors.npy").exists()
    again = ev.CachedEmbedder(embedder, cache_dir)
    again.model = None  # any encode now fails: a re-run must come from the cache alone
    second = ev.prepare(prepared.bench, again, progress=False)
    assert (second.query_vectors == prepared.query_vectors).all()
    assert len(second.snapshot.passages) == len(prepared.snapshot.passages)


def test_eval_command(
    prepared: ev.Prepared, bench_dir: Path, embedder: Embedder, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("index.embed.load_embedder", lambda *_: embedder)
    app = typer.Typer()
    app.command("eval")(eval_command)
    app.command("noop")(lambda: None)  # two commands, so "eval" is addressed by name as in kabar
    runner = CliRunner()
    args = ["eval", str(bench_dir), "--cache-dir", str(cache_dir)]  # embeddings cached by `prepared`
    out = runner.invoke(app, [*args, "--json", "--split", "train", "--mode", "dense", "--mode", "bm25"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert [r["mode"] for r in data] == ["dense", "bm25"]
    assert list(data[0]["splits"]) == ["train"] and data[0]["splits"]["train"]["questions"] == 6
    assert "outcomes" not in data[0]
    table = runner.invoke(app, [*args, "--limit", "2"])
    assert table.exit_code == 0, table.output
    assert "| hybrid | train | 2 |" in table.stdout and "| hybrid | valid | 0 |" in table.stdout
    assert runner.invoke(app, [*args, "--mode", "sparse"]).exit_code != 0
