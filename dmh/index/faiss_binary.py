"""faiss binary indexes as index backends: exhaustive ``flat`` and sub-linear ``hash`` /
``multihash``, over codes zero-padded to a width faiss has a fast Hamming kernel for.

faiss specialises its Hamming distance for 4, 8, 16, 20, 32 and 64-byte codes; a 48-bit
code is 6 bytes and takes the generic path (about 3x slower here). Appending zero bytes
to every code, query and gallery alike, adds ``popcount(0 XOR 0) = 0`` to every distance,
so distances, and rankings, are unchanged (tests/test_index.py checks it against numpy).

``hash`` (``IndexBinaryHash``) keys a hash table by the first ``b`` bits;
``multihash`` (``IndexBinaryMultiHash``, Norouzi et al.'s multi-index hashing) keeps
``nhash`` tables on disjoint ``b``-bit substrings. A query visits the buckets within
``nflip`` bit flips of its key(s) and ranks the codes found by their true distance, so
top-k is approximate (recall measured in benchmarks/bench_index.py). Radius search is
exact: an item within distance r of the query is within ``min(r, b)`` flips in the one
table, and by pigeonhole within ``r // nhash`` flips in one of the ``nhash`` substrings,
so ``search_radius`` raises ``nflip`` to that for the call.
"""
from __future__ import annotations

import numpy as np

from ..codes import n_bytes_for
from .checks import check_codes, check_k, check_radius
from .ties import split_ranges, stable_radius, stable_topk

FAST_WIDTHS = (4, 8, 16, 20, 32, 64)


def fast_width(n_bytes: int) -> int:
    """The smallest width >= n_bytes with a fast faiss kernel (a multiple of 8 above 64)."""
    return next((w for w in FAST_WIDTHS if w >= n_bytes), -(-n_bytes // 8) * 8)


def pad_codes(codes: np.ndarray, width: int) -> np.ndarray:
    """(n, B) uint8 codes with zero bytes appended to ``width`` (C-contiguous)."""
    if codes.shape[1] == width:
        return np.ascontiguousarray(codes)
    out = np.zeros((codes.shape[0], width), dtype=np.uint8)
    out[:, :codes.shape[1]] = codes
    return out


def _faiss():
    try:
        import faiss
    except ImportError as exc:  # pragma: no cover - faiss-cpu is in requirements.txt
        raise ImportError("the faiss index backends need faiss: pip install faiss-cpu") from exc
    return faiss


class _FaissBinary:
    """A faiss ``IndexBinary`` behind the backend interface (dmh.index.backend)."""

    exact = True

    def __init__(self, n_bits: int) -> None:
        self.n_bits = int(n_bits)
        self.width = fast_width(n_bytes_for(n_bits))
        self.index = self._make(_faiss(), self.width * 8)

    def _make(self, faiss, d: int):
        raise NotImplementedError

    def _padded(self, codes, what: str) -> np.ndarray:
        return pad_codes(check_codes(codes, self.n_bits, what), self.width)

    def add(self, codes: np.ndarray) -> None:
        self.index.add(self._padded(codes, "codes"))

    def count(self) -> int:
        return int(self.index.ntotal)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = check_k(k, self.count())
        return stable_topk(self._knn, self._within, self._padded(queries, "queries"), k,
                           self.count())

    def search_radius(self, queries: np.ndarray,
                      radius: int) -> list[tuple[np.ndarray, np.ndarray]]:
        return stable_radius(self._within, self._padded(queries, "queries"),
                             check_radius(radius))

    def _knn(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        return self.index.search(q, k)

    def _within(self, q: np.ndarray, radius: int) -> list[tuple[np.ndarray, np.ndarray]]:
        lims, dist, pos = self.index.range_search(q, radius + 1)  # faiss: d < radius
        return split_ranges(lims, dist, pos)


class FaissFlat(_FaissBinary):
    """Exhaustive search: faiss ``IndexBinaryFlat`` on zero-padded codes.

    Args:
        n_bits: code length K; codes are (n, ceil(K / 8)) uint8.
    """

    def _make(self, faiss, d: int):
        return faiss.IndexBinaryFlat(d)


class FaissHash(_FaissBinary):
    """One hash table on the first ``b`` bits; top-k visits buckets within ``nflip`` flips.

    Args:
        n_bits: code length K.
        b: bits of the hash key (default min(K, 16)).
        nflip: bit flips visited around the query's key in a top-k search.
    """

    exact = False

    def __init__(self, n_bits: int, b: int | None = None, nflip: int = 1) -> None:
        self.b, self.nflip = int(b or min(n_bits, 16)), int(nflip)
        if not 1 <= self.b <= min(n_bits, 63):
            raise ValueError(f"hash backend: b must be in [1, {min(n_bits, 63)}], got {b}")
        super().__init__(n_bits)

    def _make(self, faiss, d: int):
        index = faiss.IndexBinaryHash(d, self.b)
        index.nflip = self.nflip
        return index

    def _exact_flips(self, radius: int) -> int:
        return min(radius, self.b)

    def _within(self, q: np.ndarray, radius: int) -> list[tuple[np.ndarray, np.ndarray]]:
        self.index.nflip = max(self.nflip, self._exact_flips(radius))
        try:
            return super()._within(q, radius)
        finally:
            self.index.nflip = self.nflip


class FaissMultiHash(FaissHash):
    """``nhash`` hash tables on disjoint ``b``-bit substrings (multi-index hashing).

    Args:
        n_bits: code length K.
        nhash: number of tables (default K // 16, at least 1).
        b: bits per table (default K // nhash); ``nhash * b <= K``.
        nflip: bit flips visited around each substring in a top-k search.
    """

    def __init__(self, n_bits: int, nhash: int | None = None, b: int | None = None,
                 nflip: int = 1) -> None:
        self.nhash = int(nhash or max(1, n_bits // 16))
        b = int(b or n_bits // self.nhash)
        if self.nhash * b > n_bits:
            raise ValueError(f"multihash backend: nhash * b = {self.nhash * b} exceeds the "
                             f"{n_bits} bits of a code; lower nhash or b")
        super().__init__(n_bits, b=b, nflip=nflip)

    def _make(self, faiss, d: int):
        index = faiss.IndexBinaryMultiHash(d, self.nhash, self.b)
        index.nflip = self.nflip
        return index

    def _exact_flips(self, radius: int) -> int:
        return min(radius // self.nhash, self.b)
