"""Questions about an article itself are answered from its metadata, which no passage holds."""

from index.byline import asks_about_article, byline, spoken_date
from index.models import Article


def test_a_byline_tells_only_the_metadata_the_article_has() -> None:
    full = Article("a.txt", "a.txt", "Judul", "Teks.", "Kilas Klaten", "2024-06-14", "Fajar", "Chosun")
    assert byline(full) == (
        'Berita "Judul" dimuat Kilas Klaten pada 14 Juni 2024, disunting oleh editor Fajar, bersumber dari Chosun.'
    )
    assert byline(Article("b.txt", "b.txt", "Judul", "Teks.", outlet="Republika")) == 'Berita "Judul" dimuat Republika.'
    assert byline(Article("c.txt", "c.txt", "Judul", "Teks.")) == ""
    assert byline(Article("d.txt", "d.txt", "", "Teks.", editor="Ani")) == "Berita ini disunting oleh editor Ani."
    assert spoken_date("2023-09-05") == "5 September 2023" and spoken_date("kemarin") == "kemarin"


def test_only_a_question_about_the_article_reads_bylines() -> None:
    assert asks_about_article("Siapa editor berita Kilas Klaten itu?")
    assert asks_about_article("Kapan artikel tentang Putin itu dimuat?")
    assert asks_about_article("Who edited the story?")
    assert not asks_about_article("Apa sumber energi yang diinginkan Korut?")  # a source of energy, not of news
    assert not asks_about_article("Siapa yang menggantikan Shoigu?")


def test_the_editor_is_answered_from_the_byline_and_a_missing_one_is_refused(bot_engine) -> None:
    asked = bot_engine.ask("Siapa yang menyunting artikel tentang kunjungan Putin ke Pyongyang?")
    assert asked.found and "Fajar Sidik Nur Cahyo" in asked.text
    assert asked.hits[0].article.editor == "Fajar Sidik Nur Cahyo"  # its article is cited first
    # The Republika article names no editor: its byline says where it appeared, not who edited it.
    assert not bot_engine.ask("Siapa editor artikel Republika tentang keinginan Korut dan Rusia?").found
    # A question about what the articles report reads no byline.
    assert "disunting" not in bot_engine.ask("Apa yang diinginkan Kim Jong Un sebagai imbalannya?").text
