"""Admins adding and removing articles through the real bot: uploads, /add URL or text, /remove with a
confirmation button; everyone else refused. Each test works on a private copy of the corpus and index
(the repo's corpus/ is never touched) and shares the session's model, so a refresh embeds only new passages.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from newssite import NewsSite
from test_bot import ADMIN, KIM, NEW_ARTICLE, USER, buttons, plain, replies, sent_to, settle

from bot.texts import t
from index.engine import Engine

TIMNAS = "Timnas Indonesia Lolos ke Putaran Ketiga Kualifikasi Piala Dunia"
GOALS = "Siapa yang mencetak gol Indonesia melawan Filipina?"
PASTED = """Banjir Rob Genangi Pesisir Semarang

SEMARANG - Banjir rob setinggi 60 sentimeter menggenangi kawasan Tanjung Emas, Semarang, pada Selasa sore.

Badan Penanggulangan Bencana Daerah mencatat 1.200 rumah terendam dan 300 warga mengungsi ke balai kelurahan.
"""
ROB = "Berapa rumah yang terendam banjir rob di Semarang?"
pytestmark = pytest.mark.usefixtures("_ptb_timedelta")  # conftest.py


@pytest.fixture
def engine(fresh_engine) -> Engine:
    """A private Engine (conftest's fresh_engine) that a test may add to and remove from."""
    return fresh_engine


OPEN_FETCH = {"fetch_allow_private": ("*",), "fetch_ports": ("*",)}  # the loopback news site is "intranet"


@pytest.fixture
def admin_bot(server, run_bot, engine):
    """``async with admin_bot():`` the bot on the private engine, with ADMIN as its only admin."""
    return lambda **settings: run_bot(server, engine=engine, admin_ids=frozenset({ADMIN}), **{**OPEN_FETCH, **settings})


@pytest.fixture
def site():
    with NewsSite() as running:
        yield running


def added_files(engine: Engine) -> list[str]:
    folder = engine.settings.corpus_dir / "added"
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) if folder.exists() else []


def refusals(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bot.admin" and "refused" in r.getMessage()]


# --- uploads ---------------------------------------------------------------------------------


async def test_an_admins_markdown_upload_is_saved_indexed_and_answered_from(server, admin_bot, engine) -> None:
    async with admin_bot():
        upload = server.push_update(server.document("timnas.md", NEW_ARTICLE.encode(), "text/markdown", ADMIN))
        [report] = await replies(server, upload, timeout=60)
        question = server.push_update(server.private_text(GOALS))
        [answer] = await replies(server, question)

    [saved] = added_files(engine)
    assert saved.startswith("2024-06-11-timnas-indonesia-lolos-ke-putaran-ketiga-kualifikasi-piala") and saved.endswith(
        ".md"
    )
    assert report.params["parse_mode"] == "HTML"
    lines = plain(report).split("\n")
    assert lines[:3] == [f"Artikel ditambahkan: {TIMNAS}", "Kabar Uji · 2024-06-11", f"Disimpan sebagai added/{saved}"]
    assert lines[4].startswith("Diindeks: ") and lines[4].endswith(" kutipan.")
    assert lines[6].startswith("Indeks diperbarui: 1 ditambah, 0 diubah, 0 dihapus, 2 tetap")
    assert f"added/{saved}" in engine.snapshot.articles
    assert len(server.calls("getFile", ok=True)) == 1
    # Answered from the new article, or (the checker unsure) refused with the new article named as closest.
    text = answer.params["text"]
    assert ("Thom Haye" in text and "Kabar Uji · 2024-06-11" in text) or "Artikel terdekat: Timnas Indonesia" in text


async def test_wrong_binary_or_too_large_uploads_are_refused_and_nothing_is_saved(server, admin_bot, engine) -> None:
    big = b"Berita panjang. " * (5 * 1024 * 1024 // 16 + 1)
    async with admin_bot():
        pdf = server.push_update(server.document("scan.pdf", b"%PDF-1.4 ...", "application/pdf", ADMIN))
        bare = server.push_update(server.document("README", b"Isi berita.", "text/plain", ADMIN))
        binary = server.push_update(server.document("berita.txt", b"\x00\x01\x02" * 100, "text/plain", ADMIN))
        huge = server.push_update(server.document("besar.txt", big, "text/plain", ADMIN))
        [pdf_reply] = await replies(server, pdf)
        [bare_reply] = await replies(server, bare)
        [binary_reply] = await replies(server, binary)
        [huge_reply] = await replies(server, huge)

    assert plain(pdf_reply) == t("id", "upload_type", suffix=".pdf")
    assert plain(bare_reply) == t("id", "upload_type", suffix="“README”")
    assert plain(binary_reply) == t("id", "add_failed", error="That file is binary, not text.")
    assert plain(huge_reply) == t("id", "upload_too_big", size="5.0", limit=5)
    [downloaded] = server.calls("getFile")  # only the .txt under 5 MB was fetched
    assert downloaded.params["file_id"] == binary["message"]["document"]["file_id"]
    assert added_files(engine) == [] and len(engine.articles()) == 2


async def test_a_non_admins_upload_gets_the_text_only_hint_and_is_not_downloaded(server, admin_bot, engine) -> None:
    async with admin_bot():
        upload = server.push_update(server.document("timnas.md", NEW_ARTICLE.encode(), "text/markdown"))
        [hint] = await replies(server, upload)
        await settle(server)
    assert plain(hint) == t("id", "not_text")
    assert server.calls("getFile") == [] and added_files(engine) == []


# --- /add ------------------------------------------------------------------------------------


async def test_add_url_fetches_saves_and_indexes_the_page(server, admin_bot, engine, site) -> None:
    async with admin_bot():
        add = server.push_update(server.private_text(f"/add {site.url}/berita/kim-pabrik-amunisi", ADMIN))
        [report] = await replies(server, add, timeout=60)
        question = server.push_update(server.private_text("Berapa peluru artileri yang diproduksi pabrik itu?"))
        [answer] = await replies(server, question)

    assert added_files(engine) == ["2024-07-01-kim-jong-un-kunjungi-pabrik-amunisi-baru.md"]
    text = plain(report)
    assert text.startswith("Artikel ditambahkan: Kim Jong Un Kunjungi Pabrik Amunisi Baru\ndetikcom · 2024-07-01\n")
    assert "Indeks diperbarui: 1 ditambah, 0 diubah, 0 dihapus, 2 tetap" in text
    assert site.hits == ["/berita/kim-pabrik-amunisi"]
    assert "dua juta peluru artileri" in answer.params["text"]
    assert "ADVERTISEMENT" not in (engine.settings.corpus_dir / "added" / added_files(engine)[0]).read_text()


async def test_add_pasted_text_is_saved_and_indexed(server, admin_bot, engine) -> None:
    async with admin_bot():
        add = server.push_update(server.private_text(f"/add {PASTED}", ADMIN, language_code="en"))
        [report] = await replies(server, add, timeout=60)
        question = server.push_update(server.private_text(ROB))
        [answer] = await replies(server, question)

    [saved] = added_files(engine)
    assert saved == "banjir-rob-genangi-pesisir-semarang.md"
    lines = plain(report).split("\n")
    assert lines[:3] == [
        "Article added: Banjir Rob Genangi Pesisir Semarang",
        "unknown outlet · unknown date",
        f"Saved as added/{saved}",
    ]
    assert "Index refreshed: 1 added, 0 updated, 0 removed, 2 unchanged" in plain(report)
    assert "1.200 rumah terendam" in answer.params["text"]


async def test_add_refusals_say_why_and_add_alone_shows_the_usage(server, admin_bot, engine, site) -> None:
    async with admin_bot():
        ftp = server.push_update(server.private_text("/add ftp://example.org/berita.txt", ADMIN))
        pdf = server.push_update(server.private_text(f"/add {site.url}/pdf", ADMIN))
        alone = server.push_update(server.private_text("/add", ADMIN))
        alone_en = server.push_update(server.private_text("/add   ", ADMIN, language_code="en"))
        [ftp_reply] = await replies(server, ftp)
        [pdf_reply] = await replies(server, pdf)
        [usage] = await replies(server, alone)
        [usage_en] = await replies(server, alone_en)

    assert plain(ftp_reply) == t(
        "id", "add_failed", error="Only http(s) URLs can be added, not 'ftp://example.org/berita.txt'."
    )
    assert plain(pdf_reply).startswith(t("id", "add_failed", error="")) and "application/pdf" in plain(pdf_reply)
    assert usage.params["parse_mode"] == "HTML" and "<code>/add URL</code>" in usage.params["text"]
    assert plain(usage_en).startswith("Add an article: /add URL")
    assert added_files(engine) == [] and len(engine.articles()) == 2


async def test_non_admins_are_refused_add_and_remove_and_logged(server, admin_bot, engine, site, caplog) -> None:
    async with admin_bot():
        add = server.push_update(server.private_text(f"/add {site.url}/berita/balon-sampah"))
        paste = server.push_update(server.group_text(f"/add@kabar_test_bot {PASTED}", user_id=777, language_code="en"))
        remove = server.push_update(server.private_text("/remove 1"))
        for update in (add, paste, remove):
            await replies(server, update)
        await settle(server)

    assert [plain(c) for c in sent_to(server, USER)] == [t("id", "admin_only")] * 2
    assert [plain(c) for c in server.calls("sendMessage") if c.params["chat_id"] < 0] == [t("en", "admin_only")]
    assert refusals(caplog) == [
        f"refused /add from user {USER}",
        "refused /add from user 777",
        f"refused /remove from user {USER}",
    ]
    assert site.hits == [] and added_files(engine) == [] and len(list(engine.settings.corpus_dir.iterdir())) == 2


async def test_admins_get_add_and_remove_in_their_own_command_menu(server, admin_bot) -> None:
    async with admin_bot():
        pass
    scoped = f'{{"chat_id": {ADMIN}, "type": "chat"}}'
    assert [c["command"] for c in server.commands[(scoped, "")]] == [
        "ask",
        "sources",
        "help",
        "add",
        "remove",
        "refresh",
    ]
    assert server.commands[(scoped, "en")][3]["description"].startswith("Add an article")
    default = [c["command"] for c in server.commands[('{"type": "default"}', "")]]
    assert default == ["ask", "sources", "help"]


# --- /remove ---------------------------------------------------------------------------------


async def test_remove_asks_for_confirmation_then_deletes_and_reindexes(server, admin_bot, engine) -> None:
    [republika] = [a for a in engine.articles() if a.outlet == "Republika"]
    async with admin_bot():
        unknown = server.push_update(server.private_text("/remove rendang", ADMIN))
        [not_found] = await replies(server, unknown)
        remove = server.push_update(server.private_text("/remove korut dan rusia", ADMIN))
        [confirm] = await replies(server, remove)
        (delete, delete_data), (cancel, _) = buttons(confirm)
        server.push_update(server.callback_query(delete_data, confirm.result, user_id=ADMIN))
        working, done = await server.wait_for("editMessageText", 2, ok=True, timeout=60)
        server.push_update(server.callback_query(delete_data, confirm.result, user_id=ADMIN))  # pressed again
        [_, again] = await server.wait_for("answerCallbackQuery", 2, ok=True)
        await settle(server)

    assert plain(not_found) == t(
        "id", "remove_not_found", error="No article matches 'rendang'; see /sources or `kabar sources`."
    )
    assert plain(confirm) == (
        "Hapus artikel ini dari korpus dan indeks?\n"
        f"{republika.title}\nRepublika · tanggal tidak diketahui\n{republika.id}"
    )
    assert (delete, cancel) == ("Hapus 🗑", "Batal") and len(delete_data.encode()) <= 64
    assert plain(working) == f"Menghapus {republika.title} dan memperbarui indeks…" and buttons(working) == []
    assert done.params["message_id"] == confirm.result["message_id"] and done.params["parse_mode"] == "HTML"
    assert plain(done).startswith(f"Artikel dihapus: {republika.title}\nBerkas {republika.id} dihapus.\n\n")
    assert "Indeks diperbarui: 0 ditambah, 0 diubah, 1 dihapus, 1 tetap" in plain(done)
    assert not (engine.settings.corpus_dir / republika.id).exists()
    assert republika.id not in engine.snapshot.articles and len(engine.articles()) == 1
    assert again.params.get("text") == t("id", "remove_expired")


async def test_remove_by_sources_number_then_cancel_keeps_the_article(server, admin_bot, engine) -> None:
    second = engine.articles()[1]  # "/sources" lists newest first; /remove 2 is its second line
    async with admin_bot():
        server.push_update(server.private_text("/sources", ADMIN))
        [listing] = await server.wait_for("sendMessage", ok=True)  # /sources does not quote
        remove = server.push_update(server.private_text("/remove 2", ADMIN, language_code="en"))
        [confirm] = await replies(server, remove)
        [_, (cancel, cancel_data)] = buttons(confirm)
        server.push_update(server.callback_query(cancel_data, confirm.result, user_id=ADMIN))
        [cancelled] = await server.wait_for("editMessageText", ok=True)
        await settle(server)

    assert plain(listing).split("\n")[2].startswith(f"2. {second.title}")
    assert plain(confirm).split("\n")[1] == second.title and cancel == "Cancel"
    # Texts follow the presser's language; the fake's button presses come from language "id".
    assert plain(cancelled) == f"Penghapusan dibatalkan: {second.title} tetap ada."
    assert (engine.settings.corpus_dir / second.id).exists() and len(engine.articles()) == 2


async def test_a_non_admin_pressing_delete_is_refused(server, admin_bot, engine, caplog) -> None:
    async with admin_bot():
        remove = server.push_update(server.private_text("/remove 1", ADMIN))
        [confirm] = await replies(server, remove)
        [(_, delete_data), _] = buttons(confirm)
        server.push_update(server.callback_query(delete_data, confirm.result, user_id=USER))
        [refused] = await server.wait_for("answerCallbackQuery", ok=True)
        await settle(server)

    assert refused.params["text"] == t("id", "admin_only") and refused.params["show_alert"] is True
    assert refusals(caplog) == [f"refused /remove confirmation from user {USER}"]
    assert server.calls("editMessageText") == [] and len(engine.articles()) == 2
    assert all((engine.settings.corpus_dir / a.id).exists() for a in engine.articles())


# --- while the index refreshes ---------------------------------------------------------------


async def test_questions_are_answered_during_an_add_refresh_and_a_second_add_waits_its_turn(
    server, admin_bot, engine, monkeypatch
) -> None:
    """The first /add's refresh is held inside Engine.refresh's lock: a question is answered from the old
    index meanwhile, and a second admin command's refresh waits for the lock instead of failing."""
    import index.engine

    started, release, calls = threading.Event(), threading.Event(), []
    build = index.engine.build_index

    def held_build(*args, **kwargs):
        calls.append(len(calls))
        if len(calls) == 1:
            started.set()
            assert release.wait(60)
        return build(*args, **kwargs)

    monkeypatch.setattr(index.engine, "build_index", held_build)
    async with admin_bot():
        try:
            first = server.push_update(server.private_text(f"/add {NEW_ARTICLE}", ADMIN))
            assert await asyncio.to_thread(started.wait, 60)
            second = server.push_update(server.private_text(f"/add {PASTED}", ADMIN))
            question = server.push_update(server.private_text(KIM))
            [answer] = await replies(server, question)
            for _ in range(200):  # the second file is saved; its refresh then queues on the lock
                if len(added_files(engine)) == 2:
                    break
                await asyncio.sleep(0.02)
            await settle(server, 0.3)
            assert len(calls) == 1 and len(added_files(engine)) == 2
            assert sent_to(server, ADMIN) == []  # neither /add has replied yet
        finally:
            release.set()
        [first_report] = await replies(server, first, timeout=60)
        [second_report] = await replies(server, second, timeout=60)
        rob = server.push_update(server.private_text(ROB))
        [rob_answer] = await replies(server, rob)

    assert "<blockquote" in answer.params["text"] and answer.time < first_report.time
    assert "Republika" in answer.params["text"]  # from the old index
    for report in (first_report, second_report):
        assert plain(report).startswith("Artikel ditambahkan: ") and "gagal" not in plain(report)
    assert "Diindeks: " in plain(first_report) and "Diindeks: " in plain(second_report)
    # The first refresh, released after both files were saved, indexed both; the second found nothing to do.
    assert "Indeks diperbarui: 2 ditambah, 0 diubah, 0 dihapus, 2 tetap" in plain(first_report)
    assert "Indeks diperbarui: 0 ditambah, 0 diubah, 0 dihapus, 4 tetap (" in plain(second_report)
    assert len(calls) == 2 and len(engine.articles()) == 4
    assert "1.200 rumah terendam" in rob_answer.params["text"]
