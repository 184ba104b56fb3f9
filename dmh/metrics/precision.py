"""Precision@k, precision and recall within a Hamming radius, and the radius PR curve."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .checks import Ties, _check_inputs, _check_k, _check_ties, _row_chunks
from .ranking import _group_counts, _sorted_relevance


def precision_at_k(
    dist: Any,
    query_labels: Any,
    gallery_labels: Any,
    ks: Sequence[int],
    ties: Ties = "stable",
) -> np.ndarray:
    """Mean over queries of P@k = (#relevant in top k) / k, for each k in ks.

    ties='stable' ranks by (distance, gallery index). ties='expected' averages
    over random order within tie groups: groups fully inside the top k count
    their r relevant items, and the group straddling the cutoff (N items
    ahead, n items, r relevant) contributes (r/n) * (k - N).
    Returns a float64 array aligned with ks.
    """
    _check_ties(ties)
    d, ql, gl = _check_inputs(dist, query_labels, gallery_labels, integer=ties == "expected")
    ks_arr = [_check_k(k, d.shape[1], "each k") for k in np.atleast_1d(np.asarray(ks))]
    if not ks_arr:
        raise ValueError("ks must contain at least one k")
    out = np.zeros(len(ks_arr), dtype=np.float64)
    if ties == "stable":
        depth = max(ks_arr)
        idx = np.asarray(ks_arr) - 1
        for sl in _row_chunks(d.shape[0], d.shape[1]):
            hits = np.cumsum(_sorted_relevance(d[sl], ql[sl], gl, depth), axis=1)
            out += (hits[:, idx] / np.asarray(ks_arr, dtype=np.float64)).sum(axis=0)
        return out / d.shape[0]
    n, r = _group_counts(d, ql, gl, int(d.max()) + 1)
    upto = np.cumsum(n, axis=1)
    before = upto - n
    frac = np.divide(r, n, out=np.zeros(n.shape), where=n > 0)
    for t, k in enumerate(ks_arr):
        full = upto <= k
        straddle = (before < k) & (upto > k)
        rel_in = (r * full).sum(axis=1) + (frac * (k - before) * straddle).sum(axis=1)
        out[t] = np.mean(rel_in / k)
    return out


def precision_recall_within_radius(
    dist: Any, query_labels: Any, gallery_labels: Any, radius: float = 2
) -> tuple[float, float]:
    """Hamming-ball precision and recall, averaged over queries.

    For query i with ball B_i = {j : dist[i, j] <= radius}:
        precision_i = |B_i ∩ Rel_i| / |B_i|   (0 when B_i is empty),
        recall_i    = |B_i ∩ Rel_i| / |Rel_i| (0 when the query has no relevant item).
    Returns (mean precision, mean recall).
    """
    d, ql, gl = _check_inputs(dist, query_labels, gallery_labels)
    if radius < 0:
        raise ValueError(f"radius must be non-negative, got {radius!r}")
    rel = ql[:, None] == gl[None, :]
    inside = d <= radius
    n_in = inside.sum(axis=1)
    hit = (inside & rel).sum(axis=1)
    n_rel = rel.sum(axis=1)
    prec = np.divide(hit, n_in, out=np.zeros(len(ql)), where=n_in > 0)
    rec = np.divide(hit, n_rel, out=np.zeros(len(ql)), where=n_rel > 0)
    return float(prec.mean()), float(rec.mean())


def pr_curve(
    dist: Any, query_labels: Any, gallery_labels: Any, n_bits: int
) -> dict[str, np.ndarray]:
    """Precision and recall within Hamming radius r for every r = 0..n_bits.

    Same per-query convention as :func:`precision_recall_within_radius`
    (empty ball -> precision 0; no relevant item -> recall 0), averaged over
    queries. Returns dict(radius=int array, precision=float array, recall=float array).
    """
    d, ql, gl = _check_inputs(dist, query_labels, gallery_labels, integer=True)
    n_bits = int(n_bits)
    if n_bits < 1:
        raise ValueError(f"n_bits must be >= 1, got {n_bits}")
    if d.max() > n_bits:
        raise ValueError(f"dist has values above n_bits={n_bits} (max {d.max()})")
    n, r = _group_counts(d, ql, gl, n_bits + 1)
    n_in = np.cumsum(n, axis=1)  # ball sizes for each radius
    hit = np.cumsum(r, axis=1)
    n_rel = hit[:, -1:]
    prec = np.divide(hit, n_in, out=np.zeros(n_in.shape), where=n_in > 0)
    rec = np.divide(hit, n_rel, out=np.zeros(n_in.shape), where=n_rel > 0)
    return {
        "radius": np.arange(n_bits + 1),
        "precision": prec.mean(axis=0),
        "recall": rec.mean(axis=0),
    }
