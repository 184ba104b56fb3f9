"""``scan``: exhaustive search by dmh's own C kernel (dmh.index.native), exact, codes of
up to 64 bits held as one uint64 each (8 bytes a face).

It reads each code once and keeps, in gallery order, only codes closer than the current
k-th distance, so the top k comes out with its ties broken by position: the evaluation's
ranking (:func:`dmh.retrieval.hamming_topk`) with no second pass.
"""
from __future__ import annotations

import numpy as np

from .checks import check_codes, check_k, check_radius
from .native import Kept, as_words, kernels


def check_width(n_bits: int, backend: str) -> int:
    if not 1 <= int(n_bits) <= 64:
        raise ValueError(f"the {backend} backend holds codes of 1 to 64 bits, got {n_bits}: "
                         "use the flat backend")
    return int(n_bits)


class GrowingWords:
    """An append-only uint64 array with amortized growth (adds in place, no copy each time)."""

    def __init__(self) -> None:
        self._buf, self.n = np.zeros(1024, np.uint64), 0

    def append(self, words: np.ndarray) -> None:
        if self.n + len(words) > len(self._buf):
            grown = np.zeros(max(2 * len(self._buf), self.n + len(words)), np.uint64)
            grown[:self.n] = self._buf[:self.n]
            self._buf = grown
        self._buf[self.n:self.n + len(words)] = words
        self.n += len(words)

    @property
    def words(self) -> np.ndarray:
        return self._buf[:self.n]


class KernelSearch:
    """top-k and radius search, one kernel call per query, for a backend with ``n_bits``,
    ``count()``, ``_one(q, k, radius, kept)`` (its kernel on one query word) and
    ``_first_cap(k)`` (the output buffer a top-k query starts with)."""

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = check_k(k, self.count())
        qs = as_words(check_codes(queries, self.n_bits, "queries"), self.n_bits)
        out_d, out_p = np.empty((len(qs), k), np.int32), np.empty((len(qs), k), np.int64)
        kept = Kept(self._first_cap(k))
        for row, q in enumerate(qs.tolist()):
            d, p = self._one(q, k, 0, kept)
            out_d[row], out_p[row] = d[:k], p[:k]
        return out_d, out_p

    def search_radius(self, queries: np.ndarray,
                      radius: int) -> list[tuple[np.ndarray, np.ndarray]]:
        radius = check_radius(radius)
        qs = as_words(check_codes(queries, self.n_bits, "queries"), self.n_bits)
        if not self.count():
            return [(np.empty(0, np.int32), np.empty(0, np.int64)) for _ in qs]
        kept = Kept(1024)
        return [self._one(q, 0, radius, kept) for q in qs.tolist()]  # sorted copies


class HammingScan(KernelSearch):
    """Exhaustive top-k and radius search over every code, one C pass per query.

    Args:
        n_bits: code length K (1..64); codes are (n, ceil(K / 8)) uint8.
    """

    exact = True

    def __init__(self, n_bits: int) -> None:
        self.n_bits = check_width(n_bits, "scan")
        self._lib, self._codes = kernels(), GrowingWords()

    def add(self, codes: np.ndarray) -> None:
        self._codes.append(as_words(check_codes(codes, self.n_bits, "codes"), self.n_bits))

    def count(self) -> int:
        return self._codes.n

    def nbytes(self) -> int:
        """Bytes held per the search: the codes, 8 a face."""
        return self._codes.words.nbytes

    @staticmethod
    def _first_cap(k: int) -> int:
        return 2 * k + 64  # kept in gallery order: the top k and the ties of a few

    def _one(self, q: int, k: int, radius: int, kept: Kept):
        words = self._codes.words
        return kept.run(lambda d, p, cap: self._lib.dmh_scan(
            words.ctypes.data, len(words), q, self.n_bits, k, radius, d, p, cap))
