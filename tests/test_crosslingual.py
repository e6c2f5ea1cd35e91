"""Cross-lingual search: an English question finds the passages its Indonesian twin finds.

Twelve hand-written pairs about the two seed articles in corpus/ (six about each, spread over
their passages). Each pair is an Indonesian question a reader might ask, its faithful English
translation, and a phrase of the passage that answers both (the phrase, not a passage id, so
the pairs survive changes to chunking).

Rankings come from `Engine.search`, not `Engine.ask`: an answer that abstains has no hits,
and this file is about what is found, not about whether the answer gate lets it through
(that is checked separately, at the end).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass

import pytest

from index.engine import Engine
from index.models import Hit
from index.settings import PROJECT_DIR, Settings

TOP = 3  # the passages an answer cites (KABAR_TOP_K)
# Of the 12 pairs, 10 share the top passage: the two others are a near-tie on the Indonesian side
# (early-confirmation) and one real cross-lingual miss (MISSES). A drop below 10 is a regression.
MIN_SAME_TOP1 = 10


@dataclass(frozen=True)
class Pair:
    slug: str
    indonesian: str
    english: str
    evidence: str  # a phrase of the passage that answers the question
    # Why this pair may miss the strict check (same top-1) and is held to the near one instead:
    # each top-1 among the other's top 3, top-3 sets sharing two passages. "" = strict.
    tolerance: str = ""


PAIRS = [
    # --- Kilas Klaten, 2024: Putin's visit to Pyongyang ---
    Pair(
        "putin-visit-date",
        "Kapan Putin diperkirakan akan mengunjungi Korea Utara?",
        "When is Putin expected to visit North Korea?",
        "sekitar 18-19 Juni",
    ),
    Pair(
        "early-confirmation",
        "Mengapa Korea Selatan mengonfirmasi kunjungan Putin lebih awal?",
        "Why did South Korea confirm Putin's visit early?",
        "taktik tekanan",
        tolerance="The Indonesian question ranks the answer second by a hair (fused 1.47 vs 1.44) behind the "
        "passage on South Korea's view of the visit, which shares more words with it; the English one "
        "ranks the answer first.",
    ),
    Pair(
        "more-dangerous-visit",
        "Mengapa kunjungan Putin kali ini lebih berbahaya daripada 24 tahun lalu?",
        "Why is Putin's visit this time more dangerous than 24 years ago?",
        "iklim geopolitik saat ini",
    ),
    Pair(
        "treaty-1961",
        "Apa isi perjanjian 1961 antara Uni Soviet dan Korea Utara?",
        "What did the 1961 treaty between the Soviet Union and North Korea contain?",
        "termasuk klausul untuk intervensi militer otomatis",
    ),
    Pair(
        "intervention-clause",
        "Apakah klausul intervensi militer otomatis akan dihidupkan kembali?",
        "Will the automatic military intervention clause be revived?",
        "tidak mungkin akan dihidupkan kembali",
    ),
    Pair(
        "russia-limited-support",
        "Mengapa Rusia mungkin tidak memberikan dukungan besar kepada Korea Utara?",
        "Why might Russia not give North Korea substantial support?",
        "fokus pada layanan politik",
    ),
    Pair(
        "kim-yo-jong",
        "Mengapa Kim Yo-jong melunakkan retorika anti-Korea Selatan?",
        "Why did Kim Yo-jong soften her anti-South Korea rhetoric?",
        "moderasi mendadak retorika anti-Korea Selatan",
    ),
    # --- Republika, 2023: what North Korea and Russia want from each other ---
    Pair(
        "kim-wants-in-return",
        "Apa yang diinginkan Kim Jong Un sebagai imbalannya?",
        "What does Kim Jong Un want in return?",
        "prioritas Kim adalah pengiriman bantuan",
    ),
    Pair(
        "shoigu-visit",
        "Kapan Sergei Shoigu berkunjung ke Pyongyang dan apa yang ia minta?",
        "When did Sergei Shoigu visit Pyongyang and what did he ask for?",
        "Sergei Shoigu berkunjung ke Pyongyang pada bulan Juli",
    ),
    Pair(
        "un-resolution",
        "Apakah membeli amunisi dari Korea Utara melanggar resolusi PBB?",
        "Does buying ammunition from North Korea violate UN resolutions?",
        "akan melanggar resolusi PBB",
    ),
    Pair(
        "rail-bottleneck",
        "Mengapa Korea Utara mungkin tidak bisa cepat mengirim amunisi ke Rusia?",
        "Why might North Korea be unable to send ammunition to Russia quickly?",
        "jalur darat yang sempit",
    ),
    Pair(
        "juche-no-exercises",
        "Mengapa Korea Utara menghindari latihan militer dengan negara asing?",
        "Why does North Korea avoid military exercises with foreign countries?",
        '"juche"',
    ),
]

# Known misses, kept in the set on purpose (strict xfail: a fix turns them into failures to clean up).
MISSES = {
    "russia-limited-support": "English misses the answer (Cho Han-bum's passage) from its top 5 and ranks a "
    "Republika passage first; Indonesian has it second. Dense scores of the top passages are within 0.005 "
    "for both questions: the answer is one sentence of a passage about other things.",
}
# The answer checker (index/checker.py) refuses this Indonesian question although search finds its
# passage. The shipped threshold (0.584) is chosen end to end on the benchmarks' valid splits to answer 90 %
# of them; on these articles it costs answerable questions whose answer is one clause of a long sentence
# (README, Quality: the seed figures and what bounds them). The checker trained with why-questions
# (2026-12-05) answers four twins the one before it refused (Cho Han-bum, the pressure tactic, the riskier
# climate, juche).
REFUSED_BY_CHECKER = {
    "rail-bottleneck": "the checker scores Cha's sentence on the narrow rail link under its threshold",
}
# The checker reads English questions word by word in Indonesian (index/translate.py), under an English
# threshold (0.346) that refuses most near- and off-topic English questions; these two answerable twins
# score under it: the price of that trade, measured in bench/results/trust-seed.md.
REFUSED_IN_ENGLISH: set[str] = {"early-confirmation", "treaty-1961"}


def _params(known: dict[str, str] | set[str], reason: str = "") -> list:
    return [
        pytest.param(
            p,
            id=p.slug,
            marks=[pytest.mark.xfail(strict=True, reason=reason or known[p.slug])] if p.slug in known else [],
        )
        for p in PAIRS
    ]


@pytest.fixture(scope="module")
def engine(bundled_embedder, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """An engine over a copy of the seed corpus, built once for this module."""
    root = tmp_path_factory.mktemp("crosslingual")
    shutil.copytree(PROJECT_DIR / "corpus", root / "corpus")
    return Engine.open(Settings(_env_file=None, corpus_dir=root / "corpus", data_dir=root / "data"), bundled_embedder)


@pytest.fixture(scope="module")
def ranked(engine) -> dict[str, list[Hit]]:
    """Every question's top five, searched once."""
    return {q: engine.search(q, k=5) for p in PAIRS for q in (p.indonesian, p.english)}


def _ids(hits: list[Hit]) -> list[str]:
    return [h.passage.id for h in hits]


def _show(hits: list[Hit]) -> str:
    return "\n".join(
        f"  {h.rank}. {h.score:.2f} (dense {h.dense:.3f}) {h.article.outlet} #{h.passage.position}: "
        f"{h.passage.text[:70]!r}"
        for h in hits
    )


def _holds(hits: list[Hit], phrase: str) -> bool:
    return any(phrase in h.passage.text for h in hits)


def test_pairs_are_well_formed():
    assert len(PAIRS) == 12
    assert len({p.slug for p in PAIRS}) == len({p.indonesian for p in PAIRS}) == len({p.english for p in PAIRS}) == 12
    corpus = " ".join(f.read_text() for f in (PROJECT_DIR / "corpus").glob("*.txt"))
    assert all(p.evidence in corpus for p in PAIRS)
    assert set(MISSES) | REFUSED_IN_ENGLISH | set(REFUSED_BY_CHECKER) <= {p.slug for p in PAIRS}


@pytest.mark.parametrize("pair", _params(MISSES))
def test_english_question_finds_the_same_passage(pair: Pair, ranked):
    ind, eng = ranked[pair.indonesian], ranked[pair.english]
    shown = f"\n{pair.indonesian}\n{_show(ind)}\n{pair.english}\n{_show(eng)}"
    assert _holds(ind[:TOP], pair.evidence), f"the Indonesian question misses its own answer: fix the pair{shown}"
    assert _holds(eng[:TOP], pair.evidence), f"the English question misses the answer{shown}"
    assert len(set(_ids(ind[:TOP])) & set(_ids(eng[:TOP]))) >= 2, f"top {TOP} share under two passages{shown}"
    if pair.tolerance:
        assert eng[0].passage.id in _ids(ind[:TOP]) and ind[0].passage.id in _ids(eng[:TOP]), shown
    else:
        assert eng[0].passage.id == ind[0].passage.id, f"different top passage{shown}"


def test_most_pairs_share_the_top_passage(ranked):
    differ = [p.slug for p in PAIRS if ranked[p.indonesian][0].passage.id != ranked[p.english][0].passage.id]
    same = len(PAIRS) - len(differ)
    assert same >= MIN_SAME_TOP1, f"{same}/{len(PAIRS)} pairs share the top passage; differ: {differ}"


@pytest.mark.parametrize("pair", _params(REFUSED_BY_CHECKER))
def test_indonesian_question_is_answered(pair: Pair, engine):
    answer = engine.ask(pair.indonesian)
    assert answer.found, answer
    assert _holds(answer.hits[:TOP], pair.evidence)


@pytest.mark.parametrize(
    "pair",
    _params({**MISSES, **{slug: "the answer gate refuses it (REFUSED_IN_ENGLISH)" for slug in REFUSED_IN_ENGLISH}}),
)
def test_english_question_is_answered(pair: Pair, engine):
    answer = engine.ask(pair.english)
    assert answer.found, f"refused, confidence {answer.confidence:.3f}"
    assert _holds(answer.hits[:TOP], pair.evidence)


@pytest.mark.parametrize(
    ("question", "english"),
    [
        ("What does Kim want in return?", True),
        ("Why might Russia not give North Korea substantial support?", True),
        ("Apa yang diinginkan Kim Jong Un sebagai imbalannya?", False),
        ("Kapan Putin ke Pyongyang?", False),
        ("Putin Pyongyang", False),  # no function words: treated as Indonesian, no offset
    ],
)
def test_the_answer_gate_tells_english_questions_apart(question: str, english: bool):
    from index.answer import is_english

    assert is_english(question) is english
