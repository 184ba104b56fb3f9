"""Where the binary codes lose to the float outputs they are the signs of: a diagnostic on
trained runs (no training).

    .venv/bin/python scripts/code_float_gap.py dmh-lfw-48b-s0-val-6567268fa0 [RUN ...]

For each run, on its own split (validation runs: validation queries), prints mAP@all of
the codes sign(h), of the float outputs h (Euclidean), of h compared by cosine, and of
two thresholds other than zero learned from the gallery alone (the gallery is the
training set in both protocols): sign(h - mean) and sign(h - median) per bit, ITQ's and
SH's choice. Then what the codes are like: the share of saturated units (|h| > 0.9), the
mean |h|, the bits' imbalance (mean over bits of |share of +1 - 0.5|) and the largest
absolute correlation between two bits. Writes nothing."""
from __future__ import annotations

import argparse

import numpy as np
import torch

from dmh.codes import encode_signs
from dmh.metrics import mean_average_precision_float
from dmh.run.checkpoint import load_trained
from dmh.run.encode import encode
from dmh.run.evaluate import score_codes
from dmh.run.fit import protocol_parts


def code_map(q: np.ndarray, g: np.ndarray, ql: np.ndarray, gl: np.ndarray) -> float:
    k = q.shape[1]
    return score_codes(encode_signs(q), encode_signs(g), ql, gl, k)["map_all"]


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def report(run: str) -> dict:
    model, norm, cfg = load_trained(run)
    _, query, gallery, _ = protocol_parts(cfg)
    q = encode(model, query.images, norm).features
    g = encode(model, gallery.images, norm).features
    ql, gl = query.labels, gallery.labels
    mean, median = g.mean(axis=0), np.median(g, axis=0)
    corr = np.corrcoef(np.sign(g), rowvar=False)
    np.fill_diagonal(corr, 0)
    return {
        "codes": code_map(q, g, ql, gl),
        "float": mean_average_precision_float(q, g, ql, gl),
        "cosine": mean_average_precision_float(unit(q), unit(g), ql, gl),
        "sign(h-mean)": code_map(q - mean, g - mean, ql, gl),
        "sign(h-median)": code_map(q - median, g - median, ql, gl),
        "saturated": float((np.abs(g) > 0.9).mean()),
        "mean|h|": float(np.abs(g).mean()),
        "imbalance": float(np.abs((g > 0).mean(axis=0) - 0.5).mean()),
        "max|corr|": float(np.nanmax(np.abs(corr))),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+")
    a = ap.parse_args()
    torch.set_num_threads(1)
    for run in a.runs:
        r = report(run)
        print(run, " ".join(f"{k} {v:.4f}" for k, v in r.items()), flush=True)


if __name__ == "__main__":
    main()
