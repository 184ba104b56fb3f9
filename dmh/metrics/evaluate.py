"""The run record's code metrics, from packed codes or from their Hamming distances, and
the real-valued mAP reference."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from dmh.codes import _as_numpy, n_bytes_for
from dmh.retrieval import hamming_distances

from .average_precision import _stable_ap, mean_average_precision
from .checks import _check_inputs, _check_k, _check_labels, _row_chunks
from .precision import pr_curve, precision_at_k, precision_recall_within_radius

# Cut-offs of the precision@k curve stored in every run record (deep and shallow).
PRECISION_KS = (1, 5, 10, 20, 50, 100, 200, 500, 1000)


def precision_ks(n_gallery: int) -> tuple[int, ...]:
    """The record's cut-offs that a gallery of `n_gallery` items can fill."""
    return tuple(k for k in PRECISION_KS if k <= n_gallery)


def evaluate_distances(dist: Any, query_labels: Any, gallery_labels: Any, n_bits: int,
                       ks: Sequence[int] = (10, 100)) -> dict[str, Any]:
    """All code metrics from an integer Hamming distance matrix ``(Q, G)``, JSON-friendly.

    Scores distances computed elsewhere (another search, a stored result) without
    searching again. Keys: map_all (expected-tie mAP, the headline), map_all_stable,
    p_at_r2 / r_at_r2 (Hamming ball of radius 2), precision_at_k
    ({k: expected-tie P@k}, int keys), pr_curve (lists over radius 0..n_bits).
    """
    dist, ql, gl = _check_inputs(dist, query_labels, gallery_labels, integer=True)
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


def evaluate_float(query_feats: Any, gallery_feats: Any, query_labels: Any, gallery_labels: Any,
                   ks: Sequence[int] = (10, 100)) -> dict[str, Any]:
    """The ranking metrics of real-valued features by Euclidean distance (a float
    embedding's record: no Hamming ball, no PR curve over radii): map_all and precision_at_k,
    ranked by (distance, gallery index): exact ties between float distances are rare enough
    that the tie expectation of the Hamming metrics would not change them."""
    q, g = _as_numpy(query_feats).astype(np.float64), _as_numpy(gallery_feats).astype(np.float64)
    if q.ndim != 2 or g.ndim != 2 or q.shape[1] != g.shape[1]:
        raise ValueError(f"features must be 2-D with equal dimension, got {q.shape} and {g.shape}")
    dist, ql, gl = _check_inputs(_euclidean(q, g), query_labels, gallery_labels)
    return {"map_all": mean_average_precision(dist, ql, gl),
            "precision_at_k": {int(k): float(v) for k, v in
                               zip(ks, precision_at_k(dist, ql, gl, [int(k) for k in ks]))}}


def _euclidean(q: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Euclidean distances, (a - b)^2 summed per pair in row blocks (no cancellation)."""
    out = np.empty((len(q), len(g)))
    step = max(1, int(2e7 // max(1, g.size)))
    for i in range(0, len(q), step):
        out[i:i + step] = np.sqrt(((q[i:i + step, None, :] - g[None, :, :]) ** 2).sum(-1))
    return out


def evaluate_codes(
    query_codes: Any,
    gallery_codes: Any,
    query_labels: Any,
    gallery_labels: Any,
    n_bits: int,
    ks: Sequence[int] = (10, 100),
) -> dict[str, Any]:
    """:func:`evaluate_distances` of packed codes (see :func:`dmh.codes.pack_bits`)."""
    width = n_bytes_for(n_bits)
    for name, codes in (("query_codes", query_codes), ("gallery_codes", gallery_codes)):
        shape = np.shape(codes)
        if len(shape) == 2 and shape[1] != width:
            hint = " (looks unpacked; call dmh.codes.pack_bits)" if shape[1] == n_bits else ""
            raise ValueError(
                f"{name} has {shape[1]} bytes per code, expected {width} for n_bits={n_bits}{hint}"
            )
    dist = hamming_distances(query_codes, gallery_codes)
    return evaluate_distances(dist, query_labels, gallery_labels, n_bits, ks)


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
