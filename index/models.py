"""The things that flow through Kabar: article → passages → hits → answer."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Article:
    """One cleaned news article, ready to be chunked."""

    id: str  # stable: corpus-relative path, e.g. "republika-korut-rusia.txt"
    path: str  # path as given to the loader
    title: str
    text: str  # cleaned body, paragraphs separated by blank lines (no title)
    outlet: str = ""
    date: str = ""  # ISO date "2024-06-14" or ""
    editor: str = ""
    source: str = ""  # original source, e.g. "Chosun"
    url: str = ""
    hash: str = ""  # sha256 of the cleaned text + metadata


@dataclass(frozen=True)
class Passage:
    """A sentence-aligned piece of an article; the unit that is embedded and shown."""

    id: str  # hash of (model id, embed_text): an unchanged passage is never embedded twice
    article_id: str
    position: int  # order within the article
    text: str  # shown to users (no title)
    embed_text: str  # what the model sees (title prefix + header + text)


@dataclass(frozen=True)
class Hit:
    """A passage found for a question, with the scores that ranked it."""

    passage: Passage
    article: Article
    score: float  # fused score used for ranking
    dense: float = 0.0  # cosine similarity
    keyword: float = 0.0  # BM25 score
    rank: int = 0


@dataclass(frozen=True)
class Answer:
    """What Kabar says to a question: a short answer and the passages behind it."""

    question: str
    found: bool
    text: str  # the answer sentence(s), or a plain "not found" message
    hits: list[Hit] = field(default_factory=list)  # the passage holding the answer sentence first
    confidence: float = 0.0  # the answer checker's calibrated probability for its best sentence, 0–1
    language: str = "id"  # of the question: "en" or "id"; Kabar's own words follow it
    closest: str = ""  # when not found: the title of the one article on the question's topic, if any
    sentences: tuple = ()  # the checked sentences behind the answer (index.answer.Candidate), best first
    generated: bool = False  # `text` was written by a language model (index/generate.py), checked for citations
    prompt_version: str = ""  # the prompt that wrote it, when generated

    @property
    def from_byline(self) -> bool:
        """Answered by an article's byline (index/byline.py): the article's metadata is the evidence, and
        no passage holds it, so replies cite the article instead of quoting passages."""
        if not self.found or self.generated or not self.sentences:
            return False
        return all(c.position < 0 for c in self.sentences)
