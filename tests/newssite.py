"""A loopback news website for ingestion tests: article pages with real-world clutter, redirects, an RSS feed."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

KOMPAS = (Path(__file__).parent / "data" / "kompas-page.html").read_text(encoding="utf-8")

PAGE = """<!DOCTYPE html><html lang="id"><head><meta charset="utf-8">
<title>{title} - Detik News</title>
<meta property="og:title" content="{title}"><meta property="og:site_name" content="detikNews">
<meta property="article:published_time" content="{date}T10:00:00+07:00">
<script src="/ads.js"></script><script>var googletag = googletag || {{}}; googletag.cmd = [];</script>
</head><body>
<div class="topbar"><a href="/login">Masuk</a> | <a href="/daftar">Daftar</a></div>
<nav><ul><li>Home</li><li>Berita</li><li>Ekonomi</li><li>Olahraga</li><li>Hot</li></ul></nav>
<div class="ads"><iframe src="/banner"></iframe>ADVERTISEMENT</div>
<article><h1>{title}</h1><div class="date">Senin, {human_date} 10:00 WIB</div>
{paragraphs}
<div class="lihat-juga">Baca Juga: Harga Cabai Naik Lagi di Pasar Induk</div>
<p>(nvc/imk)</p>
</article>
<section class="comments"><h3>Komentar</h3><div class="comment">Mantap beritanya! Semoga damai.</div>
<div class="comment">Kapan ya perang selesai?</div></section>
<aside><h4>Terpopuler</h4><ol><li>Artis A menikah</li><li>Resep Rendang</li></ol></aside>
<footer>detikNews &copy; 2024. Redaksi | Pedoman Media Siber | Karir</footer>
<script>(function(){{console.log('track')}})();</script></body></html>"""

PYONGYANG_FACTORY = [
    "JAKARTA - Kim Jong Un mengunjungi pabrik amunisi baru di dekat Pyongyang pada Senin pagi bersama para "
    "pejabat militer senior Korea Utara.",
    "Menurut kantor berita KCNA, pabrik itu mampu memproduksi dua juta peluru artileri per tahun, jumlah yang "
    "menurut para analis cukup untuk memasok kebutuhan Rusia di Ukraina.",
    "Kim memerintahkan agar produksi ditingkatkan tiga kali lipat sebelum akhir tahun dan memuji para pekerja "
    "yang disebutnya sebagai pahlawan pertahanan nasional.",
]
SEOUL_BALLOONS = [
    "JAKARTA - Korea Selatan kembali menemukan ratusan balon berisi sampah yang diterbangkan dari Korea Utara "
    "melintasi perbatasan pada Minggu malam.",
    "Kepala Staf Gabungan Korea Selatan menyatakan balon-balon itu membawa kertas bekas, plastik, dan kotoran "
    "hewan, dan meminta warga untuk tidak menyentuhnya.",
]


def page(title: str, paragraphs: list[str], date: str = "2024-07-01", human_date: str = "01 Juli 2024") -> str:
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return PAGE.format(title=title, date=date, human_date=human_date, paragraphs=body)


class NewsSite:
    """Serves /berita/<slug>, /redirect/<n>, /huge, /drip, /pdf, /rss.xml, /broken-feed and any
    `redirects` on 127.0.0.1; feed items are paths on the site or whole URLs."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[str, str]] = {  # path → (content type, body)
            "/berita/kompas-putin-pyongyang": ("text/html; charset=utf-8", KOMPAS),
            "/berita/kim-pabrik-amunisi": (
                "text/html; charset=utf-8",
                page("Kim Jong Un Kunjungi Pabrik Amunisi Baru", PYONGYANG_FACTORY),
            ),
            "/berita/balon-sampah": (
                "text/html; charset=utf-8",
                page("Korsel Temukan Lagi Balon Sampah dari Korut", SEOUL_BALLOONS, "2024-06-09", "09 Juni 2024"),
            ),
            "/pdf": ("application/pdf", "%PDF-1.4 not a page"),
            "/empty": ("text/html", "<html><body><nav>Menu</nav></body></html>"),
        }
        self.hits: list[str] = []
        self.hosts: list[str] = []  # the Host header of each request
        self.redirects: dict[str, str] = {}  # path → Location (any URL)
        self.fail: set[str] = set()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                site.hits.append(self.path)
                site.hosts.append(self.headers.get("Host", ""))
                if self.path in site.fail:
                    self.send_error(500)
                elif self.path in site.redirects:
                    self.send_response(302)
                    self.send_header("Location", site.redirects[self.path])
                    self.end_headers()
                elif self.path == "/drip":  # a byte now and then, for ever: only a deadline ends it
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.end_headers()
                    try:
                        for _ in range(600):
                            self.wfile.write(b"<")
                            self.wfile.flush()
                            time.sleep(0.1)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                elif self.path.startswith("/redirect/"):
                    n = int(self.path.rsplit("/", 1)[1])
                    target = "/berita/kim-pabrik-amunisi" if n <= 1 else f"/redirect/{n - 1}"
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.end_headers()
                elif self.path == "/huge":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.end_headers()  # no length: the client must stop reading by itself
                    chunk = b"<p>" + b"x" * 65536 + b"</p>"
                    try:
                        for _ in range(200):  # ~13 MB
                            self.wfile.write(chunk)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                elif self.path == "/rss.xml":
                    self._send("application/rss+xml", site.rss())
                elif self.path in site.pages:
                    self._send(*site.pages[self.path])
                else:
                    self.send_error(404)

            def _send(self, content_type: str, body: str) -> None:
                data = body.encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.feed_items = ["/berita/kim-pabrik-amunisi", "/berita/balon-sampah"]

    def rss(self) -> str:
        items = "".join(
            f"<item><title>{link.rsplit('/', 1)[1]}</title><link>{link}</link>"
            f"<guid>{link}</guid><pubDate>Mon, 01 Jul 2024 03:00:00 GMT</pubDate></item>"
            for link in (p if p.startswith("http") else self.url + p for p in self.feed_items)
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Berita</title>'
            f"<link>{self.url}</link><description>Berita terbaru</description>{items}</channel></rss>"
        )

    def __enter__(self) -> NewsSite:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
