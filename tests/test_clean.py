"""Cleaning scraped Indonesian news: boilerplate out, metadata in."""

from pathlib import Path

import pytest

from index.clean import clean, parse_indonesian_date

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "corpus"  # shared/ sits beside the repo (also in CI)
SEEDS = {
    "republika": [SHARED / "000_2509aca90c52c704.txt", ROOT / "corpus/republika-2023-korut-rusia-saling-inginkan.txt"],
    "kilasklaten": [SHARED / "002_9ae1f15e6224c429.txt", ROOT / "corpus/kilasklaten-2024-06-14-putin-pyongyang.txt"],
}


def seed(name: str, which: int) -> str:
    path = SEEDS[name][which]
    if not path.exists():
        pytest.skip(f"{path} not present")
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("which", [0, 1], ids=["shared", "corpus"])
def test_republika_seed(which):
    c = clean(seed("republika", which))
    assert c.title == "Apa yang Diinginkan Korut dan Rusia Satu Sama Lain?"
    assert (c.outlet, c.date, c.editor, c.source) == ("Republika", "", "", "")
    pars = c.body.split("\n\n")
    assert pars[0] == "Rusia inginkan senjata sedangkan Korut inginkan pangan dan energi"  # the lede is content
    assert pars[1].startswith("Pemimpin Korea Utara (Korut) Kim Jong Un berkunjung")
    assert "REPUBLIKA.CO.ID" not in c.body
    assert c.title not in c.body
    assert "Apa yang diinginkan Kim Jong Un sebagai imbalannya?" in pars
    assert pars[-1].endswith('tunjukkan kepada Amerika Serikat," tambahnya.')


@pytest.mark.parametrize("which", [0, 1], ids=["shared", "corpus"])
def test_kilasklaten_seed(which):
    c = clean(seed("kilasklaten", which))
    assert c.title == "Kunjungan Putin ke Pyongyang: Era Baru Kerjasama Militer Rusia-Korea Utara?"
    assert (c.outlet, c.date, c.editor, c.source) == ("Kilas Klaten", "2024-06-14", "Fajar Sidik Nur Cahyo", "Chosun")
    assert c.body.startswith('Kemungkinan adanya "perjanjian baru"')
    assert c.body.endswith("dinamika geopolitik yang berkembang di kawasan tersebut.")
    for junk in [
        "Baca Juga",
        "Balon Sampah",  # the linked headlines
        "Presiden Rusia, Vladimir Putin.",  # caption and its alt text
        "/Pikiran Rakyat",
        "***",
        "15:09",
        "KILAS KLATEN",
        "Editor",
        "Sumber",
        "Tags",
        "Artikel Pilihan",
        "Terpopuler",
        "Kabar Daerah",
    ]:
        assert junk not in c.body, junk
    assert "\n\n\n" not in c.body


def article(*body: str, title: str = "Putin Tiba di Pyongyang") -> str:
    return "\n\n".join([title, *body])


@pytest.mark.parametrize(
    ("dateline", "outlet"),
    [
        ("JAKARTA, KOMPAS.com - ", "Kompas"),
        ("REPUBLIKA.CO.ID, JAKARTA -- ", "Republika"),
        ("REPUBLIKA.CO.ID, ", "Republika"),
        ("Jakarta, CNN Indonesia -- ", "CNN Indonesia"),
        ("Jakarta (ANTARA) - ", "Antara"),
        ("TEMPO.CO, Jakarta - ", "Tempo"),
        ("Liputan6.com, Jakarta - ", "Liputan6"),
        ("SEOUL, SUARAMERDEKA.COM – ", "Suaramerdeka"),
        ("KILAS KLATEN – ", "Kilas Klaten"),
        ("PORTAL JEMBER – ", "Portal Jember"),
        ("SURABAYA – ", ""),
        ("Jakarta - ", ""),
    ],
)
def test_dateline_gives_outlet_and_leaves_the_body(dateline, outlet):
    c = clean(article(dateline + "Presiden Rusia tiba di Pyongyang pada Rabu.", "Kunjungan ini yang pertama."))
    assert c.outlet == outlet
    assert c.body.startswith("Presiden Rusia tiba di Pyongyang pada Rabu.")


@pytest.mark.parametrize(
    "lede",
    ["Presiden Rusia – yang baru terpilih lagi – tiba di Pyongyang.", "AS - Korea Selatan menggelar latihan bersama."],
)
def test_a_dash_in_ordinary_text_is_not_a_dateline(lede):
    c = clean(article(lede))
    assert (c.outlet, c.body) == ("", lede)


@pytest.mark.parametrize(
    "link",
    [
        "Baca Juga: Korea Selatan Siaga",
        "Baca juga: Korea Selatan Siaga",
        "BACA JUGA: Korea Selatan Siaga",
        "Baca juga : Korea Selatan Siaga",
        "BACA JUGA Korea Selatan Siaga",
        "Simak juga: Video Korea Selatan Siaga",
        "Lihat juga: Korea Selatan Siaga",
        "» Baca juga: Korea Selatan Siaga",
        "BACA JUGA\n\nKorea Selatan Siaga",
    ],
)
def test_see_also_links_are_removed(link):
    c = clean(article("Putin tiba pada Rabu.", link, "Kim menyambutnya di bandara."))
    assert c.body == "Putin tiba pada Rabu.\n\nKim menyambutnya di bandara."


def test_a_sentence_that_starts_like_a_link_is_kept():
    text = "Lihat juga bagaimana warga Pyongyang menyambut iring-iringan itu."
    assert clean(article("Putin tiba pada Rabu.", text)).body.endswith(text)


@pytest.mark.parametrize(
    "captions",
    [
        ["Presiden Rusia, Vladimir Putin.", "Presiden Rusia, Vladimir Putin. /Pikiran Rakyat"],  # alt text + caption
        ["Presiden Rusia Vladimir Putin tiba di bandara. (Foto: ANTARA/Reuters)"],
        ["Kim Jong Un menyambut Putin (Dok. KCNA)"],
        ["Putin Tiba di Pyongyang"],  # the headline repeated over the photo
    ],
)
def test_captions_are_removed(captions):
    assert clean(article(*captions, "Putin tiba pada Rabu.")).body == "Putin tiba pada Rabu."


def test_crlf_bom_and_nbsp_are_normalized():
    raw = "\ufeffPutin Tiba\r\n\r\nJAKARTA, KOMPAS.com -\u00a0Putin tiba.\r\nKim menyambutnya.\r\n"
    c = clean(raw)
    assert (c.title, c.outlet) == ("Putin Tiba", "Kompas")
    assert c.body == "Putin tiba.\n\nKim menyambutnya."


def test_date_lines_bylines_and_star_tails():
    c = clean(
        article(
            "Jumat, 14 Juni 2024 15:09 WIB",
            "Putin tiba pada Rabu.***",
            "***",
            "Penulis: Ani | Editor: Budi Santoso",
            "Reporter: Citra",
            "Sumber: Yonhap",
        )
    )
    assert (c.date, c.editor, c.source) == ("2024-06-14", "Budi Santoso", "Yonhap")
    assert c.body == "Putin tiba pada Rabu."


def test_navigation_tail_is_cut_but_a_short_last_paragraph_is_not():
    nav = ["Tags: Korea Utara, Rusia", "Berita Terkait", "Kim Sambut Putin di Bandara", "Share", "Komentar", "Populer"]
    c = clean(article("Putin tiba pada Rabu.", "Terkait hal itu, Seoul memanggil duta besar Rusia.", *nav))
    assert c.body == "Putin tiba pada Rabu.\n\nTerkait hal itu, Seoul memanggil duta besar Rusia."
    ending = article("Putin tiba pada Rabu.", "Demikian laporan kami")  # no nav word: nothing to cut
    assert clean(ending).body.endswith("Demikian laporan kami")


def test_hard_wrapped_lines_are_joined_into_paragraphs():
    c = clean("Judul\n\nPutin tiba di Pyongyang\npada Rabu dini hari.\nKim menyambutnya.")
    assert c.body == "Putin tiba di Pyongyang pada Rabu dini hari.\n\nKim menyambutnya."


def test_known_title_means_the_text_has_no_title_line():
    assert clean("Putin tiba pada Rabu.", known_title="Putin Tiba").body == "Putin tiba pada Rabu."
    repeated = clean("Putin Tiba\n\nPutin tiba pada Rabu.", known_title="Putin Tiba")
    assert (repeated.title, repeated.body) == ("", "Putin tiba pada Rabu.")
    suffixed = clean("Putin Tiba - Kompas.com\n\nPutin tiba pada Rabu.", known_title="Putin Tiba")
    assert suffixed.body == "Putin tiba pada Rabu."


def test_markdown_headings_become_plain_lines():
    c = clean("# Putin Tiba\n\nPutin tiba pada Rabu.\n\n## Apa yang dibahas?\n\nKerja sama militer.")
    assert c.title == "Putin Tiba"
    assert c.body == "Putin tiba pada Rabu.\n\nApa yang dibahas?\n\nKerja sama militer."


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("- 14 Juni 2024, 15:09 WIB", "2024-06-14"),
        ("Jumat, 14 Juni 2024 15:09 WIB", "2024-06-14"),
        ("3 Agt 2023", "2023-08-03"),
        ("14 Nopember 2023", "2023-11-14"),
        ("1 Des. 2023", "2023-12-01"),
        ("pada Senin (1/7/2024)", "2024-07-01"),
        ("2024-06-14T15:09:00+07:00", "2024-06-14"),
        ("31 Februari 2024", None),
        ("kemarin sore", None),
    ],
)
def test_parse_indonesian_date(text, iso):
    assert parse_indonesian_date(text) == iso
