"""Average trained checkers' weights (a model soup); calibrate and report it like a training run.

    python -m bench.soup_checker WEIGHTS [WEIGHTS ...] [--mix 0.5 0.5] --out data/checker-soup/checker.safetensors

Checkers fine-tuned from one start and averaged often generalise better than any one of them, at no cost
at question time: the soup is one checker of the same size. Each WEIGHTS is a shipped delta
(`index/weights/checker.safetensors` or a training run's output, its `.json` beside it). The soup's
calibration and threshold are fit on the valid splits' gold passages, as `bench.train_checker` does, and its
figures on the test splits are printed at the end.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from bench.common import ROOT
from bench.train_checker import Data, fit_calibration, held_out, held_out_figures, save_delta
from index import checker

log = logging.getLogger("soup_checker")


def mix(paths: list[Path], weights: list[float]) -> dict:
    """The weighted average of the deltas, tensor by tensor, in float32."""
    from safetensors.torch import load_file

    deltas = [load_file(str(p)) for p in paths]
    if any(set(d) != set(deltas[0]) for d in deltas):
        raise SystemExit("these checkers do not hold the same tensors")
    total = sum(weights)
    return {k: sum(w / total * d[k].float() for w, d in zip(weights, deltas, strict=True)) for k in deltas[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights", type=Path, nargs="+")
    parser.add_argument("--mix", type=float, nargs="+", default=None, help="one weight per checker (default: equal)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    shares = args.mix or [1.0] * len(args.weights)
    if len(shares) != len(args.weights):
        raise SystemExit("--mix needs one weight per checker")

    import torch
    from transformers import AutoTokenizer

    from index.convert import ensure_bundled_model

    torch.set_num_threads(2)
    encoder_dir = ensure_bundled_model(ROOT / "data" / "models")
    tokenizer = AutoTokenizer.from_pretrained(str(encoder_dir))
    model = checker.build_model(encoder_dir)
    model.load_state_dict(mix(args.weights, shares), strict=False)

    data = Data()
    va, vu = held_out(model, tokenizer, data, "valid")
    calibration = fit_calibration(va, vu)
    ta, tu = held_out(model, tokenizer, data, "test")
    figures = held_out_figures(va, vu, ta, tu, calibration)
    soup = {
        "checkers": [str(p) for p in args.weights],
        "mix": shares,
        "made_from": [checker.read_meta(p.with_suffix(".json")).get("trained") for p in args.weights],
        "command": "python -m bench.soup_checker " + " ".join(sys.argv[1:]),
    }
    save_delta(model, args.out, {"calibration": calibration, "soup": soup, "figures": figures})
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
