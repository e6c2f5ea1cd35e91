"""Chunking: passages of whole sentences, headers kept with their paragraphs, stable ids."""

from pathlib import Path

import pytest

from index.chunk import chunk_article, split_sentences, words
from index.loader import parse_article
from index.models import Article

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "corpus"  # shared/ sits beside the repo (also in CI)
SEEDS = [
    SHARED / "000_2509aca90c52c704.txt",
    SHARED / "002_9ae1f15e6224c429.txt",
    ROOT / "corpus/republika-2023-korut-rusia-saling-inginkan.txt",
    ROOT / "corpus/kilasklaten-2024-06-14-putin-pyongyang.txt",
]
MODEL = "intfloat/multilingual-e5-small@q4"
KIM_HEADER = "Apa yang diinginkan Kim Jong Un sebagai imbalannya?"


def load(path: Path) -> Article:
    if not path.exists():
        pytest.skip(f"{path} not present")
    return parse_article(path.read_text(encoding="utf-8"), path.name, str(path))


@pytest.fixture(params=SEEDS, ids=["shared-republika", "shared-kilasklaten", "corpus-republika", "corpus-kilasklaten"])
def seed(request) -> Article:
    return load(request.param)


@pytest.fixture
def republika() -> Article:
    return load(SEEDS[2])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Prof. Dr. Budi Santoso hadir. Ia berbicara.", ["Prof. Dr. Budi Santoso hadir.", "Ia berbicara."]),
        ("Harga naik 3,5 persen. Lalu turun 3.5 persen.", ["Harga naik 3,5 persen.", "Lalu turun 3.5 persen."]),
        ("Kunjungan pada 18-19 Juni. Putin datang.", ["Kunjungan pada 18-19 Juni.", "Putin datang."]),
        (
            "Menurut REPUBLIKA.CO.ID, Kim datang. Baca Kompas.com untuk detail.",
            ["Menurut REPUBLIKA.CO.ID, Kim datang.", "Baca Kompas.com untuk detail."],
        ),
        (
            '"Rusia sangat membutuhkan. Jika tidak, bagaimana?" kata Kim. Ia diam.',
            ['"Rusia sangat membutuhkan. Jika tidak, bagaimana?" kata Kim.', "Ia diam."],
        ),
        ("“Kami siap. Kami menunggu,” kata Kim. Lalu pergi.", ["“Kami siap. Kami menunggu,” kata Kim.", "Lalu pergi."]),
        ('Dia bertanya, "Kapan?" Lalu pergi.', ['Dia bertanya, "Kapan?"', "Lalu pergi."]),
        ("Surat a.n. Menteri dikirim. Isinya rahasia.", ["Surat a.n. Menteri dikirim.", "Isinya rahasia."]),
        ("Kim J. Un dan A. B. Smith bertemu. Mereka makan.", ["Kim J. Un dan A. B. Smith bertemu.", "Mereka makan."]),
        ("Apel, jeruk, dll. Semua segar. Sayur, dsb. Juga.", ["Apel, jeruk, dll. Semua segar.", "Sayur, dsb. Juga."]),
        (
            "Ia tinggal di Jl. Sudirman No. 5 Jakarta. Rumahnya besar.",
            ["Ia tinggal di Jl. Sudirman No. 5 Jakarta.", "Rumahnya besar."],
        ),
        ("H. Agus Salim, Ny. Ani dan Tn. Budi hadir. Usai.", ["H. Agus Salim, Ny. Ani dan Tn. Budi hadir.", "Usai."]),
        ("St. Petersburg jauh. Moskow dekat.", ["St. Petersburg jauh.", "Moskow dekat."]),
        ("Kata Budi, M.Si. Ia lalu pergi.", ["Kata Budi, M.Si.", "Ia lalu pergi."]),  # a degree can end a sentence
        ("Dia ragu... lalu pergi. Kami menunggu!", ["Dia ragu... lalu pergi.", "Kami menunggu!"]),
        ("Apa kabar? Baik! Terima kasih.", ["Apa kabar?", "Baik!", "Terima kasih."]),
        ("Judul tanpa titik\nSatu. Dua.", ["Judul tanpa titik", "Satu.", "Dua."]),
        ('"Kutipan yang berlanjut. Ke paragraf berikut.', ['"Kutipan yang berlanjut.', "Ke paragraf berikut."]),
    ],
)
def test_split_sentences(text, expected):
    assert split_sentences(text) == expected


def test_passages_are_runs_of_whole_sentences_covering_the_article(seed):
    sentences = split_sentences(seed.text)
    covered: set[int] = set()
    for p in chunk_article(seed, MODEL):
        own = split_sentences(p.text)
        start = sentences.index(own[0])
        assert sentences[start : start + len(own)] == own, "a passage must be a contiguous run of source sentences"
        covered.update(range(start, start + len(own)))
    assert covered == set(range(len(sentences)))


def test_seed_passages_stay_within_word_bounds(seed):
    passages = chunk_article(seed, MODEL)
    assert len(passages) >= 4
    assert all(60 <= words(p.text) <= 160 for p in passages), [words(p.text) for p in passages]
    assert [p.position for p in passages] == list(range(len(passages)))
    assert all(p.article_id == seed.id and p.embed_text.startswith(seed.title + "\n") for p in passages)
    assert all(seed.title not in p.text for p in passages)


@pytest.mark.parametrize(("max_words", "min_words"), [(80, 30), (50, 20), (250, 100)])
def test_passages_respect_max_words_unless_one_sentence_is_longer(seed, max_words, min_words):
    for p in chunk_article(seed, MODEL, max_words=max_words, min_words=min_words):
        if words(p.text) > max_words:
            *header, sentence = split_sentences(p.text)  # one long sentence, under its header if any
            assert header == [] or (len(header) == 1 and header[0].endswith("?")), p.text


def test_consecutive_passages_overlap_by_one_sentence():
    article = load(SEEDS[3])  # one section, no headers
    passages = chunk_article(article, MODEL)
    for prev, nxt in zip(passages, passages[1:], strict=False):
        assert split_sentences(prev.text)[-1] == split_sentences(nxt.text)[0]
    no_overlap = chunk_article(article, MODEL, overlap_sentences=0)
    assert sum(len(split_sentences(p.text)) for p in no_overlap) == len(split_sentences(article.text))


def test_header_starts_its_passage_and_keeps_the_paragraph_under_it(republika):
    passages = chunk_article(republika, MODEL)
    [first] = [p for p in passages if KIM_HEADER in p.text]
    assert first.text.startswith(KIM_HEADER + "\n\n")
    assert "Pengamat mengatakan prioritas Kim adalah pengiriman bantuan, prestise, dan teknologi militer." in first.text
    section = [p for p in passages if KIM_HEADER in p.embed_text]
    assert len(section) >= 2 and section[0] is first
    for later in section[1:]:  # the header is repeated for the model, not shown again
        assert later.embed_text == f"{republika.title}\n{KIM_HEADER}\n{later.text}"


def test_headers_are_never_the_last_line_and_lead_ins_and_ledes_are_not_headers(republika):
    headers = [
        "Apa yang diinginkan Rusia dari Korea Utara?",
        KIM_HEADER,
        "Seberapa dekat Rusia dan Korea Utara?",
    ]
    passages = chunk_article(republika, MODEL)
    for p in passages:
        assert p.text.split("\n\n")[-1] not in headers
    assert sum(h in p.embed_text for p in passages for h in headers) >= 6
    for line in ["Rusia inginkan senjata sedangkan Korut", "Berikut ini adalah apa yang bisa terjadi"]:
        assert sum(line in p.embed_text for p in passages) == 1


def test_a_header_stays_with_an_overlong_first_sentence():
    long_sentence = " ".join(["kata"] * 40) + "."
    article = Article(
        id="x",
        path="",
        title="Judul",
        text=f"Pembuka artikel ini.\n\nApa yang terjadi?\n\n{long_sentence[0].upper()}{long_sentence[1:]}",
    )
    passages = chunk_article(article, MODEL, max_words=20, min_words=5)
    assert [p.text.split("\n\n")[0] for p in passages] == ["Pembuka artikel ini.", "Apa yang terjadi?"]
    assert passages[1].text.endswith("kata.")


def paragraph(n: int, first: int) -> str:
    return " ".join(f"Kalimat {i} " + " ".join(["isi"] * 17) + " selesai." for i in range(first, first + n))


def test_a_passage_prefers_to_end_at_a_paragraph_boundary():
    one, two = paragraph(4, 0), paragraph(4, 4)  # 80 words each
    passages = chunk_article(Article(id="x", path="", title="Judul", text=f"{one}\n\n{two}"), MODEL, 120, 60)
    assert [p.text for p in passages] == [one, split_sentences(one)[-1] + "\n\n" + two]


def test_a_tiny_article_is_one_passage():
    article = parse_article("Putin Tiba\n\nPutin tiba di Pyongyang. Kim menyambutnya.\n\nMereka berunding.", "t.txt")
    [passage] = chunk_article(article, MODEL)
    assert passage.text == "Putin tiba di Pyongyang. Kim menyambutnya.\n\nMereka berunding."
    assert passage.embed_text == "Putin Tiba\n" + passage.text


def test_ids_are_stable_and_depend_on_model_and_text(seed):
    ids = [p.id for p in chunk_article(seed, MODEL)]
    assert ids == [p.id for p in chunk_article(seed, MODEL)]
    assert len(set(ids)) == len(ids) and all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    assert set(ids).isdisjoint(p.id for p in chunk_article(seed, "another-model"))


def test_editing_the_end_keeps_the_ids_of_earlier_passages(seed):
    before = chunk_article(seed, MODEL)
    edited = Article(**{**seed.__dict__, "text": seed.text + "\n\nKalimat tambahan di akhir."})
    after = chunk_article(edited, MODEL)
    assert after[0].id == before[0].id
    assert after[-1].id != before[-1].id
