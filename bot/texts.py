"""What the bot says, in Indonesian and English (users with language_code "en")."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "id": {
        "help": (
            "Halo! Saya <b>Kabar</b>. Saya menjawab pertanyaan dari {articles} artikel berita{span}, "
            "lengkap dengan kutipan dan sumbernya.\n\n"
            "Kirim saja pertanyaan, misalnya:\n{examples}\n\n"
            "Di grup: <code>/ask pertanyaan</code>, sebut @{bot}, atau balas pesan saya.\n"
            "Inline: ketik <code>@{bot} pertanyaan</code> di obrolan mana pun.\n"
            "/sources menampilkan daftar artikel."
        ),
        "span": " ({first} s.d. {last})",
        "span_one": " ({first})",
        "not_found": "Artikel yang saya punya tidak menjawab pertanyaan ini.",
        "not_found_hint": "Lihat /sources untuk artikel yang saya punya.",
        "unknown_command": "Perintah itu tidak saya kenal. Kirim saja pertanyaan, atau lihat /help.",
        "page": "halaman {page}/{pages}",
        "article_cut": "(Artikel dipotong di sini.)",
        "ask_usage": "Tulis pertanyaannya setelah perintah, misalnya: /ask {example}",
        "too_long": "Pertanyaan terlalu panjang; saya hanya membaca {limit} karakter pertama.",
        "no_words": "Tulis pertanyaan dengan kata-kata, misalnya: {example}",
        "not_text": "Saya hanya bisa membaca pertanyaan berupa teks.",
        "sorry": "Maaf, terjadi kesalahan. Silakan coba lagi.",
        "more": "Lainnya",
        "article": "Artikel",
        "no_more": "Tidak ada kutipan lain.",
        "expired": "Jawaban ini sudah kedaluwarsa; silakan tanya lagi.",
        "sources_title": "Artikel yang saya punya ({count}):",
        "sources_empty": "Belum ada artikel.",
        "admin_only": "Maaf, perintah ini hanya untuk admin.",
        "refreshing": "Memperbarui indeks…",
        "refreshed": (
            "Indeks diperbarui: {added} ditambah, {updated} diubah, {removed} dihapus, {unchanged} tetap "
            "({passages} kutipan, {embedded} baru di-embed)."
        ),
        "refresh_failed": "Pembaruan indeks gagal: {error}",
        "inline_hint": "Ketik pertanyaan tentang berita",
        "inline_hint_body": "Ketik @{bot} lalu pertanyaan Anda, misalnya: {example}",
        "prev": "‹ Sebelumnya",
        "next": "Berikutnya ›",
    },
    "en": {
        "help": (
            "Hi! I'm <b>Kabar</b>. I answer questions from {articles} news articles{span}, "
            "quoting the passages I used and naming their source.\n\n"
            "Just send a question, for example:\n{examples}\n\n"
            "In groups: <code>/ask question</code>, mention @{bot}, or reply to my message.\n"
            "Inline: type <code>@{bot} question</code> in any chat.\n"
            "/sources lists the articles."
        ),
        "span": " ({first} to {last})",
        "span_one": " ({first})",
        "not_found": "The articles I have don't answer this question.",
        "not_found_hint": "See /sources for the articles I have.",
        "unknown_command": "I don't know that command. Just send a question, or see /help.",
        "page": "page {page}/{pages}",
        "article_cut": "(The article is cut here.)",
        "ask_usage": "Put the question after the command, e.g.: /ask {example}",
        "too_long": "That question is too long; I only read the first {limit} characters.",
        "no_words": "Please ask with words, e.g.: {example}",
        "not_text": "I can only read questions sent as text.",
        "sorry": "Sorry, something went wrong. Please try again.",
        "more": "More",
        "article": "Article",
        "no_more": "No more passages.",
        "expired": "This answer has expired; please ask again.",
        "sources_title": "Articles I have ({count}):",
        "sources_empty": "No articles yet.",
        "admin_only": "Sorry, this command is for admins only.",
        "refreshing": "Refreshing the index…",
        "refreshed": (
            "Index refreshed: {added} added, {updated} updated, {removed} removed, {unchanged} unchanged "
            "({passages} passages, {embedded} newly embedded)."
        ),
        "refresh_failed": "Refreshing the index failed: {error}",
        "inline_hint": "Type a question about the news",
        "inline_hint_body": "Type @{bot} and your question, e.g.: {example}",
        "prev": "‹ Previous",
        "next": "Next ›",
    },
}

EXAMPLES = {
    "id": [
        "Apa yang diinginkan Kim Jong Un sebagai imbalannya?",
        "Kapan Putin berkunjung ke Pyongyang?",
        "Apa yang diinginkan Rusia dari Korea Utara?",
    ],
    "en": [
        "What does Kim want in return?",
        "When will Putin visit Pyongyang?",
        "What does Russia want from North Korea?",
    ],
}


def lang_of(language_code: str | None) -> str:
    return "en" if (language_code or "").lower().startswith("en") else "id"


def t(lang: str, key: str, **values: object) -> str:
    return TEXTS[lang][key].format(**values) if values else TEXTS[lang][key]
