"""Questions typed as in a chat are read in the articles' words (index/colloquial.py)."""

from dataclasses import replace

from index.colloquial import formal, truecase, typed_without_capitals

TEXTS = [
    "Konstantin Asmolov, seorang peneliti senior, berbicara. Moderasi oleh Kim Yo-jong dinilai taktis.",
    "Kunjungan itu penting. Presiden Vladimir Putin tiba di Pyongyang, kata Nam Sung-wook.",
]


def test_chat_words_take_their_formal_forms() -> None:
    assert formal("kpn terakhir kali putin ke korut?", set()) == "kapan terakhir kali putin ke korut?"
    assert formal("yg gantiin shoigu jd menhan siapa?", set()) == "yang menggantikan shoigu jadi menhan siapa?"
    assert formal("tgl brp putin dtg?", set()) == "tanggal berapa putin datang?"


def test_words_the_articles_use_and_capitalised_words_stay_as_typed() -> None:
    # "km" is chat for "kamu", and news for kilometres: an index that holds "km" keeps it.
    assert formal("berapa km jaraknya?", set()) == "berapa kamu jaraknya?"
    assert formal("berapa km jaraknya?", {"km"}) == "berapa km jaraknya?"
    assert formal("Apa kata USA?", set()) == "Apa kata USA?"  # not "usah": a capital marks a name
    assert formal("terakhir x ke sana?", set()) == "terakhir x ke sana?"  # one letter says too little


def test_jakarta_verb_forms_take_the_form_the_articles_use() -> None:
    used = {"menolak", "mencapai", "melanggar", "diperkirakan", "menguntungkan", "ahli"}
    assert formal("thn brp putin nolak undangan?", used) == "tahun berapa putin menolak undangan?"
    assert formal("rusia mau nyapai apa?", used) == "rusia mau mencapai apa?"
    assert formal("siapa yg ngelanggar?", used) == "siapa yang melanggar?"
    assert formal("putin diperkirain dtg kpn?", used) == "putin diperkirakan datang kapan?"
    assert formal("knp nguntungin dua-duanya?", used) == "kenapa menguntungkan dua-duanya?"
    assert formal("ahli2 bilang apa?", used) == "ahli-ahli bilang apa?"
    # Only a form the articles use: otherwise the word stays as typed ("nanti" is not "menanti" unasked).
    assert formal("putin nolak apa?", set()) == "putin nolak apa?"
    assert formal("kapan nanti kemarin main?", {"menanti", "kemari", "makan"}) == "kapan nanti kemarin main?"


def test_names_typed_in_lower_case_take_the_articles_spelling() -> None:
    assert truecase("konstantin asmolov umurnya berapa?", TEXTS) == "Konstantin Asmolov umurnya berapa?"
    assert truecase("kim yo-jong dan nam sung-wook?", TEXTS) == "Kim Yo-jong dan Nam Sung-wook?"
    assert truecase("kapan putin tiba di pyongyang?", TEXTS) == "kapan Putin tiba di Pyongyang?"
    # A capital that only opens a sentence ("Kunjungan itu…", "Moderasi oleh…") says nothing.
    assert truecase("kunjungan dan moderasi?", TEXTS) == "kunjungan dan moderasi?"
    assert truecase("siapa peneliti itu?", TEXTS) == "siapa peneliti itu?"  # written in lower case there


def test_only_a_question_typed_without_capitals_is_respelt() -> None:
    assert typed_without_capitals("kpn terakhir kali putin ke korut?")
    assert typed_without_capitals("Kpn terakhir kali putin ke korut?")  # a phone capitalises the first letter
    assert not typed_without_capitals("Siapa direktur bulog Indonesia?")  # it spells its names as meant


def test_a_chat_question_is_answered_as_its_formal_twin_would_be(bot_engine) -> None:
    typed = "asan institute ada di kota mana?"
    asked = bot_engine.ask(typed)
    assert asked.found and "Asan Institute" in asked.text and "Seoul" in asked.text
    assert asked.question == typed  # the reply quotes the question as typed
    wanted = bot_engine.ask("kim jong un pgn dpt apa dr rusia?")
    assert wanted.found and "teknologi Rusia" in wanted.text
    shipped = bot_engine.answer_config
    bot_engine.answer_config = replace(shipped, colloquial=False)
    bot_engine.forget_answers()
    try:  # read as typed, the lower-case names fail the relatedness gate and the chat words the checker
        assert not bot_engine.ask(typed).found
        assert not bot_engine.ask("kim jong un pgn dpt apa dr rusia?").found
    finally:
        bot_engine.answer_config = shipped
        bot_engine.forget_answers()
