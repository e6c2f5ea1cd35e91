"""Write index/lexicon/eng-ind.tsv, the English → Indonesian word list English questions are read through.

    apt-get install dict-freedict-eng-ind && python -m bench.build_lexicon

From FreeDict's English–Indonesian dictionary (WikDict, from Wiktionary; CC BY-SA 3.0, so the list is too):
each English headword (one to three words) with the first Indonesian translation of its first entry.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from pathlib import Path

from bench.common import ROOT

DICTIONARY = Path("/usr/share/dictd/freedict-eng-ind.dict.dz")
OUT = ROOT / "index" / "lexicon" / "eng-ind.tsv"
NOTICE = (
    "# English → Indonesian, from FreeDict eng-ind 2022.11.18 (WikDict, Wiktionary data), "
    "CC BY-SA 3.0: https://creativecommons.org/licenses/by-sa/3.0/ — made by `python -m bench.build_lexicon`\n"
)


def dictionary_entries(path: Path = DICTIONARY) -> Iterator[tuple[str, list[str]]]:
    """(English headword, its first line of Indonesian translations), entry by entry, as the dictionary lists them."""
    if not path.exists():
        raise SystemExit(f"{path} is missing: install it with `apt-get install dict-freedict-eng-ind`")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        text = f.read()
    for entry in re.split(r"\n(?=\S[^\n]*<[a-z.]+>\n)", text):
        lines = entry.split("\n")
        head = re.match(r"^(.+?) (?:/.*/ )?<[a-z.]+>$", lines[0])
        if head and len(lines) >= 2:
            translations = re.split(r"[,;]", re.sub(r"^\d+\.\s*", "", lines[1]))
            yield head.group(1).strip().lower(), [re.sub(r"\s*\d+\.$", "", t).strip() for t in translations]


def entries() -> dict[str, str]:
    """English word or phrase (up to three words) → the first translation of its first entry."""
    out: dict[str, str] = {}
    for english, translations in dictionary_entries():
        first = translations[0]
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
    words = entries()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(NOTICE + "".join(f"{e}\t{i}\n" for e, i in sorted(words.items())), encoding="utf-8")
    print(f"{len(words)} entries written to {OUT.relative_to(ROOT)} ({OUT.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
