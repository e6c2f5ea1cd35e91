"""Hits → answer: the sentences that best answer the question, or a plain "not found"."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from index import byline, introduction, keyword
from index.checker import Checker
from index.chunk import is_question_header, split_sentences
from index.embed import Embedder
from index.models import Answer, Hit, Passage
from index.translate import to_indonesian

SentenceVectors = Callable[[Passage], "np.ndarray | None"]  # e.g. Snapshot.sentences_of

# Function words of questions: they say nothing about the topic, but tell the language apart.
INDONESIAN_WORDS = frozenset(
    """
    apa apakah yang siapa siapakah kapan kapankah di mana dimana manakah mengapa kenapa bagaimana
    berapa ke dari dan atau ini itu adalah ialah untuk dengan pada oleh dalam akan sebagai nya
    saja juga tidak bisa dapat ada para sang si telah sudah sedang masih lebih kah pun
    """.split()
)
ENGLISH_WORDS = frozenset(
    """
    what who whom whose when where why which how does do did is are was were be been the a an of
    in on at to for and or with by from as about into than that this these those it its will would
    can could should has have had not any some there their they he she his her
    """.split()
)
STOP_WORDS = INDONESIAN_WORDS | ENGLISH_WORDS


@dataclass(frozen=True)
class AnswerConfig:
    """When to answer and how many sentences; calibrated on benchmarks (README, Quality)."""

    dense_min: float = 0.80  # below this cosine the top passage is unrelated
    dense_sure: float = 0.87  # above it, answer even without shared key terms
    coverage_min: float = 0.5  # share of the question's key terms found in the top passages
    # e5 scores an English question ~0.05 below its Indonesian twin against Indonesian text (mean
    # gap over the 12 pairs of tests/test_crosslingual.py: 0.054), so English questions get it back.
    cross_lingual_offset: float = 0.05
    sentences: int = 2
    candidates: int = 3  # passages whose sentences may form the answer
    second_sentence_gap: float = 0.03  # a second sentence must score this close to the best
    answer_type_bonus: float = 0.03  # for a date in a "kapan?" answer, a number in a "berapa?" one
    # The answer checker reads the `checked` best sentences (by the score above) of the top
    # `checked_passages` passages. 12 pairs of news sentences cost ~135 ms on 2 cores; 20 pairs and
    # 10 passages answered 2 more of the 66 seed test answerables at twice the cost (bench/results/trust-seed.md).
    checked_passages: int = 5
    checked: int = 12
    # It reads them two at a time, likeliest first (the batches the int8 checker runs anyway, so a
    # sentence scores the same however far the reading goes), and stops after the two in which one clears
    # the threshold; two more when that one is below `sure`, as a marginal pass often has a better
    # sentence next to it. Found or not is what reading all twelve decides (a refusal reads them all).
    # Chosen on the valid splits: against reading six first, the answer holds the gold answer as often
    # (73.9 % vs 74.3 %), cites the gold passage first more often (70.9 % vs 68.1 %) and reads 3.1
    # sentences instead of 6.2 when it answers (README, Quality; the speed: bench/results/question_path.md).
    read_step: int = 2
    sure: float = 0.8
    # English questions score lower and closer together, under their own threshold (README, Quality), so
    # a pass among the first pairs says little: they read the six likeliest before stopping, as they did
    # before reading stopped early ("What does Kim want in return?" finds its sentence fifth).
    english_read_least: int = 6
    # The checker reads an English question word by word in Indonesian (index/translate.py), the language
    # of every question it learnt from; retrieval and the reply keep the question as asked.
    english_in_indonesian: bool = True
    # A question is read in the articles' words (index/colloquial.py): chat words ("kpn", "yg", "gantiin") in
    # their formal forms, and in a question typed without capitals, names as the passages spell them.
    colloquial: bool = True
    read_every: bool = False  # read the rest anyway (bench/trust.py: confidences for tuning and curves)


# Questions that ask for a time or a quantity are answered by sentences that hold one.
ASKS_WHEN = re.compile(r"\b(kapan|kapankah|tanggal|tahun berapa|bulan apa|when|what year|what date)\b", re.I)
ASKS_HOW_MANY = re.compile(r"\b(berapa|berapakah|how many|how much)\b", re.I)
MONTHS = (
    "januari|februari|maret|april|mei|juni|juli|agustus|september|oktober|november|desember|"
    "jan|feb|mar|apr|jun|jul|agu|agt|sep|okt|nov|des|pekan|minggu|senin|selasa|rabu|kamis|jumat|sabtu"
)
HAS_TIME = re.compile(rf"\b(\d{{4}}|\d{{1,2}}(-\d{{1,2}})?\s+({MONTHS})|{MONTHS}|lalu|depan|kemarin|besok)\b", re.I)
NUMBER_WORDS = "satu|dua|tiga|empat|lima|enam|tujuh|delapan|sembilan|sepuluh|puluh|ratus|ribu|juta|miliar"
HAS_NUMBER = re.compile(rf"\d|\b({NUMBER_WORDS})\b", re.I)

NOT_FOUND = "Artikel yang ada tidak menjawab pertanyaan ini."
NOT_FOUND_IN = {"id": NOT_FOUND, "en": "The articles don't answer this question."}


def key_terms(question: str) -> set[str]:
    return {t for t in keyword.tokenize(question) if t not in STOP_WORDS and len(t) > 1}


def coverage(question: str, hits: list[Hit]) -> float:
    """Share of the question's key terms that appear in the hits (1.0 when it has none)."""
    terms = key_terms(question)
    return _covered(terms, hits) if terms else 1.0


def entities(question: str) -> set[str]:
    """Names and numbers in the question ("Kim", "2022"): they must appear in an answer's passages.

    Unlike key terms they survive translation, so they work for English questions too.
    """
    words = re.findall(r"\w+", question)
    # "I" is capitalised anywhere in English ("How do I bake…?") and names nothing.
    return {w.lower() for i, w in enumerate(words) if w.isdigit() or (i > 0 and w[0].isupper() and w != "I")}


def _covered(terms: set[str], hits: list[Hit]) -> float:
    if not terms:
        return 0.0
    text: set[str] = set()
    for hit in hits:  # the article's outlet, editor and source name it too, though no passage holds them
        meta = (hit.article.outlet, hit.article.editor, hit.article.source)
        text.update(keyword.tokenize(" ".join((hit.passage.embed_text, *meta))))
    return len(terms & text) / len(terms)


def is_english(question: str) -> bool:
    """More English than Indonesian function words ("What does Kim want in return?")."""
    tokens = keyword.tokenize(question)
    return sum(t in ENGLISH_WORDS for t in tokens) > sum(t in INDONESIAN_WORDS for t in tokens)


def wholly_english(question: str) -> bool:
    """English with no Indonesian question or function word: not "tahun berapakah The Greatest Showman
    dirilis?", whose English title tips is_english but which the checker reads best as asked."""
    tokens = keyword.tokenize(question)
    return is_english(question) and not any(t in INDONESIAN_WORDS or t.endswith("kah") for t in tokens)


def top_cosine(question: str, hits: list[Hit], config: AnswerConfig) -> float:
    """The top passage's cosine, an English question given back e5's cross-lingual gap."""
    return hits[0].dense + (config.cross_lingual_offset if is_english(question) else 0.0)


def is_answerable(question: str, hits: list[Hit], config: AnswerConfig) -> tuple[bool, float]:
    """A sane rule on dense similarity plus shared key terms or names; returns (found, confidence)."""
    if not hits:
        return False, 0.0
    top = top_cosine(question, hits, config)
    if not key_terms(question):
        return False, float(top)  # "kapan?" alone names nothing to look for
    if top >= config.dense_sure:
        return True, float(top)
    shown = hits[: config.candidates]
    names = entities(question)
    evidence = coverage(question, shown) >= config.coverage_min or (bool(names) and _covered(names, shown) == 1.0)
    return top >= config.dense_min and evidence, float(top)


def _scored_sentences(
    question: str,
    hits: list[Hit],
    embedder: Embedder,
    config: AnswerConfig,
    query_vector: np.ndarray | None,
    sentence_vectors: SentenceVectors | None,
    passages: int | None = None,
) -> tuple[list[tuple[int, int, str]], np.ndarray]:
    """Every sentence of the top passages as (hit index, sentence index, text), with the bi-encoder's score.

    Sentence vectors come from the index (pooled at indexing time, Snapshot.sentences_of); a
    passage without them (an index from an older Kabar) has its sentences embedded now.
    """
    q = embedder.queries([question])[0] if query_vector is None else query_vector
    pool: list[tuple[int, int, str]] = []  # (hit index, sentence index, sentence)
    similarity: list[float] = []
    for h, hit in enumerate(hits[: passages or config.candidates]):
        sentences = split_sentences(hit.passage.text)
        vecs = sentence_vectors(hit.passage) if sentence_vectors else None
        if vecs is None or len(vecs) != len(sentences):
            vecs = embedder.passages(sentences)
        sims = np.asarray(vecs, dtype=np.float32) @ q
        header = None  # similarity of the header line right above this sentence
        for s, sentence in enumerate(sentences):
            if is_question_header(sentence):
                header = float(sims[s])  # a header restating the question is no answer, but points to one
                continue
            sim = float(sims[s])
            # The sentence right under a matching header ("Apa yang diinginkan Kim…?") is usually its answer.
            similarity.append(sim if header is None else max(sim, (sim + header) / 2))
            pool.append((h, s, sentence))
            header = None
    if not pool:
        return [], np.zeros(0, dtype=np.float32)
    sims = np.array(similarity, dtype=np.float32)
    terms = key_terms(question)
    overlap = np.array(
        [len(terms & set(keyword.tokenize(s))) / max(1, len(terms)) for _, _, s in pool], dtype=np.float32
    )
    rank_prior = np.array([-0.01 * h for h, _, _ in pool], dtype=np.float32)
    wanted = HAS_TIME if ASKS_WHEN.search(question) else HAS_NUMBER if ASKS_HOW_MANY.search(question) else None
    typed = np.array([bool(wanted and wanted.search(s)) for _, _, s in pool], dtype=np.float32)
    return pool, sims + 0.05 * overlap + rank_prior + config.answer_type_bonus * typed


def best_sentences(
    question: str,
    hits: list[Hit],
    embedder: Embedder,
    config: AnswerConfig,
    query_vector: np.ndarray | None = None,
    sentence_vectors: SentenceVectors | None = None,
) -> list[str]:
    """The bi-encoder's best one or two sentences of the top passages (the answer when there is no checker)."""
    pool, score = _scored_sentences(question, hits, embedder, config, query_vector, sentence_vectors)
    if not pool:
        return []
    order = np.argsort(-score, kind="stable")
    best = int(order[0])
    chosen = [best]
    for i in order[1 : config.sentences + 3]:
        i = int(i)
        close = score[best] - score[i] <= config.second_sentence_gap
        repeated = pool[i][2] in {pool[j][2] for j in chosen}  # overlapping passages repeat sentences
        if len(chosen) < config.sentences and close and not repeated:
            chosen.append(i)
    if len({pool[i][0] for i in chosen}) == 1:
        chosen.sort(key=lambda i: pool[i][1])  # one passage: its own order reads best; else the best leads
    return [pool[i][2] for i in chosen]


@dataclass(frozen=True)
class Candidate:
    """A sentence of one of the top passages, as the answer checker judged it."""

    hit: int  # index into the hits
    position: int  # sentence index within its passage
    text: str
    prior: float  # the bi-encoder's score (best_sentences): which sentences the checker reads
    probability: float = 0.0  # the checker's calibrated probability that it answers the question
    context: str = ""  # what the checker read: the sentence, or the sentence with the one before it


def candidates(
    question: str,
    hits: list[Hit],
    embedder: Embedder,
    config: AnswerConfig,
    query_vector: np.ndarray | None = None,
    sentence_vectors: SentenceVectors | None = None,
) -> list[Candidate]:
    """The `config.checked` best sentences of the top passages by the bi-encoder's score, best first."""
    pool, score = _scored_sentences(
        question, hits, embedder, config, query_vector, sentence_vectors, config.checked_passages
    )
    order = np.argsort(-score, kind="stable")
    out = bylines(question, hits[: config.checked_passages], float(score.max()) if len(score) else 0.0)
    asked = len(out)
    seen: set[str] = set()
    for i in order:
        h, s, text = pool[int(i)]
        if text in seen:  # overlapping passages repeat sentences
            continue
        seen.add(text)
        previous = split_sentences(hits[h].passage.text)[s - 1] if s > 0 else ""
        out.append(Candidate(h, s, text, float(score[int(i)]), context=context_for(previous, text)))
        if len(out) - asked >= config.checked:
            break
    return out


def bylines(question: str, hits: list[Hit], top: float) -> list[Candidate]:
    """A question about the article itself ("Siapa editornya?") reads the bylines of the top passages'
    articles first (index/byline.py); position -1 puts a byline before its passage's sentences."""
    if not byline.asks_about_article(question):
        return []
    out: dict[str, Candidate] = {}  # one per article, at its best passage
    for h, hit in enumerate(hits):
        text = byline.byline(hit.article)
        if text and text not in out:
            out[text] = Candidate(h, -1, text, top + 1.0, context=text)
    return list(out.values())


def introductions(subject: introduction.Subject, hits: list[Hit]) -> list[Candidate]:
    """The sentences of the hits that say who or what the subject is, each read through what it says
    ("Kim Taewoo adalah mantan kepala …"; index/introduction.py). Every hit is read: an article introduces
    a person once, often in a passage about something else (Kim Taewoo's is eighth for his question)."""
    out: dict[str, Candidate] = {}  # one per description: "Presiden Vladimir Putin" recurs
    for h, hit in enumerate(hits):
        sentences = split_sentences(hit.passage.text)
        for s, text in enumerate(sentences):
            reading = introduction.introduction(text, subject)
            if reading is None and s + 1 < len(sentences) and _name_alone(text, subject):
                text = f"{text} {sentences[s + 1]}"  # a name standing alone, and what the next sentence says
                reading = introduction.introduction(text, subject)
            if reading and reading not in out:
                out[reading] = Candidate(h, s, text, 1.0, context=reading)
    return list(out.values())


def _name_alone(sentence: str, subject: introduction.Subject) -> bool:
    """ "Ir. Basuki Tjahaja Purnama, M.M.": a short sentence naming the subject, described by the next."""
    return len(sentence.split()) <= 8 and introduction.names(sentence, subject)


# A sentence with a pronoun among its first words leans on the one before ("Ia mengatakan…",
# "Terakhir kali ia mengunjungi…", "Negara tersebut…"), and so does one opening with "Hal itu…".
ANAPHORA = re.compile(
    r"^[\"“']?((\S+\s+){0,4}(ia|dia|mereka|beliau|keduanya|tersebut|he|she|they)|hal|ini|itu|it|this|that)\b",
    re.I,
)


def context_for(previous: str, sentence: str) -> str:
    """What the checker reads for a sentence: with the header above it, or the sentence before when it
    leans on it (a pronoun among its first words); else the sentence alone. Measured on the seed
    articles: "Pengamat mengatakan prioritas Kim adalah…" scores 0.27 for "Apa yang diinginkan Kim Jong
    Un sebagai imbalannya?" alone, 0.97 under its header; "Terakhir kali ia mengunjungi…" 0.10 alone,
    0.90 after the sentence naming Putin."""
    if previous and (is_question_header(previous) or ANAPHORA.match(sentence)):
        return f"{previous} {sentence}"
    return sentence


def language(question: str) -> str:
    """ "en" for a question asked in English, else "id": Kabar's own words follow it. An Indonesian
    question naming an English title ("berapakah jumlah anggota The Beatles?", whose "the" tips
    is_english) is answered in Indonesian: any Indonesian question or function word says how its asker writes."""
    return "en" if wholly_english(question) else "id"


def answer(
    question: str,
    hits: list[Hit],
    embedder: Embedder,
    config: AnswerConfig = AnswerConfig(),
    query_vector: np.ndarray | None = None,
    sentence_vectors: SentenceVectors | None = None,
    checker: Checker | None = None,
) -> Answer:
    """Found only when the checker says a sentence of the top passages answers the question.

    Without a checker (no bundled encoder to build it on), the older rule on dense similarity and
    shared terms decides, as it did before the checker existed.
    """
    lang = language(question)
    if checker is None:
        return _rule_answer(question, hits, embedder, config, query_vector, sentence_vectors, lang)
    pool = read_pool(checker, question, hits, embedder, config, query_vector, sentence_vectors)
    threshold = checker.calibration.threshold_for(lang == "en")
    passing = [c for c in pool if c.probability >= threshold]
    confidence = pool[0].probability if pool else 0.0
    if not passing:
        return _not_found(question, hits, lang, confidence, pool)
    chosen = passing[: config.sentences]
    if len({c.hit for c in chosen}) == 1:
        chosen.sort(key=lambda c: c.position)  # one passage: its own order reads best; else the best leads
    first = passing[0].hit
    ordered = [hits[first]] + [h for i, h in enumerate(hits) if i != first]
    return Answer(
        question=question,
        found=True,
        text=" ".join(c.text for c in chosen),
        hits=ordered,
        confidence=confidence,
        language=lang,
        sentences=tuple(chosen),
    )


def read_pool(
    checker: Checker,
    question: str,
    hits: list[Hit],
    embedder: Embedder,
    config: AnswerConfig,
    query_vector: np.ndarray | None = None,
    sentence_vectors: SentenceVectors | None = None,
) -> list[Candidate]:
    """The candidates the checker read, best first; none when the top passages are not about the question.

    The checker judges a sentence against the question; whether the passages are about the question at
    all is the bi-encoder's call (a date sentence "answers" any "kapan?" question)."""
    said: list[Candidate] = []  # what the articles say the question's person or term is
    subject = None if byline.asks_about_article(question) else introduction.asked_subject(question)
    if subject and any(introduction.names(h.passage.text, subject) for h in hits):
        said = judge(checker, question, introductions(subject, hits)[: config.checked], config, subject.question)
        if subject.person:  # a person the articles name is answered by what they say of them, or not at all
            return said
    # A term is read beside the other candidates: a definition in a form introduction.py misses
    # ("Homeostasis merujuk pada…") is still the checker's to find.
    related = bool(hits) and bool(key_terms(question)) and _related(question, hits, config)
    pool = candidates(question, hits, embedder, config, query_vector, sentence_vectors) if related else []
    shown = {c.text for c in said}
    read = judge(checker, question, [c for c in pool if c.text not in shown], config)
    return sorted(said + read, key=lambda c: -c.probability)


def indonesian_reading(question: str, config: AnswerConfig) -> str | None:
    """A wholly English question word by word in Indonesian, the language the checker learnt in
    (index/translate.py); None for any other question, which the checker reads as asked."""
    if language(question) == "en" and config.english_in_indonesian:
        return to_indonesian(question)
    return None


def judge(
    checker: Checker, question: str, pool: list[Candidate], config: AnswerConfig, read_as: str | None = None
) -> list[Candidate]:
    """The candidates the checker read, with its probabilities, best first.

    Two at a time in the pool's order (the bi-encoder's prior), stopping after the step in which one
    clears the threshold, or one step later when the best so far is below `config.sure` (an English
    question reads at least `config.english_read_least`); every candidate when none clears it or with
    `config.read_every`. The int8 checker scores each sentence in a fixed run with its neighbour
    (checker_onnx.PAIRS_PER_RUN), so where the reading stops changes no score: found or refused is exactly
    what reading them all decides; only which passing sentence leads can differ. A wholly English question
    is read word by word in Indonesian (index/translate.py), the language of the checker's training.
    """
    english = language(question) == "en"  # the threshold answer() holds the best candidate to
    threshold = checker.calibration.threshold_for(english)
    least = config.english_read_least if english else 0
    read_as = read_as or indonesian_reading(question, config) or question
    judged: list[Candidate] = []
    end: int | None = None  # how far to read, set once a candidate clears the threshold
    for start in range(0, len(pool), config.read_step):
        if end is not None and start >= end:
            break
        part = pool[start : start + config.read_step]
        probabilities = checker.probabilities(read_as, [c.context or c.text for c in part])
        judged += [replace(c, probability=float(p)) for c, p in zip(part, probabilities, strict=True)]
        best = max(c.probability for c in judged)
        if end is None and not config.read_every and best >= threshold:
            end = max(least, start + config.read_step * (1 if best >= config.sure else 2))
    return sorted(judged, key=lambda c: -c.probability)


def _related(question: str, hits: list[Hit], config: AnswerConfig) -> bool:
    """The top passages are about the question: a close cosine (English questions given back e5's
    cross-lingual gap, and sharing a word of their Indonesian reading with the passages), or every name
    in the question is in them ("Siapa Kim Taewoo?" is short and scores low, but only an article naming
    Kim Taewoo can answer it)."""
    # The cross-lingual offset lets "How do I knit a scarf at home?" reach 0.80 as well; an English
    # question about the articles shares a word of its Indonesian reading with them.
    reading = indonesian_reading(question, config)
    if reading is not None and not _covered(key_terms(reading), hits[: config.candidates]):
        return False
    if top_cosine(question, hits, config) >= config.dense_min:
        return True
    names = entities(question)
    return bool(names) and _covered(names, hits[: config.checked_passages]) == 1.0


def _not_found(question: str, hits: list[Hit], lang: str, confidence: float, pool: list[Candidate]) -> Answer:
    """The plain "not found", naming the closest article when one is on the question's topic."""
    closest = hits[pool[0].hit].article.title if pool else ""
    return Answer(
        question=question,
        found=False,
        text=NOT_FOUND_IN[lang],
        hits=[],
        confidence=confidence,
        language=lang,
        closest=closest,
        sentences=tuple(pool[:1]),
    )


def _rule_answer(
    question: str,
    hits: list[Hit],
    embedder: Embedder,
    config: AnswerConfig,
    query_vector: np.ndarray | None,
    sentence_vectors: SentenceVectors | None,
    lang: str,
) -> Answer:
    found, confidence = is_answerable(question, hits, config)
    if not found:
        return Answer(question, False, NOT_FOUND_IN[lang], [], confidence, language=lang)
    sentences = best_sentences(question, hits, embedder, config, query_vector, sentence_vectors)
    return Answer(
        question=question,
        found=True,
        text=" ".join(sentences) if sentences else hits[0].passage.text,
        hits=hits,
        confidence=confidence,
        language=lang,
    )
