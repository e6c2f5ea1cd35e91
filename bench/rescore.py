"""Compare answer checkers, and mixes of them, without asking every question again per checker.

    python -m bench.rescore record                      # every pair the shipped checker reads (~25 min)
    python -m bench.rescore score NAME DIR              # DIR/checker.safetensors + .json on those pairs (~3 min)
    python -m bench.rescore compare NAME [NAME...]      # each alone, and every pair and triple averaged

Which sentences the checker reads depends on retrieval only, so one pass (threshold zero, every
candidate read) records each question's (reading, sentence) pairs: the seed questions and the valid
splits end to end, as `bench.trust tune` asks them. Any checker then scores those pairs directly, and
`compare` prints per question's best calibrated log-odds: the seed AUC per split and language, and IDK-MRC
valid refused where 90 % of the valid answerables are answered. Averaging log-odds is a logit ensemble;
the seed test columns are printed for the record and choose nothing. Files go to data/eval/rescore/.
"""

from __future__ import annotations

import argparse
import itertools
import json
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from bench import trust
from bench.train_checker import cut_for
from index.checker import Checker, load_checker, settings_checker
from index.convert import ensure_bundled_model
from index.embed import load_embedder
from index.engine import Engine
from index.evaluate import prepare, read_seed
from index.settings import get_settings

OUT = get_settings().data_dir / "eval" / "rescore"


class Recorder(Checker):
    """The shipped checker, noting every pair it reads."""

    def __init__(self, inner: Checker):
        self.inner, self.calibration, self.calls = inner, inner.calibration, []

    def logits(self, question, sentences):
        self.calls.append((question, list(sentences)))
        return self.inner.logits(question, sentences)


def record() -> None:
    settings = get_settings()
    recorder = Recorder(settings_checker(settings))
    embedder = load_embedder(settings.embedding_model, settings.model_cache_dir)
    OUT.mkdir(parents=True, exist_ok=True)
    with (OUT / "pairs.jsonl").open("w", encoding="utf-8") as out:

        def ask(engine: Engine, text: str, row: dict) -> None:
            start = len(recorder.calls)
            engine.ask(text, k=3)
            pairs = [(q, s) for q, sentences in recorder.calls[start:] for s in sentences]
            out.write(json.dumps({**row, "pairs": pairs}, ensure_ascii=False) + "\n")

        engine = Engine.open(settings, embedder, checker=recorder)
        with trust.thresholds_at_zero(engine):
            for r in read_seed():
                ask(engine, r["question"], {"set": "seed", **{k: r[k] for k in ("id", "split", "lang", "kind")}})
        bench = trust.test_bench(trust.VALID_SPLITS)
        prepared = prepare(bench, embedder, settings.data_dir / "eval-cache")
        recorder.calibration = replace(recorder.calibration, threshold=0.0, english_threshold=0.0)
        with tempfile.TemporaryDirectory() as tmp:
            engine = trust._engine(prepared.embedder, recorder, Path(tmp))
            engine.snapshot = prepared.snapshot
            with trust.reading_all(engine):
                for q in bench.questions:
                    ask(engine, q.text, {"set": "valid", "id": q.id, "answerable": q.answerable})


def rows() -> list[dict]:
    with (OUT / "pairs.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def score(name: str, directory: Path) -> None:
    checker = load_checker(
        ensure_bundled_model(get_settings().model_cache_dir),
        directory / "checker.safetensors",
        directory / "checker.json",
    )
    c = checker.calibration
    recorded = rows()
    by_reading: dict[str, dict[str, float]] = {}
    for r in recorded:
        for q, s in r["pairs"]:
            by_reading.setdefault(q, {})[s] = 0.0
    for q, sentences in by_reading.items():
        texts = list(sentences)
        for start in range(0, len(texts), 16):
            part = texts[start : start + 16]
            for s, logit in zip(part, checker.logits(q, part), strict=True):
                sentences[s] = float(c.scale * logit + c.bias)
    scores = [[by_reading[q][s] for q, s in r["pairs"]] for r in recorded]
    (OUT / f"scores-{name}.json").write_text(json.dumps(scores))
    print(f"{name}: {sum(map(len, by_reading.values()))} pairs scored")


def compare(names: list[str]) -> None:
    recorded = rows()
    scores = {n: json.loads((OUT / f"scores-{n}.json").read_text()) for n in names}

    def best(combo: tuple[str, ...]) -> np.ndarray:
        return np.array(
            [
                max(np.mean([scores[n][i] for n in combo], axis=0)) if r["pairs"] else -np.inf
                for i, r in enumerate(recorded)
            ]
        )

    for size in range(1, min(3, len(names)) + 1):
        for combo in itertools.combinations(names, size):
            s = best(combo)
            cells = []
            for split, lang in itertools.product(("dev", "test"), ("id", "en")):
                mine = [
                    i for i, r in enumerate(recorded) if r["set"] == "seed" and (r["split"], r["lang"]) == (split, lang)
                ]
                yes = [s[i] for i in mine if recorded[i]["kind"] == "answerable"]
                no = [s[i] for i in mine if recorded[i]["kind"] != "answerable"]
                cells.append(f"seed {split} {lang} AUC {trust.auc(yes, no):.3f}")
            valid = [i for i, r in enumerate(recorded) if r["set"] == "valid"]
            yes = np.array([s[i] for i in valid if recorded[i]["answerable"]])
            no = np.array([s[i] for i in valid if not recorded[i]["answerable"]])
            cut = cut_for(yes, trust.TUNED_ANSWERED)  # the rule `bench.trust tune` ships by
            cells.append(f"IDK-MRC valid refused at 90 % answered {(no < cut).mean():.1%}")
            print(f"{' + '.join(combo)}: " + ", ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("record")
    scoring = sub.add_parser("score")
    scoring.add_argument("name")
    scoring.add_argument("directory", type=Path)
    comparing = sub.add_parser("compare")
    comparing.add_argument("names", nargs="+")
    args = parser.parse_args()
    if args.what == "record":
        record()
    elif args.what == "score":
        score(args.name, args.directory)
    else:
        compare(args.names)


if __name__ == "__main__":
    main()
