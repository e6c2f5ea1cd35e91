"""Train the answer checker (index/checker.py) on the benchmarks' train splits; report held-out figures.

    python -m bench.train_checker [--epochs 3] [--stop-after 2] [--limit N] [--skip N] [--init WEIGHTS]
                                  [--typed-negatives] [--swapped-negatives] [--pseudo-english S] [--why] [--roles]
                                  [--how] [--out index/weights/checker.safetensors]

Pairs: a question and one sentence of a passage, split by Kabar's own sentence splitter.
- FacQA train, TyDi train: the sentence holding the gold answer is a positive; the two other sentences
  of the gold passage sharing most words with the question are negatives, and so is the best-matching
  sentence of the top BM25 passage that is not gold and lacks the answer (a retrieval-shaped miss).
- The gold sentence with its answer erased ("Menteri Pertahanan Rusia Sergei Shoigu berkunjung…" →
  "Menteri Pertahanan Rusia berkunjung…") is a negative for its question: the same names and topic, but
  not the fact asked. It teaches the checker what near-topic unanswerable questions need: the answer
  itself, not a sentence about the same people.
- With --swapped-negatives, the question with the rarest word it shares with its answer sentence swapped
  for another question's word of the same shape ("Kapan Microsoft didirikan?" → "Kapan Microsoft
  dibubarkan?") is a negative against that sentence: the same names and kind of fact, another relation.
- With --why, why-questions written from the reason sentences of passages no valid or test question
  reads (bench/why_questions.py: "…ditunda karena hujan deras." → "Mengapa … ditunda?"), against the
  sentence (positive) and the sentence with its reason erased (negative): the train splits hold nearly four
  unanswerable why-questions for every answerable one. --how does the same with how-questions from
  manner sentences ("… dengan menggunakan perahu motor." → "Bagaimana …?"), with the same imbalance.
- With --roles, every answerable train question asking who holds a role ("Siapa pendiri Freedom
  Institute?") and the role sentences of unread passages ("…, pendiri Ordo Yesuit, …" → "Siapa pendiri
  Ordo Yesuit?") are positives beside a twin asking for a role the sentence gives nobody ("Siapa
  bendahara Ordo Yesuit?"), a negative (bench/role_questions.py): near-topic questions most often ask
  for a role at an organisation the articles name someone else at.
- IDK-MRC train: the four sentences of the passage the question was written against that share most
  words with the question are negatives.
A sentence is read as the bot reads it (index.answer.context_for): after the sentence before it when it
opens with a pronoun or sits under a question header.
A fifth of the questions have their question words put in English ("Siapa" → "Who"), so the checker
leans less on Indonesian function words and English questions transfer better. With --pseudo-english S,
a share S more is put into English word by word (bench/pseudo_english.py), so it also learns to match
English content words against Indonesian sentences.

Thresholds are chosen on FacQA valid + TyDi dev-valid (answerable) against IDK-MRC valid, a question
scoring its gold (or written-against) passage's best sentence. Figures printed at the end are on the
test splits only. Fixed seed; every epoch is checkpointed under data/checker-train/.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import re
import sys
import time
from pathlib import Path

import numpy as np

from bench import role_questions, why_questions
from bench.common import BENCHMARKS, ROOT
from bench.pseudo_english import translate
from index import checker, keyword
from index.answer import ASKS_HOW_MANY, ASKS_WHEN, context_for
from index.chunk import split_sentences

log = logging.getLogger("train_checker")
SEED = 13
TARGET_ANSWERED = 0.92  # answered share of valid answerable questions the threshold keeps (margin over 0.90)
ENGLISH_QUESTION_WORDS = [
    (r"\bsiapakah\b|\bsiapa\b", "who"),
    (r"\bkapankah\b|\bkapan\b", "when"),
    (r"\bdi manakah\b|\bdimanakah\b|\bdi mana\b|\bdimana\b", "where"),
    (r"\bberapakah\b|\bberapa\b", "how many"),
    (r"\bmengapa\b|\bkenapa\b", "why"),
    (r"\bbagaimanakah\b|\bbagaimana\b", "how"),
    (r"\bapakah\b|\bapa\b", "what"),
    (r"\byang\b", "that"),
    (r"\bdari\b", "of"),
    (r"\bdi\b", "in"),
    (r"\bpada\b", "on"),
    (r"\bdan\b", "and"),
    (r"\btahun\b", "year"),
]


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def english_words(question: str) -> str:
    for pattern, word in ENGLISH_QUESTION_WORDS:
        question = re.sub(pattern, word, question, flags=re.I)
    return question


def sentences_with_offsets(text: str) -> list[tuple[int, int, str]]:
    out, position = [], 0
    for sentence in split_sentences(text):
        start = text.find(sentence, position)
        start = position if start < 0 else start
        position = start + len(sentence)
        out.append((start, position, sentence))
    return out


LEADS_INTO = (
    r"(di|ke|dari|oleh|pada|dengan|sebesar|sekitar|sebanyak|selama|sejak|adalah|ialah|yaitu|yakni|"
    r"merupakan|sebagai|tahun|tanggal|bulan|sekitar|hingga|sampai|senilai|seharga)"
)


def erase(sentence: str, answers: list[str]) -> str | None:
    """The sentence without any of its answers, or None when too little is left to read as a sentence."""
    out = sentence
    for answer in sorted(answers, key=len, reverse=True):
        if answer.strip():  # with the word leading into it, so no "berlokasi di dan …" is left dangling
            out = re.sub(rf"(\b{LEADS_INTO}\s+)?{re.escape(answer.strip())}", " ", out, flags=re.I)
    out = re.sub(r"\s+([,.;:!?)])", r"\1", re.sub(r"\(\s*\)", " ", out))
    out = re.sub(r"([,;:])(\s*[,;:.])+", r"\1", out)
    out = re.sub(r"\s{2,}", " ", out).strip(" ,;:")
    if out == sentence.strip() or len(out.split()) < 5:
        return None
    return out


def overlap(question: str, sentence: str) -> int:
    return len(set(keyword.tokenize(question)) & set(keyword.tokenize(sentence)))


# What a question asks for, by its question word: "kapan" wants a time, "siapa" a person.
ASKS = [
    ("who", r"\b(siapa|siapakah|who|whom|whose)\b"),
    ("when", ASKS_WHEN.pattern),
    ("where", r"\b(di ?mana|di ?manakah|ke ?mana|dari mana|where)\b"),
    ("how many", ASKS_HOW_MANY.pattern),
    ("why", r"\b(mengapa|kenapa|why)\b"),
    ("how", r"\b(bagaimana|bagaimanakah|how)\b"),
    ("what", r"\b(apa|apakah|what|which)\b"),
]


def asks(question: str) -> str:
    for kind, pattern in ASKS:
        if re.search(pattern, question, re.I):
            return kind
    return "other"


def answer_sentences(data: Data, questions: list[dict]) -> dict[str, list[tuple[str, str]]]:
    """Gold sentences of answerable questions by what they answer: (passage id, sentence as read)."""
    out: dict[str, list[tuple[str, str]]] = {}
    for q in questions:
        if q["bench"] == "idk":
            continue
        pid, holding = data.gold(q)
        if holding:
            out.setdefault(asks(q["question"]), []).append((pid, data.read(pid)[min(holding)]))
    return out


def typed_negatives(q: dict, pid: str, by_kind: dict[str, list[tuple[str, str]]], rng: random.Random) -> list[str]:
    """Another question's answer sentence of the kind this question asks for, from another passage:
    one at random and one sharing most words with the question. "Kapan Rusia mulai menginvasi
    Ukraina?" must not be answered by any sentence holding a date."""
    pool = [s for other, s in by_kind.get(asks(q["question"]), []) if other != pid]
    answers = [a.lower() for a in q.get("answers", []) if a.strip()]
    pool = [s for s in rng.sample(pool, min(200, len(pool))) if not any(a in s.lower() for a in answers)]
    if not pool:
        return []
    out = [pool[0]]
    if q["bench"] != "idk":  # an unanswerable question's closest match elsewhere might answer it
        closest = max(pool[1:] or pool, key=lambda s: overlap(q["question"], s))
        if closest != pool[0]:
            out.append(closest)
    return out


def swap_vocabulary(data: Data, questions: list[dict]) -> tuple[dict[str, int], list[str]]:
    """Document frequency of every passage word, and the content words train questions use (the
    replacements swap_word draws from: real question words, not rare typos)."""
    df: dict[str, int] = {}
    for text in data.passages.values():
        for w in set(keyword.tokenize(text)):
            df[w] = df.get(w, 0) + 1
    words = {w for q in questions for w in re.findall(r"\b[a-z][a-z-]{3,}\b", q["question"])}
    return df, sorted(w for w in words if w not in SWAP_SKIP and 5 <= df.get(w, 0) <= len(data.passages) // 20)


# Words a swap must not touch: question and function words, and ones too common to carry the relation.
SWAP_SKIP = set(
    "siapa siapakah kapan kapankah mana manakah berapa berapakah mengapa kenapa bagaimana bagaimanakah apa apakah"
    " yang dari pada untuk dengan dalam oleh atau adalah ialah merupakan tersebut sebagai akan telah sudah"
    " bisa dapat juga saat ketika tahun nama disebut who when where what which why how many that with from".split()
)


def word_shape(word: str) -> tuple[str, str]:
    """A rough part of speech from Indonesian affixes, so a verb is swapped for a verb
    ("didirikan" → "dibubarkan") and a noun for a noun, not for whatever word comes."""
    prefix = next((p for p in ("me", "di", "ber", "ter", "pe", "ke", "se") if word.startswith(p)), "")
    suffix = next((x for x in ("kan", "an", "i", "nya") if word.endswith(x)), "")
    return prefix, suffix


def swap_word(
    question: str, sentence: str, df: dict[str, int], vocabulary: list[str], rng: random.Random
) -> str | None:
    """The question with the rarest word it shares with its answer sentence swapped for another
    question's word: "Kapan Microsoft didirikan?" → "Kapan Microsoft dibubarkan?". The same names, the
    same kind of fact, but not the one the sentence states: the near-topic question the seed articles
    get ("Siapa yang menggantikan Shoigu sebagai menteri pertahanan?" against "Shoigu adalah menteri
    pertahanan…"), which IDK-MRC's hand-written unanswerables hold too few of."""
    said = set(keyword.tokenize(sentence))
    shared = [w for w in re.findall(r"\b[a-z][a-z-]{3,}\b", question) if w in said and w not in SWAP_SKIP]
    if not shared or not vocabulary:
        return None
    word = min(shared, key=lambda w: df.get(w, 0))
    alike = [w for w in vocabulary if word_shape(w) == word_shape(word)] or vocabulary
    for _ in range(20):
        other = rng.choice(alike)
        if other not in said and other[:4] != word[:4]:
            return re.sub(rf"\b{re.escape(word)}\b", other, question, count=1)
    return None


class Data:
    """Benchmark passages and questions, split by split."""

    def __init__(self, root: Path = BENCHMARKS):
        self.passages: dict[str, str] = {}
        self.questions: list[dict] = []
        for name in ("facqa", "tydiqa_id"):
            self.passages.update({r["id"]: r["text"] for r in read_jsonl(root / name / "corpus.jsonl")})
            for row in read_jsonl(root / name / "queries.jsonl"):
                row["bench"] = name
                self.questions.append(row)
        for row in read_jsonl(root / "tydiqa_id" / "unanswerable_idk_mrc.jsonl"):
            row["bench"] = "idk"
            self.questions.append(row)
        self.sentences = {pid: sentences_with_offsets(t) for pid, t in self.passages.items()}

    def read(self, pid: str) -> list[str]:
        """A passage's sentences as the bot's checker reads them (index.answer.context_for)."""
        sentences = [s for _, _, s in self.sentences[pid]]
        return [context_for(sentences[i - 1] if i else "", s) for i, s in enumerate(sentences)]

    def split(self, bench: str, split: str) -> list[dict]:
        """Questions of one split that have a passage to read (10 IDK-MRC questions name none)."""
        rows = [q for q in self.questions if q["bench"] == bench and q["source_split"] == split]
        return [q for q in rows if q["positive_ids"] or q.get("written_against_passage_id")]

    def gold(self, q: dict) -> tuple[str, set[int]]:
        """(passage id, indexes of sentences holding an answer span); empty set for unanswerables."""
        if q["bench"] == "idk":
            return q["written_against_passage_id"], set()
        pid = q["positive_ids"][0]
        spans = q["answer_spans"].get(pid, [])
        holding = {i for i, (a, b, _) in enumerate(self.sentences[pid]) for s in spans if a <= s["start"] < b}
        return pid, holding


def every_train_question(data: Data) -> list[dict]:
    return [q for b in ("facqa", "tydiqa_id", "idk") for q in data.split(b, "train")]


def train_questions(
    data: Data, skip: int = 0, limit: int | None = None, rng: random.Random | None = None
) -> list[dict]:
    """The train questions a run reads, in its order: one seeded shuffle, so a run with --skip reads
    the ones another left out, and bench.mine_negatives mines the ones a run will read."""
    train = every_train_question(data)
    (rng or random.Random(SEED)).shuffle(train)
    return train[skip : skip + limit if limit else None]


def training_pairs(
    data: Data,
    limit: int | None,
    rng: random.Random,
    typed: bool = False,
    skip: int = 0,
    pseudo_english: float = 0.0,
    swapped: bool = False,
    mined: dict[str, list[str]] | None = None,
    why: bool = False,
    roles: bool = False,
    how: bool = False,
) -> list[tuple[str, str, float]]:
    import bm25s

    every = every_train_question(data)
    by_kind = answer_sentences(data, every) if typed else {}
    df, vocabulary = swap_vocabulary(data, every) if swapped else ({}, [])
    train = train_questions(data, skip, limit, rng)
    ids = list(data.passages)
    retriever = bm25s.BM25(k1=0.9, b=0.4)
    retriever.index([keyword.tokenize(data.passages[p]) for p in ids], show_progress=False)
    pairs: list[tuple[str, str, float]] = []
    for q in train:
        draw = rng.random()
        if draw < pseudo_english:
            question = translate(q["question"])
        elif draw < pseudo_english + 0.2:
            question = english_words(q["question"])
        else:
            question = q["question"]
        pid, holding = data.gold(q)
        sentences = data.sentences[pid]
        read = data.read(pid)
        answers = [a.lower() for a in q["answers"]]
        negatives: list[str] = []
        if q["bench"] != "idk":
            if not holding:
                continue
            pos = min(holding)
            pairs.append((question, read[pos], 1.0))
            erased = erase(sentences[pos][2], q["answers"])
            if erased:
                negatives.append(read[pos].replace(sentences[pos][2], erased))
            near = swap_word(question, sentences[pos][2], df, vocabulary, rng) if swapped else None
            if near:
                pairs.append((near, read[pos], 0.0))
        others = [read[i] for i, (_, _, s) in enumerate(sentences) if i not in holding]
        others = [s for s in others if not any(a in s.lower() for a in answers)]  # no unmarked answers
        others.sort(key=lambda s: -overlap(q["question"], s))
        negatives += others[: 4 if q["bench"] == "idk" else 2]
        if q["bench"] != "idk":
            scores = retriever.get_scores(keyword.tokenize(q["question"]))
            for row in np.argsort(-scores)[:5]:
                other = ids[int(row)]
                if other in q["positive_ids"] or any(a in data.passages[other].lower() for a in answers):
                    continue
                cands = [s for _, _, s in data.sentences[other]]
                negatives.append(max(cands, key=lambda s: overlap(q["question"], s)))
                break
        if typed:
            negatives += typed_negatives(q, pid, by_kind, rng)
        negatives += (mined or {}).get(q["id"], [])
        pairs.extend((question, s, 0.0) for s in negatives)
    if why:
        pairs += why_pairs(data, random.Random(SEED + 1))
    if roles:
        pairs += role_pairs(data, every, random.Random(SEED + 2))
    if how:
        pairs += how_pairs(data, random.Random(SEED + 3))
    return pairs


def unread_passages(data: Data) -> list[str]:
    """Passages no valid or test question reads: what questions written by a script may come from."""
    held = {p for q in data.questions if q["source_split"] != "train" for p in q["positive_ids"]}
    held |= {q.get("written_against_passage_id") for q in data.questions if q["source_split"] != "train"}
    return sorted(set(data.passages) - held)


def role_pairs(
    data: Data, questions: list[dict], rng: random.Random, english: float = 0.2
) -> list[tuple[str, str, float]]:
    """Who-holds-which-role questions (bench/role_questions.py), each beside its twin asking for a role
    the sentence gives nobody: every answerable train question asking for one ("Siapa pendiri
    Freedom Institute?") against its answer sentence, and the role sentences of passages no valid or
    test question reads."""
    found: list[tuple[str, str]] = []
    for q in questions:
        pid, holding = data.gold(q)
        if q["bench"] != "idk" and holding and role_questions.ASKED.match(q["question"].strip()):
            found.append((q["question"], data.read(pid)[min(holding)]))
    from_train = len(found)
    for pid in unread_passages(data):
        read = data.read(pid)
        for i, (_, _, s) in enumerate(data.sentences[pid]):
            found += [
                (role_questions.ask_who(role, where), read[i]) for role, where in role_questions.role_questions(s)[:1]
            ]
    pairs: list[tuple[str, str, float]] = []
    kept = {"train": 0, "passages": 0}
    for n, (question, sentence) in enumerate(found):
        swapped = role_questions.swap_asked_role(question, sentence, rng)
        if not swapped:
            continue
        kept["train" if n < from_train else "passages"] += 1
        if rng.random() < english:
            question, swapped = english_words(question), english_words(swapped)
        pairs += [(question, sentence, 1.0), (swapped, sentence, 0.0)]
    log.info("role questions, each with a swapped twin: %(train)d asked in train, %(passages)d from passages", kept)
    return pairs


def why_pairs(data: Data, rng: random.Random, english: float = 0.2) -> list[tuple[str, str, float]]:
    """Why-questions from the reason sentences of every passage no valid or test question reads
    (bench/why_questions.py): the sentence is a positive; the sentence with its reason erased, the two
    other sentences of its passage sharing most words with the question and another passage's reason
    sentence are negatives."""
    return explained_pairs(data, rng, why_questions.split_reason, why_questions.ask_why, "why", english)


def how_pairs(data: Data, rng: random.Random, english: float = 0.2) -> list[tuple[str, str, float]]:
    """How-questions from manner sentences, as why_pairs makes why-questions from reason sentences."""
    return explained_pairs(data, rng, why_questions.split_manner, why_questions.ask_how, "how", english)


def explained_pairs(data: Data, rng: random.Random, split, ask, kind: str, english: float):
    found = [
        (pid, i, parts)
        for pid in unread_passages(data)
        for i, (_, _, s) in enumerate(data.sentences[pid])
        if (parts := split(s))
    ]
    pairs: list[tuple[str, str, float]] = []
    for pid, i, (what, _) in found:
        question = ask(what, rng)
        question = english_words(question) if rng.random() < english else question
        read = data.read(pid)
        pairs.append((question, read[i], 1.0))
        negatives = [read[i].replace(data.sentences[pid][i][2], why_questions.erased(what))]
        others = sorted((s for j, s in enumerate(read) if j != i), key=lambda s: -overlap(question, s))
        negatives += others[:2]
        other_pid, j, _ = rng.choice(found)
        if other_pid != pid:
            negatives.append(data.read(other_pid)[j])
        pairs.extend((question, s, 0.0) for s in negatives)
    log.info("%d %s-questions from the sentences that answer them", len(found), kind)
    return pairs


def read_mined(path: Path) -> dict[str, list[str]]:
    return {row["id"]: row["negatives"] for row in read_jsonl(path)}


def score_questions(model, tokenizer, data: Data, questions: list[dict], batch: int = 64) -> list[dict]:
    """Each question's best sentence in its gold / written-against passage: logit and whether it holds the answer."""
    import torch

    flat: list[tuple[int, int, str, str]] = []
    for qi, q in enumerate(questions):
        pid, _ = data.gold(q)
        flat.extend((qi, si, q["question"], s) for si, s in enumerate(data.read(pid)))
    order = sorted(range(len(flat)), key=lambda i: len(flat[i][3]))
    logits = np.zeros(len(flat), dtype=np.float32)
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(order), batch):
            rows = order[start : start + batch]
            features = checker.encode_pairs(tokenizer, [flat[i][2] for i in rows], [flat[i][3] for i in rows])
            logits[rows] = model(**features).logits[:, 0].float().numpy()
    results = [{"best": -1e9, "right": False} for _ in questions]
    for (qi, si, _, _), logit in zip(flat, logits, strict=True):
        if logit > results[qi]["best"]:
            results[qi]["best"] = float(logit)
            results[qi]["right"] = si in data.gold(questions[qi])[1]
    for q, r in zip(questions, results, strict=True):
        r["bench"] = q["bench"]
    return results


def cut_for(scores, share: float) -> float:
    """The score threshold that keeps `share` of `scores` at or above it."""
    ordered = np.sort(np.asarray(scores, dtype=float))
    return float(ordered[int(math.floor((1 - share) * len(ordered)))])


def fit_calibration(answerable: list[dict], unanswerable: list[dict]) -> dict:
    """Platt scaling on valid question scores, and the threshold that keeps TARGET_ANSWERED answered."""
    from sklearn.linear_model import LogisticRegression

    x = np.array([r["best"] for r in answerable + unanswerable])[:, None]
    y = np.array([1] * len(answerable) + [0] * len(unanswerable))
    lr = LogisticRegression(C=100.0).fit(x, y)
    scale, bias = float(lr.coef_[0, 0]), float(lr.intercept_[0])
    if scale <= 0:  # an untrained checker: keep probability increasing with the logit
        scale, bias = 1.0, 0.0
    cut = cut_for([r["best"] for r in answerable], TARGET_ANSWERED)
    threshold = 1 / (1 + math.exp(-(scale * cut + bias)))
    return {"scale": scale, "bias": bias, "threshold": round(threshold, 4), "english_threshold": round(threshold, 4)}


def report(answerable: list[dict], unanswerable: list[dict], calibration: dict, label: str) -> dict:
    c = checker.Calibration(**calibration)
    answered = [c.probability(r["best"]) >= c.threshold for r in answerable]
    right = [a and r["right"] for a, r in zip(answered, answerable, strict=True)]
    refused = [c.probability(r["best"]) < c.threshold for r in unanswerable]
    out = {
        "set": label,
        "answered": float(np.mean(answered)),
        "answered_right_sentence": float(np.mean(right)),
        "right_sentence_first": float(np.mean([r["right"] for r in answerable])),
        "idk_refused": float(np.mean(refused)),
    }
    log.info("%s", json.dumps(out))
    return out


def curve(answerable: list[dict], unanswerable: list[dict]) -> list[tuple[float, float]]:
    """(answered share, refused share) as the threshold sweeps, for bench/results."""
    a = np.array([r["best"] for r in answerable])
    u = np.array([r["best"] for r in unanswerable])
    points = []
    for share in (0.80, 0.85, 0.88, 0.90, 0.92, 0.95, 0.97, 0.99):
        cut = cut_for(a, share)
        points.append((float((a >= cut).mean()), float((u < cut).mean())))
    return points


def held_out(model, tokenizer, data: Data, split: str) -> tuple[list[dict], list[dict]]:
    """Scores of the answerable (FacQA + TyDi) and unanswerable (IDK-MRC) questions of the valid or test splits."""
    tydi = "dev-valid" if split == "valid" else "dev-test"
    answerable = data.split("facqa", split) + data.split("tydiqa_id", tydi)
    return (
        score_questions(model, tokenizer, data, answerable),
        score_questions(model, tokenizer, data, data.split("idk", split)),
    )


def held_out_figures(va: list[dict], vu: list[dict], ta: list[dict], tu: list[dict], calibration: dict) -> dict:
    """What a trained checker reports: valid (where the threshold was chosen), test, its curve, each bench answered."""
    passes = checker.Calibration(**calibration)
    return {
        "valid": report(va, vu, calibration, "valid (thresholds chosen here)"),
        "test": report(ta, tu, calibration, "test (FacQA test + TyDi dev-test vs IDK-MRC test)"),
        "test_curve": curve(ta, tu),
        "per_bench_test_answered": {
            b: float(np.mean([passes.probability(r["best"]) >= passes.threshold for r in ta if r["bench"] == b]))
            for b in ("facqa", "tydiqa_id")
        },
    }


def save_delta(model, out: Path, meta: dict) -> None:
    from safetensors.torch import save_file

    delta = {k: v.detach().half().contiguous() for k, v in model.state_dict().items() if checker.trainable(k)}
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(delta, str(out))
    meta = {**meta, "sha256": checker.sha256(out), "layers": checker.LAYERS, "frozen": checker.FROZEN}
    out.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def passthrough():
    """Stands in for the embeddings of the upper model: its inputs are the cached lower layers' output."""
    import torch

    class Passthrough(torch.nn.Module):
        def forward(self, inputs_embeds=None, **_):
            return inputs_embeds

    return Passthrough()


def upper_model(model):
    """The upper (trained) layers and head of `model` as a model of their own, sharing its parameters."""
    import copy

    from transformers import XLMRobertaForSequenceClassification

    config = copy.deepcopy(model.config)
    config.num_hidden_layers = checker.LAYERS - checker.FROZEN
    upper = XLMRobertaForSequenceClassification(config)
    upper.roberta.embeddings = passthrough()
    upper.roberta.encoder.layer = model.roberta.encoder.layer[checker.FROZEN :]
    upper.classifier = model.classifier
    return upper


def cache_lower_layers(model, tokenizer, pairs: list[tuple[str, str, float]], batch: int = 64) -> list:
    """Each pair's hidden states after the frozen layers (float16, unpadded): computed once, read every epoch."""
    import torch

    lower = model.roberta
    lower.eval()  # frozen layers read without dropout, as at inference (a fresh model is in train mode)
    layers = lower.encoder.layer
    out: list = [None] * len(pairs)
    order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
    with torch.inference_mode():
        for start in range(0, len(order), batch):
            rows = order[start : start + batch]
            features = checker.encode_pairs(tokenizer, [pairs[i][0] for i in rows], [pairs[i][1] for i in rows])
            hidden = lower.embeddings(input_ids=features["input_ids"])
            mask = features["attention_mask"]
            additive = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
            for layer in layers[: checker.FROZEN]:
                hidden = layer(hidden, attention_mask=additive)
                hidden = hidden[0] if isinstance(hidden, tuple) else hidden
            for j, i in enumerate(rows):
                out[i] = hidden[j, : int(mask[j].sum())].half().clone()
    return out


def check_split(model, upper, tokenizer, pairs, lower) -> None:
    """The cached lower layers + the upper model must give the whole model's logits (fp16 cache aside)."""
    import torch

    model.eval()
    with torch.inference_mode():
        features = checker.encode_pairs(tokenizer, [p[0] for p in pairs], [p[1] for p in pairs])
        whole = model(**features).logits[:, 0]
        hidden, mask = pad_hidden(lower)
        split = upper(inputs_embeds=hidden, attention_mask=mask).logits[:, 0]
    gap = float((whole - split).abs().max())
    log.info("whole vs split forward: max |logit gap| %.5f", gap)
    assert gap < 0.05, gap


def pad_hidden(items: list):
    import torch

    length = max(len(x) for x in items)
    hidden = torch.zeros(len(items), length, items[0].shape[-1])
    mask = torch.zeros(len(items), length, dtype=torch.long)
    for j, x in enumerate(items):
        hidden[j, : len(x)] = x.float()
        mask[j, : len(x)] = 1
    return hidden, mask


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument(
        "--stop-after", type=int, default=None, help="end after this many epochs (the schedule still spans --epochs)"
    )
    parser.add_argument("--limit", type=int, default=None, help="train questions (default: all)")
    parser.add_argument(
        "--skip", type=int, default=0, help="leave out the first N shuffled train questions (a continuation's new ones)"
    )
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--out", type=Path, default=checker.WEIGHTS)
    parser.add_argument("--init", type=Path, default=None, help="start from these checker weights (a shipped delta)")
    parser.add_argument(
        "--typed-negatives",
        action="store_true",
        help="add another question's answer sentence of the asked-for kind as a negative (typed_negatives)",
    )
    parser.add_argument(
        "--swapped-negatives",
        action="store_true",
        help="add the question with a word it shares with its answer sentence swapped, against it (swap_word)",
    )
    parser.add_argument(
        "--pseudo-english",
        type=float,
        default=0.0,
        help="share of questions put into English word by word (needs Debian's dict-freedict-eng-ind)",
    )
    parser.add_argument(
        "--mined",
        type=Path,
        default=None,
        help="negatives the checker itself scored high end to end (python -m bench.mine_negatives)",
    )
    parser.add_argument(
        "--why",
        action="store_true",
        help="add why-questions written from the train passages' reason sentences (bench/why_questions.py)",
    )
    parser.add_argument(
        "--roles",
        action="store_true",
        help="add who-holds-which-role questions, each with a twin asking for another role (bench/role_questions.py)",
    )
    parser.add_argument(
        "--how",
        action="store_true",
        help="add how-questions written from the train passages' manner sentences (bench/why_questions.py)",
    )
    parser.add_argument("--work", type=Path, default=ROOT / "data" / "checker-train")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    import torch
    from transformers import AutoTokenizer, get_linear_schedule_with_warmup

    from index.convert import ensure_bundled_model

    t0 = time.time()
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    rng = random.Random(SEED)
    encoder_dir = ensure_bundled_model(ROOT / "data" / "models")
    tokenizer = AutoTokenizer.from_pretrained(str(encoder_dir))
    model = checker.build_model(encoder_dir)
    if args.init:
        checker.apply_delta(model, args.init)
        log.info("started from %s", args.init)
    for name, p in model.named_parameters():
        p.requires_grad = checker.trainable(name)
    upper = upper_model(model)

    data = Data()
    pairs = training_pairs(
        data,
        args.limit,
        rng,
        typed=args.typed_negatives,
        skip=args.skip,
        pseudo_english=args.pseudo_english,
        swapped=args.swapped_negatives,
        mined=read_mined(args.mined) if args.mined else None,
        why=args.why,
        roles=args.roles,
        how=args.how,
    )
    positives = int(sum(p[2] for p in pairs))
    log.info("%d training pairs (%d positive)", len(pairs), positives)
    lower = cache_lower_layers(model, tokenizer, pairs)
    log.info("lower %d layers cached (%.0f s)", checker.FROZEN, time.time() - t0)
    check_split(model, upper, tokenizer, pairs[:8], lower[:8])

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    steps = args.epochs * math.ceil(len(pairs) / args.batch)
    schedule = get_linear_schedule_with_warmup(optimizer, int(0.06 * steps), steps)
    args.work.mkdir(parents=True, exist_ok=True)
    started = time.time()
    order = list(range(len(pairs)))
    for epoch in range(args.epochs):
        model.train()
        rng.shuffle(order)
        # Batches of similar length pad little: sort within chunks of 50 batches, then shuffle the batches.
        chunk = args.batch * 50
        batches = []
        for start in range(0, len(order), chunk):
            block = sorted(order[start : start + chunk], key=lambda i: len(lower[i]))
            batches += [block[i : i + args.batch] for i in range(0, len(block), args.batch)]
        rng.shuffle(batches)
        total = 0.0
        for step, batch in enumerate(batches, 1):
            hidden, mask = pad_hidden([lower[i] for i in batch])
            labels = torch.tensor([pairs[i][2] for i in batch])
            logits = upper(inputs_embeds=hidden, attention_mask=mask).logits[:, 0]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            total += float(loss.detach())
            if step % 100 == 0:
                log.info(
                    "epoch %d step %d/%d loss %.4f (%.0f s)",
                    epoch + 1,
                    step,
                    len(batches),
                    total / 100,
                    time.time() - started,
                )
                total = 0.0
        va, vu = held_out(model, tokenizer, data, "valid")
        calibration = fit_calibration(va, vu)
        figures = report(va, vu, calibration, f"valid after epoch {epoch + 1}")
        save_delta(model, args.work / f"epoch{epoch + 1}.safetensors", {"calibration": calibration, "valid": figures})
        if args.stop_after and epoch + 1 >= args.stop_after:
            break

    ta, tu = held_out(model, tokenizer, data, "test")
    figures = held_out_figures(va, vu, ta, tu, calibration)
    (args.work / "scores.json").write_text(json.dumps({"test_a": ta, "test_u": tu, "valid_a": va, "valid_u": vu}))
    meta = {
        "calibration": calibration,
        "trained": {
            "pairs": len(pairs),
            "epochs": args.stop_after or args.epochs,
            "schedule_epochs": args.epochs,
            "lr": args.lr,
            "batch": args.batch,
            "seed": SEED,
            "positives": positives,
            "typed_negatives": args.typed_negatives,
            "swapped_negatives": args.swapped_negatives,
            "mined": str(args.mined) if args.mined else None,
            "questions": args.limit,
            "skipped": args.skip,
            "pseudo_english": args.pseudo_english,
            "why": args.why,
            "roles": args.roles,
            "how": args.how,
            "minutes": round((time.time() - started) / 60, 1),
            "command": "python -m bench.train_checker " + " ".join(sys.argv[1:]),
            # the run this one started from, as its own metadata recorded it
            "after": checker.read_meta(args.init.with_suffix(".json")).get("trained") if args.init else None,
        },
        "figures": figures,
    }
    save_delta(model, args.out, meta)
    log.info("saved %s (%.1f MB)", args.out, args.out.stat().st_size / 1e6)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
