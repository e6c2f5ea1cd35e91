"""Near-duplicate articles (the same wire story from two outlets), found with MinHash LSH."""

from __future__ import annotations

from typing import TYPE_CHECKING

from index.keyword import tokenize
from index.models import Article

SHINGLE = 5  # words per shingle
NEAR = 0.5  # estimated Jaccard over shingles from which two articles are reported
SAME = 0.9  # ...and from which they are one article with different page boilerplate
PERMUTATIONS = 128

if TYPE_CHECKING:
    from datasketch import MinHash


def same_text(text: str) -> str:
    """What two copies of one article share exactly: the cleaned text, whitespace and case aside."""
    return " ".join(text.split()).lower()


def _minhash(text: str) -> MinHash:
    from datasketch import MinHash  # imports scipy (~0.3 s): only building the index needs it

    words = tokenize(text)
    shingles = {" ".join(words[i : i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))}
    mh = MinHash(num_perm=PERMUTATIONS, seed=1)
    mh.update_batch([s.encode() for s in shingles])
    return mh


def near_duplicates(articles: list[Article], threshold: float = NEAR) -> list[tuple[str, str, float]]:
    """(earlier id, later id, estimated similarity) for each pair above the threshold, in corpus order."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=PERMUTATIONS)
    hashes: dict[str, MinHash] = {}
    pairs = []
    for article in articles:
        mh = _minhash(article.text)
        for other in lsh.query(mh):
            similarity = mh.jaccard(hashes[other])
            if similarity >= threshold:
                pairs.append((other, article.id, round(similarity, 3)))
        lsh.insert(article.id, mh)
        hashes[article.id] = mh
    return pairs
