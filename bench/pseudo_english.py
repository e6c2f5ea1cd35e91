"""Word-by-word English for Indonesian training questions, so the checker sees English-worded questions.

The benchmarks hold Indonesian questions only and no translation model runs offline, so the checker learnt
to match Indonesian question words against Indonesian sentences, and real English questions scored as low as
off-topic ones. Putting a share of the training questions into rough English ("siapa yang menggantikan
Shoigu sebagai menteri pertahanan Rusia?" → "who that replace Shoigu as minister defense russia?") asks it to
match English words against the Indonesian sentence, which is what an English question needs; the encoder's
cross-lingual alignment does the rest. Names, numbers and unknown words pass through unchanged.

The lexicon is FreeDict's English–Indonesian dictionary (Wiktionary data, CC BY-SA 3.0), read at training
time from Debian's package: `apt-get install dict-freedict-eng-ind` (bench/build_lexicon.py reads it). The
logged run (bench/results/train_checker_pseudo_english.log) read it before that reader was shared, when an
entry whose translations are numbered ("1. bantuan") gave no word.
"""

from __future__ import annotations

import re
from functools import cache

from bench.build_lexicon import dictionary_entries

# Function and question words the dictionary lacks or ranks oddly, and common words of the benchmarks'
# questions it misses; a lexicon of Indonesian's closed classes, not of any answer.
# fmt: off
CLOSED = {
    "siapa": "who", "siapakah": "who", "kapan": "when", "kapankah": "when", "dimana": "where", "dimanakah": "where",
    "manakah": "which", "mana": "where", "berapa": "how many", "berapakah": "how many", "mengapa": "why",
    "kenapa": "why", "bagaimana": "how", "bagaimanakah": "how", "apa": "what", "apakah": "what", "yang": "that",
    "dari": "of", "di": "in", "ke": "to", "pada": "on", "dan": "and", "atau": "or", "dengan": "with",
    "untuk": "for", "oleh": "by", "dalam": "in", "sebagai": "as", "adalah": "is", "ialah": "is", "merupakan": "is",
    "ada": "there is", "telah": "has", "sudah": "already", "akan": "will", "pernah": "ever", "tidak": "not",
    "bukan": "not", "ini": "this", "itu": "that", "para": "the", "sang": "the", "si": "the", "se": "one",
    "secara": "in a way", "menurut": "according to", "kepada": "to", "terhadap": "toward", "antara": "between",
    "sebelum": "before", "sesudah": "after", "setelah": "after", "selama": "during", "sejak": "since",
    "hingga": "until", "sampai": "until", "tahun": "year", "tanggal": "date", "bulan": "month", "hari": "day",
    "negara": "country", "dunia": "world", "pulau": "island", "penduduk": "population", "pemimpin": "leader",
    "luas": "area", "uang": "money", "ibukota": "capital", "pendiri": "founder", "didirikan": "founded",
    "asal": "origin", "terjadi": "happened", "digunakan": "used", "ditemukan": "found", "dirilis": "released",
    "lama": "long", "paling": "most", "perusahaan": "company", "berdiri": "established", "ilmu": "science",
    "diciptakan": "created", "penyebab": "cause", "berasal": "come from", "muncul": "appear",
    "pengertian": "meaning", "dimaksud": "meant", "terbesar": "largest", "terkecil": "smallest", "daerah": "region",
    "dilahirkan": "born", "lahir": "born", "lokasi": "location", "terletak": "located", "berada": "located",
    "penduduknya": "its population", "umur": "age", "usia": "age", "warga": "citizen", "ketua": "chairman",
    "tokoh": "figure", "penghargaan": "award", "anak": "child", "istri": "wife", "suami": "husband",
    "ayah": "father", "ibu": "mother", "banyak": "many", "jumlah": "number", "pertama": "first", "kedua": "second",
    "terakhir": "last", "baru": "new", "bubar": "dissolved", "dibubarkan": "dissolved", "menjabat": "served as",
    "berakhir": "ended", "dimulai": "started", "dibangun": "built", "diadakan": "held", "dibentuk": "formed",
    "fungsi": "function", "istilah": "term", "nomor": "number", "warna": "color", "karakter": "character",
    "ditutup": "closed", "kepanjangan": "stands for", "berlangsung": "took place", "sebutan": "name",
    "disebut": "called", "dikenal": "known", "nama": "name", "kota": "city", "provinsi": "province",
    "kabupaten": "regency", "kecamatan": "district", "memiliki": "has", "mempunyai": "has", "bekerja": "work",
    "kerja": "work", "ingin": "want", "mau": "want", "inginkan": "want", "diinginkan": "wanted",
    "imbalannya": "in return", "korut": "North Korea", "korsel": "South Korea", "as": "US", "amerika": "America",
    "sebuah": "a", "seorang": "a", "seekor": "a", "tersebut": "the", "saat": "when", "ketika": "when",
    "bisa": "can", "dapat": "can", "harus": "must", "masih": "still", "juga": "also", "saja": "only", "cara": "way",
    "waktu": "time", "kelompok": "group", "organisasi": "organization", "partai": "party", "militer": "military",
    "tim": "team", "lagu": "song", "judul": "title", "karya": "work", "bandara": "airport", "jabatan": "position",
    "kekuasaan": "power", "berkuasa": "ruled", "diangkat": "appointed", "sekolah": "school", "milik": "owned by",
    "dimiliki": "owned", "menggunakan": "use", "memperoleh": "obtain", "terlibat": "involved",
    "lamakah": "how long", "serikat": "united", "utara": "north", "selatan": "south", "timur": "east",
    "barat": "west",
}
# fmt: on
SUFFIXES = ("nya", "lah", "kah", "kan", "an", "i")
# Prefix → the letters the root starts with once the prefix's nasal is undone ("menulis" → "tulis").
PREFIXES = (
    ("meng", ("", "k")),
    ("meny", ("s",)),
    ("mem", ("", "p")),
    ("men", ("", "t")),
    ("me", ("",)),
    ("peng", ("", "k")),
    ("peny", ("s",)),
    ("pem", ("", "p")),
    ("pen", ("", "t")),
    ("per", ("",)),
    ("pe", ("",)),
    ("ber", ("",)),
    ("be", ("",)),
    ("ter", ("",)),
    ("di", ("",)),
    ("ke", ("",)),
    ("se", ("",)),
)


@cache
def lexicon() -> dict[str, str]:
    """Indonesian word → English headword, inverted from the English–Indonesian dictionary.

    Where several English words translate to one Indonesian word, the one that lists it first wins, then
    the shorter English word (usually the commoner)."""
    best: dict[str, tuple[int, int, str]] = {}
    for english, translations in dictionary_entries():
        if not english.isalpha():
            continue
        for rank, word in enumerate(t.lower() for t in translations):
            if word.isalpha() and (rank, len(english), english) < best.get(word, (99, 99, "")):
                best[word] = (rank, len(english), english)
    return {word: english for word, (_, _, english) in best.items()}


def roots(word: str) -> list[str]:
    """The word, then what is left when common affixes are taken off, likeliest first."""
    stems = [word] + [word[: -len(s)] for s in SUFFIXES if word.endswith(s) and len(word) - len(s) >= 3]
    out = list(stems)
    for stem in stems:
        for prefix, heads in PREFIXES:
            if stem.startswith(prefix) and len(stem) - len(prefix) >= 3:
                out += [head + stem[len(prefix) :] for head in heads]
    return out


def english(word: str, words: dict[str, str]) -> str | None:
    lower = word.lower()
    if lower in CLOSED:
        return CLOSED[lower]
    for root in roots(lower):
        if root in words:
            return words[root]
    return None


def translate(question: str, words: dict[str, str] | None = None) -> str:
    """The question word by word in English; a capitalised word the lexicon lacks is a name and stays."""
    words = lexicon() if words is None else words

    def one(match: re.Match) -> str:
        found = english(match.group(0), words)
        return found if found else match.group(0)

    out = re.sub(r"[^\W\d_]+", one, question)
    return out[:1].upper() + out[1:]
