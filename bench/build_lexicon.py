"""Write index/lexicon/eng-ind.tsv, the English → Indonesian word list English questions are read through.

    apt-get install dict-freedict-eng-ind && python -m bench.build_lexicon

From FreeDict's English–Indonesian dictionary (WikDict, from Wiktionary; CC BY-SA 3.0, so the list is too):
each English headword (one to three words) with the first Indonesian translation of its first entry.
"""

from __future__ import annotations

import gzip
import re

from bench.common import ROOT
from bench.pseudo_english import DICTIONARY

OUT = ROOT / "index" / "lexicon" / "eng-ind.tsv"
NOTICE = (
    "# English → Indonesian, from FreeDict eng-ind 2022.11.18 (WikDict, Wiktionary data), "
    "CC BY-SA 3.0: https://creativecommons.org/licenses/by-sa/3.0/ — made by `python -m bench.build_lexicon`\n"
)


def entries(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for entry in re.split(r"\n(?=\S[^\n]*<[a-z.]+>\n)", text):
        lines = entry.split("\n")
        head = re.match(r"^(.+?) (?:/.*/ )?<[a-z.]+>$", lines[0])
        if not head or len(lines) < 2:
            continue
        english = head.group(1).strip().lower()
        first = re.split(r"[,;]", re.sub(r"^\d+\.\s*", "", lines[1]))[0]
        first = re.sub(r"\s*\d+\.$", "", first).strip()
        if (
            english not in out
            and first
            and len(english.split()) <= 3
            and re.fullmatch(r"[a-z][a-z' -]*", english)
            and re.fullmatch(r"[^\W\d_][\w' -]*", first)
        ):
            out[english] = first
    return out


def main() -> None:
    with gzip.open(DICTIONARY, "rt", encoding="utf-8") as f:
        words = entries(f.read())
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(NOTICE + "".join(f"{e}\t{i}\n" for e, i in sorted(words.items())), encoding="utf-8")
    print(f"{len(words)} entries written to {OUT.relative_to(ROOT)} ({OUT.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
