"""Deterministic ranking on top of a search library that breaks distance ties its own way.

The evaluation ranks a gallery by ``(Hamming distance, gallery position)``
(:func:`dmh.retrieval.hamming_topk`, :func:`dmh.retrieval.stable_argsort`). faiss and
Milvus return the k smallest distances but order, and choose among, items tied at the
k-th distance as their heaps happen to. These pure functions turn a library's raw
``knn(queries, k)`` and ``within(queries, radius)`` into the evaluation's ranking:

1. ask for ``wide = 2k + 16`` neighbours and sort them by ``(distance, position)``;
2. every item closer than the ``wide``-th distance is among them (the search is exact),
   so when that distance exceeds the k-th one the whole tie group at the k-th distance is
   in hand, and the first k of the sorted list are the evaluation's top k;
3. otherwise (a tie group wider than ``wide``, rare for 48-bit codes) the query is asked
   again as a radius search up to the k-th distance, which returns the whole group.

One scan per query in the common case, exact always; sorting by ``(distance, id)`` alone
would not be, since the library may have dropped tied items with smaller ids.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

Knn = Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]
Within = Callable[[np.ndarray, int], list[tuple[np.ndarray, np.ndarray]]]

MISSING = np.iinfo(np.int32).max  # distance given to an empty slot (position -1)


def sort_hits(dist: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows sorted by ``(distance, position)``; empty slots (position < 0) last.

    Returns int32 distances (``MISSING`` in empty slots) and int64 positions (-1 there).
    """
    pos = np.asarray(pos, dtype=np.int64)
    dist = np.where(pos < 0, MISSING, np.asarray(dist, dtype=np.int64)).astype(np.int32)
    key = np.where(pos < 0, np.iinfo(np.int64).max, pos)
    order = np.lexsort((key, dist), axis=-1)
    return np.take_along_axis(dist, order, -1), np.take_along_axis(pos, order, -1)


def wide_k(k: int, n_total: int) -> int:
    """How many neighbours to ask the library for: ``min(n_total, 2k + 16)``."""
    return min(n_total, 2 * k + 16)


def stable_topk(knn: Knn, within: Within, queries: np.ndarray, k: int,
                n_total: int) -> tuple[np.ndarray, np.ndarray]:
    """Top k per query ordered by ``(distance, position)``: (Q, k) int32 and int64.

    ``knn(q, m)`` returns the m nearest (any order inside ties, -1 for none);
    ``within(q, r)`` every item at distance ``<= r`` as ``(dist, pos)`` per query.
    """
    wide = wide_k(k, n_total)
    dist, pos = sort_hits(*knn(queries, wide))
    kth = dist[:, k - 1]
    cut = (pos[:, k - 1] >= 0) & (wide < n_total) & (dist[:, wide - 1] == kth)
    out_d, out_p = dist[:, :k].copy(), pos[:, :k].copy()
    for radius in np.unique(kth[cut]):
        rows = np.flatnonzero(cut & (kth == radius))
        for row, (d, p) in zip(rows, within(queries[rows], int(radius))):
            d, p = sort_hits(d[None], p[None])
            out_d[row], out_p[row] = d[0, :k], p[0, :k]
    return out_d, out_p


def stable_radius(within: Within, queries: np.ndarray,
                  radius: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per query, every item at distance ``<= radius`` ordered by ``(distance, position)``."""
    out = []
    for d, p in within(queries, radius):
        d, p = sort_hits(d[None], p[None])
        out.append((d[0], p[0]))
    return out


def split_ranges(lims: np.ndarray, dist: np.ndarray,
                 pos: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """faiss's ``range_search`` layout (lims, D, I) -> one ``(dist, pos)`` pair per query."""
    return [(dist[a:b], pos[a:b]) for a, b in zip(lims[:-1], lims[1:])]
