"""Exhaustive Hamming-space retrieval over packed binary codes.

All functions take packed codes as produced by :func:`dmh.codes.pack_bits`:
uint8 arrays of shape ``(n, B)``, ``B = ceil(K / 8)``. The Hamming distance is
``d(q, g) = popcount(q XOR g)`` summed over the B bytes.

Ranking convention: gallery items are ordered by ``(distance, gallery index)``,
i.e. ties at equal distance keep gallery order (a stable sort).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

__all__ = [
    "hamming_distances",
    "hamming_rank",
    "hamming_topk",
    "hamming_radius_search",
    "stable_argsort",
]

# popcount of every byte value; fallback when np.bitwise_count (numpy >= 2.0) is absent.
_POPCOUNT8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)
_HAS_BITWISE_COUNT = hasattr(np, "bitwise_count")

# Upper bound on the bytes of one (chunk, G) temporary, to bound peak memory.
_CHUNK_BYTES = 64 * 2**20


def _check_codes(name: str, codes: Any) -> np.ndarray:
    arr = np.asarray(codes)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D packed codes (n, B), got shape {arr.shape}")
    if arr.dtype != np.uint8:
        raise ValueError(
            f"{name} must be packed uint8 codes (see dmh.codes.pack_bits), got dtype {arr.dtype}"
        )
    if arr.shape[1] == 0:
        raise ValueError(f"{name} must have at least one byte per code")
    return arr


def _check_pair(query_codes: Any, gallery_codes: Any) -> tuple[np.ndarray, np.ndarray]:
    q = _check_codes("query_codes", query_codes)
    g = _check_codes("gallery_codes", gallery_codes)
    if q.shape[1] != g.shape[1]:
        raise ValueError(
            f"query and gallery code widths differ: {q.shape[1]} vs {g.shape[1]} bytes"
        )
    return q, g


def _as_words(codes: np.ndarray) -> np.ndarray:
    """Regroup bytes into uint64 words (zero-padded) so one popcount covers 64 bits."""
    n, b = codes.shape
    n_words = (b + 7) // 8
    padded = np.zeros((n, n_words * 8), dtype=np.uint8)
    padded[:, :b] = codes
    return padded.view(np.uint64)


def _chunk_rows(n_gallery: int, bytes_per_entry: int) -> int:
    return max(1, _CHUNK_BYTES // max(1, n_gallery * bytes_per_entry))


def _distance_block(q: np.ndarray, g: np.ndarray) -> np.ndarray:
    """(len(q), len(g)) int32 distances; q and g already in the word layout."""
    out = np.zeros((q.shape[0], g.shape[0]), dtype=np.int32)
    for w in range(q.shape[1]):
        x = np.bitwise_xor(q[:, w, None], g[None, :, w])
        if _HAS_BITWISE_COUNT:
            out += np.bitwise_count(x)
        else:
            out += _POPCOUNT8[x]
    return out


def _iter_distance_chunks(q: np.ndarray, g: np.ndarray):
    """Yield ``(start, dist_block)`` over query chunks of bounded memory."""
    if _HAS_BITWISE_COUNT:
        qw, gw = _as_words(q), _as_words(g)
    else:
        qw, gw = q, g
    # per entry: 8-byte XOR temporary + 4-byte distance (+ 8-byte sort index in top-k)
    step = _chunk_rows(g.shape[0], 20)
    for start in range(0, q.shape[0], step):
        yield start, _distance_block(qw[start : start + step], gw)


def stable_argsort(dist: np.ndarray) -> np.ndarray:
    """Row-wise ``argsort(dist, kind='stable')``: ties keep column (gallery) order.

    Non-negative integer distances below 2**16 are cast to uint8/uint16 first,
    for which numpy's stable sort is an O(n) radix sort (several times faster
    than the merge sort used for wider types).
    """
    if np.issubdtype(dist.dtype, np.integer) and dist.size and dist.min() >= 0:
        top = dist.max()
        if top < 2**8:
            dist = dist.astype(np.uint8)
        elif top < 2**16:
            dist = dist.astype(np.uint16)
    return np.argsort(dist, axis=-1, kind="stable")


def hamming_distances(query_codes: Any, gallery_codes: Any) -> np.ndarray:
    """All pairwise Hamming distances ``D[i, j] = popcount(q_i XOR g_j)``.

    Returns an int32 array of shape ``(Q, G)``.
    """
    q, g = _check_pair(query_codes, gallery_codes)
    out = np.empty((q.shape[0], g.shape[0]), dtype=np.int32)
    for start, block in _iter_distance_chunks(q, g):
        out[start : start + block.shape[0]] = block
    return out


def hamming_rank(query_codes: Any, gallery_codes: Any) -> np.ndarray:
    """Full ranking of the gallery for every query, shape ``(Q, G)`` int64.

    Row i lists gallery indices sorted by ``(d(q_i, g_j), j)``: stable argsort,
    so equal distances keep gallery order.
    """
    dist = hamming_distances(query_codes, gallery_codes)
    return stable_argsort(dist).astype(np.int64, copy=False)


def _topk_numpy(q: np.ndarray, g: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    n_q = q.shape[0]
    dist_out = np.empty((n_q, k), dtype=np.int32)
    idx_out = np.empty((n_q, k), dtype=np.int64)
    for start, block in _iter_distance_chunks(q, g):
        stop = start + block.shape[0]
        # a full radix sort of small ints beats argpartition + fix-up of the ties
        idx = stable_argsort(block)[:, :k]
        idx_out[start:stop] = idx
        dist_out[start:stop] = np.take_along_axis(block, idx, axis=1)
    return dist_out, idx_out


def _topk_faiss(q: np.ndarray, g: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    try:
        import faiss  # lazy: optional dependency
    except ImportError as exc:  # pragma: no cover - depends on environment
        raise ImportError(
            "backend='faiss' needs the faiss package: pip install faiss-cpu"
        ) from exc
    index = faiss.IndexBinaryFlat(q.shape[1] * 8)
    index.add(np.ascontiguousarray(g))
    dist, idx = index.search(np.ascontiguousarray(q), k)
    return dist.astype(np.int32, copy=False), idx.astype(np.int64, copy=False)


def hamming_topk(
    query_codes: Any,
    gallery_codes: Any,
    k: int,
    backend: Literal["numpy", "faiss"] = "numpy",
) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest gallery codes per query: ``(D, I)``, each of shape ``(Q, k)``.

    ``D`` is int32 distances (ascending), ``I`` int64 gallery indices.
    backend='numpy' orders ties by gallery index (same as :func:`hamming_rank`);
    backend='faiss' uses ``faiss.IndexBinaryFlat``, whose order within a tie is
    faiss's own. Requires ``1 <= k <= G``.
    """
    q, g = _check_pair(query_codes, gallery_codes)
    if isinstance(k, bool) or int(k) != k or not 1 <= k <= g.shape[0]:
        raise ValueError(f"k must be an integer in [1, {g.shape[0]}], got {k!r}")
    k = int(k)
    if backend == "numpy":
        return _topk_numpy(q, g, k)
    if backend == "faiss":
        return _topk_faiss(q, g, k)
    raise ValueError(f"backend must be 'numpy' or 'faiss', got {backend!r}")


def hamming_radius_search(
    query_codes: Any, gallery_codes: Any, radius: int
) -> list[np.ndarray]:
    """Per query, the int64 gallery indices with ``d(q_i, g_j) <= radius``, in gallery order.

    Note the inclusive bound; faiss's binary ``range_search`` is strict
    (``d < radius``), so it matches this function with ``radius + 1``.
    """
    q, g = _check_pair(query_codes, gallery_codes)
    if isinstance(radius, bool) or int(radius) != radius or radius < 0:
        raise ValueError(f"radius must be a non-negative integer, got {radius!r}")
    out: list[np.ndarray] = []
    for _, block in _iter_distance_chunks(q, g):
        inside = block <= radius
        out.extend(np.flatnonzero(row).astype(np.int64, copy=False) for row in inside)
    return out
