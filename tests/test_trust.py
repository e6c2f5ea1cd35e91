"""Answer only what the articles say: the shipped answer checker, and floors on the seed questions.

The seed questions (bench/questions/seed.jsonl) were written for the bundled articles and are not
training data; the floors are asserted on their test split (bench/trust.py tuned on the dev split).
"""

from __future__ import annotations

import json
import shutil

import pytest

from index import checker as checker_module
from index.checker import CheckerUnavailable, load_checker
from index.evaluate import read_seed, seed_passes

SEED = read_seed()
TEST = [r for r in SEED if r["split"] == "test"]

# Regression floors a question or two under what bench/results/trust-seed.md measured (75.0 %, 76.9 %, 66.0 %,
# 100 %; int8 scores move a little with the CPU's kernels and with the runs they share), not the issue's targets
# (97 %, 90 %, 90 %, 100 %), which the shipped checker does not reach.
FLOORS = {
    ("answerable", "id"): 0.70,
    ("answerable", "en"): 0.69,
    ("near-topic", "both"): 0.62,
    ("off-topic", "both"): 0.85,
}


def test_the_seed_set_is_what_the_issue_asks_for() -> None:
    answerable = [r for r in TEST if r["kind"] == "answerable"]
    assert len(answerable) >= 60 and sum(r["lang"] == "en" for r in answerable) >= 20
    assert sum(r["kind"] == "near-topic" for r in TEST) >= 40
    assert all(r["answer_words"] for r in answerable)


def test_shipped_weights_match_their_hash() -> None:
    meta = json.loads(checker_module.META.read_text())
    assert checker_module.sha256(checker_module.WEIGHTS) == meta["sha256"]
    assert checker_module.WEIGHTS.stat().st_size < 25 * 1024 * 1024
    assert 0 < meta["calibration"]["threshold"] < 1


@pytest.mark.parametrize("damage", ["missing", "flipped", "truncated"])
def test_damaged_weights_name_the_fix(tmp_path, model_dir, damage) -> None:
    weights = tmp_path / "checker.safetensors"
    shutil.copy(checker_module.META, tmp_path / "checker.json")
    if damage != "missing":
        data = bytearray(checker_module.WEIGHTS.read_bytes())
        if damage == "flipped":
            data[len(data) // 2] ^= 0xFF
        else:
            data = data[: len(data) // 3]
        weights.write_bytes(bytes(data))
    with pytest.raises(CheckerUnavailable) as error:
        load_checker(model_dir, weights, tmp_path / "checker.json")
    message = str(error.value)
    assert "\n" not in message and "bench.train_checker" in message and str(weights) in message


HEADER = "Apa yang diinginkan Kim Jong Un sebagai imbalannya?"
UNDER_IT = "Pengamat mengatakan prioritas Kim adalah pengiriman bantuan, prestise, dan teknologi militer."
TREATY = "Beberapa ahli Rusia berspekulasi bahwa kedua negara mungkin menandatangani perjanjian baru."


def test_checker_reads_the_question_against_the_sentence(answer_checker) -> None:
    """The sentence that answers (read under its header, as index/answer.py gives it) outscores one that
    shares the question's names but not its fact; the same names asking another fact are refused."""
    threshold = answer_checker.calibration.threshold
    answers, other = answer_checker.probabilities(HEADER, [f"{HEADER} {UNDER_IT}", TREATY])
    assert answers > threshold > other
    [father] = answer_checker.probabilities("Siapa ayah Kim Jong Un?", [f"{HEADER} {UNDER_IT}"])
    assert father < threshold


def test_a_sentence_scores_the_same_however_far_the_reading_goes(answer_checker) -> None:
    """The int8 checker quantizes activations per run; its fixed runs of two make reading two at a time
    (index.answer.judge) score each sentence exactly as reading all of them at once."""
    sentences = [f"{HEADER} {UNDER_IT}", TREATY, UNDER_IT, "Putin tiba di Pyongyang pada Juni.", HEADER]
    whole = answer_checker.probabilities(HEADER, sentences)
    stepwise = [
        p for i in range(0, len(sentences), 2) for p in answer_checker.probabilities(HEADER, sentences[i : i + 2])
    ]
    assert list(whole) == stepwise


@pytest.fixture(scope="module")
def seed_answers(bot_engine):
    return [(row, bot_engine.ask(row["question"], k=3)) for row in TEST]


@pytest.mark.parametrize(("kind", "lang"), list(FLOORS))
def test_seed_floors(seed_answers, kind, lang) -> None:
    rows = [(r, a) for r, a in seed_answers if r["kind"] == kind and lang in (r["lang"], "both")]
    passed = [seed_passes(r, a) for r, a in rows]
    failed = [r["question"] for (r, _), ok in zip(rows, passed, strict=True) if not ok]
    assert sum(passed) / len(passed) >= FLOORS[kind, lang], failed


def test_found_answers_cite_their_sentence_first(seed_answers) -> None:
    """The answer is a sentence of the first cited passage, with a calibrated confidence."""
    found = [a for _, a in seed_answers if a.found]
    assert found
    for a in found:
        assert a.sentences[0].text in a.hits[0].passage.text or a.sentences[0].text in a.text
        assert 0.0 <= a.confidence <= 1.0


def test_refusals_name_the_closest_article_only_on_topic(seed_answers) -> None:
    near = [a for r, a in seed_answers if r["kind"] == "near-topic" and not a.found]
    off = [a for r, a in seed_answers if r["kind"] == "off-topic" and not a.found]
    assert all(not a.hits for a in near + off)
    assert sum(bool(a.closest) for a in near) >= len(near) // 2
    # Three English off-topic questions pass the relatedness gate, are checked and refused; their refusal
    # names the article the checker read ("closest article: …"), as it does for near-topic ones.
    assert sum(bool(a.closest) for a in off) <= len(off) // 3


def test_english_questions_get_english_words(bot_engine) -> None:
    refused = bot_engine.ask("Who won the 2022 World Cup final?")
    assert not refused.found and refused.language == "en" and refused.text == "The articles don't answer this question."
    assert bot_engine.ask("Siapa pemenang Piala Dunia 2022?").language == "id"


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("What does Kim want in return?", "en"),
        ("Who replaced Sergei Shoigu as Russia's defence minister?", "en"),
        ("berapakah jumlah anggota The Beatles?", "id"),
        ("Kapan film The Anthem of the Heart dirilis?", "id"),
        ("berapakah jumlah surah didalam Al Qur'an?", "id"),
        ("Apa yang diinginkan Kim Jong Un sebagai imbalannya?", "id"),
    ],
)
def test_kabars_own_words_follow_the_language_the_question_is_written_in(question, lang) -> None:
    """An English title ("The Beatles") or a stray English-looking word ("an" in "Al Qur'an") does not turn
    an Indonesian question's replies English."""
    from index.answer import language

    assert language(question) == lang


@pytest.mark.parametrize(
    ("previous", "sentence", "with_previous"),
    [
        ("Putin tiba di Pyongyang.", "Terakhir kali ia mengunjungi Korea Utara adalah pada Juli 2000.", True),
        ("Shoigu berkunjung ke Pyongyang.", "Ia mengatakan Shoigu adalah menteri pertama.", True),
        ("Korut menutup perbatasannya.", "Negara tersebut kini membukanya kembali.", True),
        (HEADER, UNDER_IT, True),
        ("Putin tiba di Pyongyang.", "Pada tahun 2000, kunjungan pertama Putin menghasilkan perjanjian baru.", False),
        ("", "Ia mengatakan Shoigu adalah menteri pertama.", False),
    ],
)
def test_a_sentence_that_leans_on_the_one_before_is_read_with_it(previous, sentence, with_previous) -> None:
    from index.answer import context_for

    assert context_for(previous, sentence) == (f"{previous} {sentence}" if with_previous else sentence)


def test_training_erases_the_answer_and_the_word_leading_into_it() -> None:
    """The answer-erased negative keeps the sentence's names and topic but not the fact asked."""
    from bench.train_checker import erase

    sentence = "PT Mutiara Indopearl berlokasi di Pulau Makassar dan PT Selat Buton di Palabusa."
    assert erase(sentence, ["Pulau Makassar"]) == "PT Mutiara Indopearl berlokasi dan PT Selat Buton di Palabusa."
    assert erase("Lewat telepon, Hezb-ul Mujahedeen, kelompok militan terbesar, mengaku.", ["Hezb-ul Mujahedeen"]) == (
        "Lewat telepon, kelompok militan terbesar, mengaku."
    )
    assert erase("Ia lahir pada 1950.", ["1950"]) is None  # too little left to read as a sentence
    assert erase(sentence, ["Jakarta"]) is None  # no answer in it: nothing erased


def test_typed_negatives_answer_another_question_of_the_same_kind() -> None:
    """A "kapan?" question gets other questions' date sentences, never from its own passage nor holding its answer."""
    import random

    from bench.train_checker import asks, typed_negatives

    assert [asks(q) for q in ("Kapan Rusia menginvasi Ukraina?", "Siapa ayah Kim?", "Why now?")] == [
        "when",
        "who",
        "why",
    ]
    by_kind = {
        "when": [("p1", "Perang pecah pada 1950."), ("p2", "Kim lahir pada 1984 di Pyongyang."), ("p3", "KTT 2019.")],
        "who": [("p4", "Presidennya Joko Widodo.")],
    }
    q = {"bench": "facqa", "question": "Kapan Kim lahir?", "answers": ["1984"]}
    out = typed_negatives(q, "p1", by_kind, random.Random(0))
    assert out and all("1984" not in s and s != "Perang pecah pada 1950." for s in out)
    assert set(out) <= {"KTT 2019."}


def test_mined_negatives_are_taken_only_where_the_label_is_sure() -> None:
    """An unanswerable question's other passages might answer it, a long answer hides from string matching,
    and the gold passage's sentences are already negatives: none of those are mined."""
    from bench.mine_negatives import minable
    from index.evaluate import Question

    short = Question("q1", "Kapan Reza Shah lahir?", ("gold",), ("16 Maret 1878",), "train")
    definition = ("cabang dinamika yang berkenaan dengan udara",)
    long = Question("q2", "Apakah itu aerodinamika?", ("gold",), definition, "train")
    unanswerable = Question("q3", "Berapa luas Kabupaten Lungkung?", (), (), "train")
    assert minable(short, "other", None) and not minable(short, "gold", None)
    assert not minable(long, "other", None)
    assert minable(unanswerable, "against", "against") and not minable(unanswerable, "other", "against")


def test_a_soup_is_the_weighted_mean_of_its_checkers_tensor_by_tensor(tmp_path) -> None:
    """Weights are shares, not multipliers, and checkers holding other tensors cannot be mixed."""
    import torch
    from safetensors.torch import save_file

    from bench.soup_checker import mix

    a, b, c = tmp_path / "a.safetensors", tmp_path / "b.safetensors", tmp_path / "c.safetensors"
    save_file({"w": torch.tensor([0.0, 4.0]).half(), "v": torch.tensor([1.0]).half()}, str(a))
    save_file({"w": torch.tensor([2.0, 0.0]).half(), "v": torch.tensor([3.0]).half()}, str(b))
    save_file({"w": torch.tensor([2.0, 0.0]).half()}, str(c))
    soup = mix([a, b], [3.0, 1.0])
    assert soup["w"].tolist() == [0.5, 3.0] and soup["v"].tolist() == [1.5]
    assert mix([a, b], [1.0, 1.0])["w"].tolist() == [1.0, 2.0]
    with pytest.raises(SystemExit):
        mix([a, c], [1.0, 1.0])


def test_swapped_negative_changes_the_rarest_word_the_question_shares_with_its_answer() -> None:
    """Names and question word stay; one word the sentence states becomes a word of the same shape it does not."""
    import random

    from bench.train_checker import swap_word, word_shape

    sentence = "Microsoft didirikan pada 1975 oleh Bill Gates di kota Albuquerque."
    df = {"didirikan": 3, "kota": 50}
    vocabulary = ["dibubarkan", "didirikannya", "menulis", "dijual", "sekolah"]
    for seed in range(10):
        out = swap_word("Kapan Microsoft didirikan di kota Albuquerque?", sentence, df, vocabulary, random.Random(seed))
        assert out == "Kapan Microsoft dibubarkan di kota Albuquerque?"
    assert word_shape("dibubarkan") == word_shape("didirikan") != word_shape("menulis")
    assert swap_word("Siapa istri Bill Gates?", sentence, df, vocabulary, random.Random(0)) is None  # nothing shared


def test_training_puts_questions_into_english_word_by_word_keeping_names() -> None:
    """Affixed Indonesian words find their root in the lexicon; names and numbers pass through."""
    from bench.pseudo_english import roots, translate

    words = {"ganti": "replace", "menteri": "minister", "pertahanan": "defense", "rusia": "russia", "tulis": "write"}
    assert "ganti" in roots("menggantikan") and "tulis" in roots("menulis")
    assert translate("Siapa yang menggantikan Shoigu sebagai menteri pertahanan Rusia pada 2024?", words) == (
        "Who that replace Shoigu as minister defense russia on 2024?"
    )
    assert translate("kapan Taewoo menulis?", words) == "When Taewoo write?"


def test_the_checker_reads_a_wholly_english_question_word_by_word_in_indonesian() -> None:
    """Inflected English finds its entry, names keep their capitals, a mixed question stays as asked."""
    from index.answer import wholly_english
    from index.translate import WORDS, to_indonesian

    words = {**WORDS, "minister": "menteri", "defense": "pertahanan", "replace": "mengganti"}
    assert to_indonesian("Who replaced Sergei Shoigu as Russia's defence minister?", words) == (
        "Siapa menggantikan Sergei Shoigu sebagai Rusia pertahanan menteri?"
    )
    assert (
        to_indonesian("How many US officials visited Pyongyang?", words) == "Berapa AS pejabat mengunjungi Pyongyang?"
    )
    # a short word inside a name stays, a title or a question word beside a name still translates
    names = {**words, "un": "pbb", "son": "anak laki-laki", "park": "taman", "foreign": "asing", "meet": "bertemu"}
    assert to_indonesian("What does Kim Jong Un want?", names).startswith("Apa Kim Jong Un ")
    assert to_indonesian("Where does Park Won-gon teach?", names).startswith("Di mana Park Won-gon ")
    assert to_indonesian("Did the Foreign Minister Choe Son Hui meet the UN?", names).endswith(
        "Asing Menteri Choe Son Hui bertemu PBB?"
    )
    assert wholly_english("What does Kim want in return?")
    assert not wholly_english("tahun berapakah The Greatest Showman dirilis?")


@pytest.mark.parametrize(
    ("question", "names"),
    [
        ("Kapan Putin mengunjungi Pyongyang pada 2000?", {"putin", "pyongyang", "2000"}),
        ("How do I bake sourdough bread at home?", set()),
        ("What did I read about Kim Taewoo?", {"kim", "taewoo"}),
    ],
)
def test_names_are_capitalised_words_and_numbers_not_the_pronoun_i(question, names) -> None:
    from index.answer import entities

    assert entities(question) == names


class CountingChecker:
    """A deterministic stand-in for the checker: a sentence's probability is written in it ("p=0.7")."""

    def __init__(self):
        self.calibration = checker_module.Calibration(threshold=0.5)
        self.read: list[str] = []
        self.batches: list[int] = []

    def probabilities(self, question, sentences):
        self.read += sentences
        self.batches.append(len(sentences))
        return [float(s.split("p=")[1]) for s in sentences]


def _pool(*probabilities: float):
    from index.answer import Candidate

    return [Candidate(0, i, f"s{i} p={p}", prior=-i) for i, p in enumerate(probabilities)]


@pytest.mark.parametrize(
    ("probabilities", "read", "found"),
    [
        ((0.1, 0.9, 0.2, 0.3, 0.95), 2, True),  # a sure passer among the first two: the rest is not read
        ((0.1, 0.6, 0.2, 0.7, 0.95), 4, True),  # a marginal one: two more are read, then no more
        ((0.1, 0.2, 0.3, 0.95, 0.4), 4, True),  # none among the first two: the next two hold a passer
        ((0.1, 0.2, 0.3, 0.4, 0.45), 5, False),  # a refusal always reads them all
    ],
)
def test_the_checker_reads_two_at_a_time_until_one_clears(probabilities, read, found) -> None:
    from dataclasses import replace

    from index.answer import AnswerConfig, judge

    config = AnswerConfig()
    fake = CountingChecker()
    judged = judge(fake, "q", _pool(*probabilities), config)
    assert len(fake.read) == read == len(judged)
    assert max(fake.batches) == config.read_step
    assert (judged[0].probability >= 0.5) is found
    assert [c.probability for c in judged] == sorted((c.probability for c in judged), reverse=True)
    everything = judge(CountingChecker(), "q", _pool(*probabilities), replace(config, read_every=True))
    assert len(everything) == len(probabilities) and (everything[0].probability >= 0.5) is found
    english = CountingChecker()
    judge(english, "What does Kim want in return?", _pool(*probabilities, 0.1, 0.1), config)
    assert len(english.read) == (max(read, config.english_read_least) if found else len(probabilities) + 2)


def test_an_indonesian_question_with_an_english_title_is_read_to_the_indonesian_threshold() -> None:
    """The English threshold is lower; reading must not stop on a candidate that clears only it, since
    answer() holds an Indonesian question to the Indonesian one (the verdict would differ from reading all)."""
    from dataclasses import replace

    from index.answer import AnswerConfig, judge

    fake = CountingChecker()
    fake.calibration = replace(fake.calibration, threshold=0.6, english_threshold=0.3)
    pool = _pool(0.4, 0.1, 0.2, 0.1, 0.2, 0.1, 0.7, 0.1)
    judged = judge(fake, "tahun berapakah The Greatest Showman dirilis?", pool, AnswerConfig())
    assert len(fake.read) == 8 and judged[0].probability == 0.7


def test_reading_the_likeliest_first_keeps_every_seed_verdict(bot_engine, seed_answers) -> None:
    """On the seed questions, found or refused is the same with the shipped two-step reading as with
    reading every candidate in the same batches (the answer sentence may differ, the verdict may not)."""
    from bench.trust import reading_all

    with reading_all(bot_engine):
        for row, shipped in seed_answers:
            assert bot_engine.ask(row["question"], k=3).found == shipped.found, row["question"]


def test_word_support_finds_no_match_for_a_word_the_sentence_does_not_state(model_dir) -> None:
    """bench/word_support.py (tried, not shipped): "umur" finds nothing in a sentence that names Putin and a
    date, and its weakest word matches far better in one that states his age; so does "kepala" for KINU."""
    from bench.word_support import WordSupport

    support = WordSupport(model_dir)
    cases = {
        "Berapa umur Vladimir Putin?": (
            "Kunjungan Putin diperkirakan akan terjadi sekitar 18-19 Juni.",
            "Vladimir Putin kini berusia 71 tahun.",
        ),
        "Siapa kepala KINU saat ini?": (
            "Hyun Seung-soo, seorang peneliti di Institut Unifikasi Nasional Korea (KINU), percaya bahwa klausul "
            "itu tidak akan dihidupkan lagi.",
            "Kepala KINU saat ini adalah Kim Chun-sig.",
        ),
    }
    for question, (near, answers) in cases.items():
        weak, strong = support.support(question, [near, answers])
        assert weak + 0.2 < strong, question
    assert support.support("Siapa?", ["Kim Jong Un."]) is None  # no content word to look for


def test_a_threshold_replayed_from_threshold_zero_shows_only_what_clears_it() -> None:
    """bench.trust's seed bound: what an answer given at threshold zero would have been at another one."""
    from bench.trust import passes_at
    from index.answer import Candidate
    from index.models import Answer, Article, Hit, Passage

    article = Article("a.txt", "a.txt", "Judul", "Kim bertemu Putin.")
    hits = [Hit(Passage("p0", "a.txt", 0, "Kim bertemu Putin.", "Kim bertemu Putin."), article, 0.9, 0.9)]
    best = Candidate(0, 0, "Kim bertemu Putin.", 0.9, probability=0.9)
    second = Candidate(0, 1, "Pertemuan itu di Vostochny.", 0.8, probability=0.4)
    answer = Answer("Di mana?", True, "…", hits, confidence=0.9, sentences=(best, second))
    asks_where = {"kind": "answerable", "answer_words": ["Vostochny"]}
    near = {"kind": "near-topic", "answer_words": []}

    assert passes_at(asks_where, answer, 0.3)  # both sentences clear it
    assert not passes_at(asks_where, answer, 0.5)  # found, but the sentence naming the place is not shown
    assert not passes_at(asks_where, answer, 0.95)  # refused
    assert not passes_at(near, answer, 0.5) and passes_at(near, answer, 0.95)
    assert passes_at({"kind": "answerable", "answer_words": ["putin"]}, answer, 0.5)  # from the passage


def test_reason_sentences_become_why_questions_and_lose_their_reason_as_negatives() -> None:
    import random

    from bench.why_questions import ask_why, erased, split_reason

    what, why = split_reason("Namun, pertandingan final itu ditunda dua jam karena hujan deras mengguyur stadion.[3]")
    assert (what, why) == ("pertandingan final itu ditunda dua jam", "hujan deras mengguyur stadion")
    assert erased(what) == "Pertandingan final itu ditunda dua jam."
    assert split_reason("Karena harga minyak naik tajam, pemerintah menaikkan tarif listrik tahun itu.") == (
        "pemerintah menaikkan tarif listrik tahun itu",
        "harga minyak naik tajam",
    )
    rng = random.Random(0)
    assert ask_why("Pertandingan final itu ditunda dua jam", rng).endswith("pertandingan final itu ditunda dua jam?")
    assert "Bank Indonesia menaikkan suku bunga" in ask_why("Bank Indonesia menaikkan suku bunga", rng)
    assert split_reason("Ratu Merah tidak menyadari identitas Alice dan karena itu ia disambut.") is None
    assert split_reason("Ia pergi karena sakit.") is None  # too short to ask about


def test_manner_sentences_become_how_questions() -> None:
    import random

    from bench.why_questions import ask_how, erased, split_manner

    what, how = split_manner("Pulau ini dapat ditempuh dari pusat kota dengan menggunakan perahu bermotor.")
    assert (what, how) == ("Pulau ini dapat ditempuh dari pusat kota", "menggunakan perahu bermotor")
    assert ask_how(what, random.Random(0)).endswith(" pulau ini dapat ditempuh dari pusat kota?")
    assert erased(what) == "Pulau ini dapat ditempuh dari pusat kota."
    seen = "Konfirmasi awal dari pemerintah Korea Selatan dilihat sebagai taktik tekanan."
    assert split_manner(seen) == ("Konfirmasi awal dari pemerintah Korea Selatan dilihat", "taktik tekanan")
    assert split_manner("Kota itu dikenal sebagai kota pelajar.") is None  # a name, not a way
    assert split_manner("Ia datang dengan istrinya.") is None


def test_a_role_sentence_answers_its_role_and_its_swapped_twin_asks_one_nobody_holds() -> None:
    import random

    from bench.role_questions import ask_who, role_questions, swap_asked_role

    sentence = "Konstantin Asmolov, peneliti senior di Akademi Ilmu Pengetahuan Rusia, menyebutkan hal itu."
    assert role_questions(sentence) == [("peneliti senior", "di Akademi Ilmu Pengetahuan Rusia")]
    assert role_questions("Pada 13 Juni, ketua Juni berbicara.") == []  # a month is no organisation
    assert role_questions("Sidang dipimpin oleh ketua Dewan Pers.") == []  # nobody named to hold it
    question = ask_who("peneliti senior", "di Akademi Ilmu Pengetahuan Rusia")
    rng = random.Random(0)
    for _ in range(20):
        twin = swap_asked_role(question, sentence, rng)
        role = twin.removeprefix("Siapa ").split(" di ")[0]
        assert twin.endswith(" di Akademi Ilmu Pengetahuan Rusia?") and role not in sentence.lower()
    assert swap_asked_role("Siapakah nama Menteri Luar Negeri Belanda?", "…", rng) is None  # a title, not a role
    assert swap_asked_role("Kapan Akademi itu didirikan?", sentence, rng) is None


def test_an_english_question_sharing_no_word_with_the_articles_is_not_checked(bot_engine) -> None:
    """e5's cross-lingual offset lets an off-topic English question past the cosine gate; its
    Indonesian reading shares no word with the articles, so no sentence is read as its answer."""
    from index.answer import AnswerConfig, top_cosine

    question = "How do I knit a scarf at home?"
    config = AnswerConfig()
    assert top_cosine(question, bot_engine.search(question, k=1), config) >= config.dense_min  # past the cosine
    off = bot_engine.ask(question)
    assert not off.found and off.closest == "" and off.sentences == ()
    assert bot_engine.ask("What does Kim want in return?").found
