"""What the bot says, in Indonesian and English (users with language_code "en")."""

from __future__ import annotations

import html

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
        "closest": "Artikel terdekat: {title}",
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
        "slow_down": "Pelan-pelan ya: terlalu banyak pesan sekaligus. Tunggu sebentar, lalu tanya lagi.",
        "article_removed": "Artikel ini sudah dihapus dari korpus.",
        "refresh_merged": "Pembaruan indeks sudah berjalan; permintaan ini ikut pembaruan berikutnya.",
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
        "add_usage": (
            "Tambah artikel: <code>/add URL</code>, atau <code>/add</code> lalu tempelkan teks artikel "
            "(baris pertama = judul). Bisa juga kirim berkas .txt, .md atau .html."
        ),
        "added": "<b>Artikel ditambahkan:</b> {title}\n<i>{byline}</i>\nDisimpan sebagai <code>{file}</code>",
        "add_indexed": "Diindeks: {passages} kutipan.",
        "add_same_story": "Cerita yang sama dengan <code>{other}</code>; hanya satu yang diindeks.",
        "add_similar": "Mirip dengan <code>{other}</code> (keduanya diindeks).",
        "add_not_indexed": "Disimpan, tetapi belum diindeks.",
        "add_failed": "Artikel tidak ditambahkan: {error}",
        "add_saved_refresh_failed": "Berkas sudah disimpan, tetapi pembaruan indeks gagal: {error}",
        "unknown_outlet": "media tidak diketahui",
        "unknown_date": "tanggal tidak diketahui",
        "upload_type": "Kirim berkas .txt, .md atau .html, bukan {suffix}. Tidak ada yang disimpan.",
        "upload_too_big": "Berkas ini {size} MB; batasnya {limit} MB. Tidak ada yang disimpan.",
        "remove_usage": (
            "Hapus artikel: <code>/remove nama-berkas</code>, nomor dari /sources, atau potongan judulnya."
        ),
        "remove_not_found": "Artikel tidak ditemukan: {error}",
        "remove_confirm": (
            "Hapus artikel ini dari korpus dan indeks?\n<b>{title}</b>\n<i>{byline}</i>\n<code>{file}</code>"
        ),
        "delete": "Hapus",
        "cancel": "Batal",
        "removed": "<b>Artikel dihapus:</b> {title}\nBerkas <code>{file}</code> dihapus.",
        "remove_failed": "Artikel tidak dihapus: {error}",
        "remove_cancelled": "Penghapusan dibatalkan: <b>{title}</b> tetap ada.",
        "removing": "Menghapus <b>{title}</b> dan memperbarui indeks…",
        "remove_expired": "Konfirmasi ini sudah kedaluwarsa; kirim /remove lagi.",
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
        "closest": "Closest article: {title}",
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
        "slow_down": "Easy there: too many messages at once. Wait a moment, then ask again.",
        "article_removed": "This article has been removed from the corpus.",
        "refresh_merged": "A refresh is already running; this request joins the next one.",
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
        "add_usage": (
            "Add an article: <code>/add URL</code>, or <code>/add</code> followed by the pasted article text "
            "(first line = title). You can also send a .txt, .md or .html file."
        ),
        "added": "<b>Article added:</b> {title}\n<i>{byline}</i>\nSaved as <code>{file}</code>",
        "add_indexed": "Indexed: {passages} passages.",
        "add_same_story": "The same story as <code>{other}</code>; only one of them is indexed.",
        "add_similar": "Similar to <code>{other}</code> (both are indexed).",
        "add_not_indexed": "Saved, but not indexed yet.",
        "add_failed": "The article was not added: {error}",
        "add_saved_refresh_failed": "The file is saved, but refreshing the index failed: {error}",
        "unknown_outlet": "unknown outlet",
        "unknown_date": "unknown date",
        "upload_type": "Send a .txt, .md or .html file, not {suffix}. Nothing was saved.",
        "upload_too_big": "This file is {size} MB; the limit is {limit} MB. Nothing was saved.",
        "remove_usage": (
            "Remove an article: <code>/remove file-name</code>, its number in /sources, or part of its title."
        ),
        "remove_not_found": "No such article: {error}",
        "remove_confirm": (
            "Remove this article from the corpus and the index?\n<b>{title}</b>\n<i>{byline}</i>\n<code>{file}</code>"
        ),
        "delete": "Delete",
        "cancel": "Cancel",
        "removed": "<b>Article removed:</b> {title}\nThe file <code>{file}</code> is deleted.",
        "remove_failed": "The article was not removed: {error}",
        "remove_cancelled": "Removal cancelled: <b>{title}</b> stays.",
        "removing": "Removing <b>{title}</b> and refreshing the index…",
        "remove_expired": "This confirmation has expired; send /remove again.",
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


def t_html(lang: str, key: str, **values: object) -> str:
    """A text for parse_mode HTML: the template's own tags kept, every value escaped."""
    return TEXTS[lang][key].format(**{k: html.escape(str(v), quote=False) for k, v in values.items()})
