"""Retrieval examples: a trained run's codes (read from its checkpoint), top-k lists and
distance spreads."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.config import TrainConfig
from ..experiments.profiles import get_profile
from ..retrieval import hamming_distances, hamming_topk
from ..run.checkpoint import load_trained
from ..run.encode import encode
from ..run.fit import protocol_parts
from ..run.store import MissingRecord, checkpoint_path
from .reading import grid_command


def trained_codes(cfg: TrainConfig, profile, grid: str) -> dict:
    """Codes of the test queries and gallery of a trained run (its checkpoint: `dmh grid`)."""
    if not checkpoint_path(cfg).is_file():
        raise MissingRecord(f"no weights for {cfg.name()}: run `{grid_command(grid, get_profile(profile))}`")
    model, norm, cfg = load_trained(str(checkpoint_path(cfg)))
    _, query, gallery, _ = protocol_parts(cfg)
    return {"query": query, "gallery": gallery,
            "qcodes": encode(model, query.images, norm).codes,
            "gcodes": encode(model, gallery.images, norm).codes}


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
