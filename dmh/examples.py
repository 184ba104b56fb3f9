"""Retrieval examples for the book: a trained run's codes, top-k lists and distance spreads."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .codes import encode_signs
from .core.config import TrainConfig
from .retrieval import hamming_distances, hamming_topk
from .train import encode, load_trained, runs_dir, train, train_eval_parts


def ensure_checkpoint(cfg: TrainConfig, results_dir: Path | None = None) -> Path:
    """The run's checkpoint. Checkpoints are not committed: a fresh clone retrains the run's
    weights (same seed and thread count give the same weights), leaving its record alone."""
    ckpt = runs_dir() / cfg.name() / "checkpoint.pt"
    if not ckpt.exists():
        train(cfg, force=True, write_result=False, progress=False, results_dir=results_dir)
    return ckpt


def trained_codes(cfg: TrainConfig, results_dir: Path | None = None) -> dict:
    """Codes of the test queries and gallery of a trained run."""
    model, norm, cfg = load_trained(str(ensure_checkpoint(cfg, results_dir)))
    _, query, gallery, _ = train_eval_parts(cfg)
    return {"query": query, "gallery": gallery,
            "qcodes": encode_signs(encode(model, query.images, norm)),
            "gcodes": encode_signs(encode(model, gallery.images, norm))}


def top_k_examples(c: dict, n_queries: int = 6, k: int = 10, seed: int = 0) -> dict:
    """Top-k gallery items of `n_queries` seeded random queries (one per identity)."""
    rng = np.random.default_rng(seed)
    ql = c["query"].labels
    ids = rng.choice(np.unique(ql), size=min(n_queries, len(np.unique(ql))), replace=False)
    qidx = np.array([rng.choice(np.flatnonzero(ql == i)) for i in ids])
    d, idx = hamming_topk(c["qcodes"][qidx], c["gcodes"], k)
    correct = c["gallery"].labels[idx] == ql[qidx][:, None]
    return {"query_index": qidx, "gallery_index": idx, "distance": d, "correct": correct}


def distance_spread(c: dict) -> pd.DataFrame:
    """Share of query-gallery pairs at each Hamming distance, same vs different person."""
    dist = hamming_distances(c["qcodes"], c["gcodes"])
    same = c["query"].labels[:, None] == c["gallery"].labels[None, :]
    rows = []
    for name, mask in (("same person", same), ("different people", ~same)):
        counts = np.bincount(dist[mask], minlength=dist.max() + 1)
        rows += [{"pair": name, "distance": d, "share": n / mask.sum()} for d, n in enumerate(counts)]
    return pd.DataFrame(rows)
