"""Ranking primitives shared by mAP and precision: the stable ranked relevance and the
per-distance tie-group counts."""

from __future__ import annotations

import numpy as np

from dmh.retrieval import stable_argsort

from .checks import _row_chunks


def _sorted_relevance(
    dist: np.ndarray, ql: np.ndarray, gl: np.ndarray, depth: int
) -> np.ndarray:
    """(c, depth) bool: relevance of the ranked list under (distance, index) order."""
    order = stable_argsort(dist)[:, :depth]
    return gl[order] == ql[:, None]


def _group_counts(
    dist: np.ndarray, ql: np.ndarray, gl: np.ndarray, n_values: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per query and distance value v in [0, n_values): items n[i, v] and relevant r[i, v].

    One bincount over offsets ``i * n_values + d`` per chunk: O(Q * (G + n_values)).
    """
    n_q = dist.shape[0]
    counts = np.zeros((n_q, n_values), dtype=np.int64)
    rel_counts = np.zeros((n_q, n_values), dtype=np.int64)
    for sl in _row_chunks(n_q, dist.shape[1]):
        c = sl.stop - sl.start
        offs = dist[sl].astype(np.int64) + (np.arange(c, dtype=np.int64) * n_values)[:, None]
        rel = gl[None, :] == ql[sl, None]
        counts[sl] = np.bincount(offs.ravel(), minlength=c * n_values).reshape(c, n_values)
        rel_counts[sl] = np.bincount(offs[rel], minlength=c * n_values).reshape(c, n_values)
    return counts, rel_counts
