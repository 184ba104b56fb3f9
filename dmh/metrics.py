"""Retrieval metrics for hash codes (relevance = same integer label).

Every metric takes a distance matrix ``dist`` of shape ``(Q, G)`` (query i vs
gallery item j), integer ``query_labels`` ``(Q,)`` and ``gallery_labels``
``(G,)``; gallery item j is relevant to query i iff their labels are equal.

Tie handling
------------
Hamming distances are small integers, so many gallery items share a distance
and the score depends on how ties are ordered:

* ``ties='stable'``: rank by ``(distance, gallery index)``, i.e. a stable sort.
  Deterministic, but it rewards whatever order the gallery happens to be in.
* ``ties='expected'``: the exact expectation when items at equal distance are
  in uniformly random order (McSherry & Najork, ECIR 2008). This is the
  headline number because it does not depend on gallery order.

Queries without any relevant item score 0 (they are kept in the average).
"""

from __future__ import annotations

from typing import Any, Iterable, Literal, Sequence

import numpy as np

from dmh.codes import _as_numpy, n_bytes_for
from dmh.retrieval import hamming_distances, stable_argsort

__all__ = [
    "mean_average_precision",
    "precision_at_k",
    "precision_recall_within_radius",
    "pr_curve",
    "evaluate_codes",
    "mean_average_precision_float",
]

Ties = Literal["stable", "expected"]

# Bound on the entries of one (chunk, G) working block; ~30 bytes each in the
# stable path (sort indices, relevance, cumulative counts, float temporaries).
_CHUNK_ENTRIES = 2**21


# --------------------------------------------------------------------------- checks


def _check_labels(ql: np.ndarray, gl: np.ndarray, n_query: int, n_gallery: int) -> None:
    if ql.ndim != 1 or gl.ndim != 1:
        raise ValueError(
            f"labels must be 1-D, got query_labels {ql.shape} and gallery_labels {gl.shape}"
        )
    if ql.shape[0] != n_query or gl.shape[0] != n_gallery:
        raise ValueError(
            f"expected {n_query} query labels and {n_gallery} gallery labels, "
            f"got {ql.shape[0]} and {gl.shape[0]}"
        )
    for name, lab in (("query_labels", ql), ("gallery_labels", gl)):
        if not np.issubdtype(lab.dtype, np.integer):
            raise ValueError(f"{name} must have an integer dtype, got {lab.dtype}")


def _check_inputs(
    dist: Any, query_labels: Any, gallery_labels: Any, integer: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = _as_numpy(dist)
    ql = _as_numpy(query_labels)
    gl = _as_numpy(gallery_labels)
    if d.ndim != 2:
        raise ValueError(f"dist must be 2-D (Q, G), got shape {d.shape}")
    if d.shape[0] == 0 or d.shape[1] == 0:
        raise ValueError(f"dist must have at least one query and one gallery item, got {d.shape}")
    _check_labels(ql, gl, d.shape[0], d.shape[1])
    if integer:
        if not np.issubdtype(d.dtype, np.integer):
            raise ValueError(
                f"dist must hold integer (Hamming) distances here, got dtype {d.dtype}"
            )
        if d.min() < 0:
            raise ValueError("dist must be non-negative")
    else:
        if d.dtype == np.bool_ or not (
            np.issubdtype(d.dtype, np.integer) or np.issubdtype(d.dtype, np.floating)
        ):
            raise ValueError(f"dist must be a real numeric array, got dtype {d.dtype}")
        if np.issubdtype(d.dtype, np.floating) and np.isnan(d).any():
            raise ValueError("dist contains NaN")
    return d, ql, gl


def _check_ties(ties: str) -> None:
    if ties not in ("stable", "expected"):
        raise ValueError(f"ties must be 'stable' or 'expected', got {ties!r}")


def _check_k(k: Any, n_gallery: int, name: str = "k") -> int:
    if isinstance(k, (bool, np.bool_)) or int(k) != k or not 1 <= k <= n_gallery:
        raise ValueError(f"{name} must be an integer in [1, {n_gallery}], got {k!r}")
    return int(k)


def _row_chunks(n_rows: int, n_cols: int) -> Iterable[slice]:
    step = max(1, _CHUNK_ENTRIES // n_cols)
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


# ----------------------------------------------------------------- stable ranking


def _sorted_relevance(
    dist: np.ndarray, ql: np.ndarray, gl: np.ndarray, depth: int
) -> np.ndarray:
    """(c, depth) bool: relevance of the ranked list under (distance, index) order."""
    order = stable_argsort(dist)[:, :depth]
    return gl[order] == ql[:, None]


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


# ------------------------------------------------------------- tie-group counts


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


# ---------------------------------------------------------------------- metrics


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


# Cut-offs of the precision@k curve stored in every run record (deep and shallow).
PRECISION_KS = (1, 5, 10, 20, 50, 100, 200, 500, 1000)


def precision_ks(n_gallery: int) -> tuple[int, ...]:
    """The record's cut-offs that a gallery of `n_gallery` items can fill."""
    return tuple(k for k in PRECISION_KS if k <= n_gallery)


def evaluate_codes(
    query_codes: Any,
    gallery_codes: Any,
    query_labels: Any,
    gallery_labels: Any,
    n_bits: int,
    ks: Sequence[int] = (10, 100),
) -> dict[str, Any]:
    """All code metrics from packed codes (see :func:`dmh.codes.pack_bits`), JSON-friendly.

    Keys: map_all (expected-tie mAP, the headline), map_all_stable,
    p_at_r2 / r_at_r2 (Hamming ball of radius 2), precision_at_k
    ({k: expected-tie P@k}, int keys), pr_curve (lists over radius 0..n_bits).
    """
    width = n_bytes_for(n_bits)
    for name, codes in (("query_codes", query_codes), ("gallery_codes", gallery_codes)):
        shape = np.shape(codes)
        if len(shape) == 2 and shape[1] != width:
            hint = " (looks unpacked; call dmh.codes.pack_bits)" if shape[1] == n_bits else ""
            raise ValueError(
                f"{name} has {shape[1]} bytes per code, expected {width} for n_bits={n_bits}{hint}"
            )
    dist = hamming_distances(query_codes, gallery_codes)
    ql, gl = _as_numpy(query_labels), _as_numpy(gallery_labels)
    p_r2, r_r2 = precision_recall_within_radius(dist, ql, gl, radius=2)
    ks = [int(k) for k in ks]
    p_at_k = precision_at_k(dist, ql, gl, ks, ties="expected")
    curve = pr_curve(dist, ql, gl, n_bits)
    return {
        "map_all": mean_average_precision(dist, ql, gl, ties="expected"),
        "map_all_stable": mean_average_precision(dist, ql, gl, ties="stable"),
        "p_at_r2": p_r2,
        "r_at_r2": r_r2,
        "precision_at_k": {k: float(v) for k, v in zip(ks, p_at_k)},
        "pr_curve": {
            "radius": [int(x) for x in curve["radius"]],
            "precision": [float(x) for x in curve["precision"]],
            "recall": [float(x) for x in curve["recall"]],
        },
    }


def mean_average_precision_float(
    query_feats: Any,
    gallery_feats: Any,
    query_labels: Any,
    gallery_labels: Any,
    k: int | None = None,
) -> float:
    """mAP ranking by Euclidean distance on real-valued features (stable ties).

    Squared distances ||q||^2 - 2 q.g + ||g||^2 in float64 give the same order as
    Euclidean ones; exact ties are negligible for float features. Serves as the
    upper reference to measure what binarization costs.
    """
    q = _as_numpy(query_feats)
    g = _as_numpy(gallery_feats)
    if q.ndim != 2 or g.ndim != 2 or q.shape[1] != g.shape[1]:
        raise ValueError(
            f"features must be 2-D with equal dimension, got {q.shape} and {g.shape}"
        )
    for name, a in (("query_feats", q), ("gallery_feats", g)):
        if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
            raise ValueError(f"{name} must be real numeric, got dtype {a.dtype}")
    q = q.astype(np.float64)
    g = g.astype(np.float64)
    if not (np.isfinite(q).all() and np.isfinite(g).all()):
        raise ValueError("features contain NaN or inf")
    g_sq = np.einsum("ij,ij->i", g, g)
    ql, gl = _as_numpy(query_labels), _as_numpy(gallery_labels)
    if q.shape[0] == 0 or g.shape[0] == 0:
        raise ValueError("need at least one query and one gallery item")
    _check_labels(ql, gl, q.shape[0], g.shape[0])
    if k is not None:
        k = _check_k(k, g.shape[0])
    ap = np.zeros(q.shape[0], dtype=np.float64)
    for sl in _row_chunks(q.shape[0], g.shape[0]):
        qc = q[sl]
        d = np.einsum("ij,ij->i", qc, qc)[:, None] - 2.0 * qc @ g.T + g_sq[None, :]
        ap[sl] = _stable_ap(d, ql[sl], gl, k)
    return float(ap.mean())
