"""Top-k lists a person reads: Hamming ranking with a stated order inside ties.

A Hamming distance takes few values, so many gallery items tie; ordering them by gallery
(file) order would favour whatever sorts first (alphabetical names). Ties are ordered by a
seeded random permutation of the gallery (as the evaluation's galleries are), or by the
float distance of the real-valued features when both are given.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .retrieval import hamming_distances


@dataclass(frozen=True)
class TopK:
    """Args:
        distance, index: (k,) Hamming distances and gallery indices, best first.
        ties: how ties were ordered, in words.
        tied_at_cutoff: gallery items at the k-th distance; `shown_at_cutoff` of them are listed.
    """

    distance: np.ndarray
    index: np.ndarray
    ties: str
    tied_at_cutoff: int
    shown_at_cutoff: int


def top_k(qcode: np.ndarray, gcodes: np.ndarray, k: int, *, seed: int = 0,
          qfeature: np.ndarray | None = None, gfeatures: np.ndarray | None = None) -> TopK:
    """The k nearest gallery codes to one packed query code (1, B)."""
    d = hamming_distances(qcode.reshape(1, -1), gcodes)[0]
    k = min(int(k), len(d))
    if qfeature is not None and gfeatures is not None:
        second = ((gfeatures.astype(np.float64) - qfeature.reshape(1, -1)) ** 2).sum(axis=1)
        ties = "by the float distance of the features"
    else:
        second = np.random.default_rng(seed).permutation(len(d))
        ties = f"by a seeded random permutation of the gallery (seed {seed})"
    order = np.lexsort((second, d))[:k]
    cutoff = d[order[-1]]
    return TopK(d[order], order, ties, int((d == cutoff).sum()), int((d[order] == cutoff).sum()))
