"""Mean average precision: stable ranking, and the exact expectation over tie orders."""

from __future__ import annotations

from typing import Any

import numpy as np

from .checks import Ties, _check_inputs, _check_k, _check_ties, _row_chunks
from .ranking import _group_counts, _sorted_relevance


def _stable_ap(dist: np.ndarray, ql: np.ndarray, gl: np.ndarray, k: int | None) -> np.ndarray:
    """Per-query AP of the stable ranking truncated at k (None = whole gallery).

    AP = (1/R) * sum_{p : rel_p} P@p, with R = relevant items in the list.
    """
    depth = dist.shape[1] if k is None else k
    ap = np.zeros(dist.shape[0], dtype=np.float64)
    pos = np.arange(1, depth + 1, dtype=np.float64)
    for sl in _row_chunks(dist.shape[0], dist.shape[1]):
        rel = _sorted_relevance(dist[sl], ql[sl], gl, depth)
        hits = np.cumsum(rel, axis=1, dtype=np.int64)
        prec_sum = np.sum(np.where(rel, hits / pos, 0.0), axis=1)
        n_rel = hits[:, -1]
        ap[sl] = np.divide(prec_sum, n_rel, out=np.zeros_like(prec_sum), where=n_rel > 0)
    return ap


def _harmonic(m_max: int) -> np.ndarray:
    """H[m] = sum_{i=1..m} 1/i for m = 0..m_max (H[0] = 0)."""
    h = np.zeros(m_max + 1, dtype=np.float64)
    h[1:] = np.cumsum(1.0 / np.arange(1, m_max + 1, dtype=np.float64))
    return h


def _expected_ap(dist: np.ndarray, ql: np.ndarray, gl: np.ndarray) -> np.ndarray:
    """Per-query expected AP under uniformly random order within tie groups."""
    n, r = _group_counts(dist, ql, gl, int(dist.max()) + 1)
    before = np.cumsum(n, axis=1) - n  # N: items ranked ahead of the group
    rel_before = np.cumsum(r, axis=1) - r  # R_b: relevant items ahead of the group
    harm = _harmonic(dist.shape[1])
    s1 = harm[before + n] - harm[before]  # sum_j 1/(N+j)
    s2 = n - (before + 1) * s1  # sum_j (j-1)/(N+j)
    nz = n > 0
    frac = np.divide(r, n, out=np.zeros(n.shape), where=nz)  # r/n
    # (r-1)/(n-1): chance another item of the group ahead of a relevant one is relevant
    inner = np.divide(r - 1, n - 1, out=np.zeros(n.shape), where=n > 1)
    contrib = frac * ((rel_before + 1) * s1 + inner * s2)
    n_rel = r.sum(axis=1)
    total = contrib.sum(axis=1)
    return np.divide(total, n_rel, out=np.zeros_like(total), where=n_rel > 0)


def mean_average_precision(
    dist: Any,
    query_labels: Any,
    gallery_labels: Any,
    k: int | None = None,
    ties: Ties = "stable",
) -> float:
    """Mean over queries of average precision.

    ties='stable': rank by (distance, gallery index) and
        AP = (1/R) * sum_{p <= L, rel_p} P@p,   P@p = (#relevant in top p) / p,
    with L = G for k=None and L = k otherwise. R is the number of relevant
    items in the ranked list: all relevant gallery items for k=None, those in
    the top k for mAP@k (the HashNet / DPSH convention). A query with R = 0
    scores 0.

    ties='expected' (k=None only): exact expected AP when each group of items
    at equal distance is in uniformly random order (McSherry & Najork 2008).
    A group of n items, r relevant, preceded by N items of which R_b are
    relevant, contributes

        sum_{j=1..n} (r/n) * (R_b + 1 + (j-1)(r-1)/(n-1)) / (N + j)

    (the (j-1)(r-1)/(n-1) term is 0 when n = 1), evaluated in closed form with
    harmonic numbers H(m) = sum_{i<=m} 1/i:

        sum_{j=1..n} 1/(N+j)     = H(N+n) - H(N)
        sum_{j=1..n} (j-1)/(N+j) = n - (N+1) * (H(N+n) - H(N)).

    It needs integer distances and runs in O(Q * (G + max distance)).
    """
    _check_ties(ties)
    d, ql, gl = _check_inputs(dist, query_labels, gallery_labels, integer=ties == "expected")
    if ties == "expected":
        if k is not None:
            raise ValueError("ties='expected' supports only k=None (mAP over the whole gallery)")
        return float(_expected_ap(d, ql, gl).mean())
    if k is not None:
        k = _check_k(k, d.shape[1])
    return float(_stable_ap(d, ql, gl, k).mean())
