"""``mih``: multi-index hashing (Norouzi, Punjani & Fleet, CVPR 2012), exact and sub-linear.

The K bits are cut into ``tables`` disjoint substrings; table j sorts every code by its
substring j and keeps, per key, the span of codes holding it (a bucket). A query visits
the buckets whose key is 0, 1, 2, ... flips from its own substring, table by table, and
stops when the pigeonhole bound on every unvisited code's distance passes the k-th
distance found (or the radius asked): the result is the exhaustive ranking, ties broken
by position, while visiting a small part of a large gallery (C kernel: dmh.index.native).

Unlike faiss's ``multihash`` (a fixed number of flips, so an approximate top k), the
number of flips grows until the answer is exact. Its cost: each table holds the codes
again, in its own order, with their positions (16 bytes a face a table), plus a bucket
offset table of 2^b entries; ``add`` re-sorts the tables.
"""
from __future__ import annotations

import ctypes

import numpy as np

from .checks import check_codes
from .native import Kept, as_words, kernels
from .scan import GrowingWords, KernelSearch, check_width

MAX_TABLE_BITS = 24  # the bucket offsets of a 24-bit table take 128 MiB


class MultiIndexHash(KernelSearch):
    """Exact top-k and radius search visiting only buckets near the query's substrings.

    Args:
        n_bits: code length K (1..64).
        tables: number of substrings m (default ceil(K / 16)); each has K // m or
            K // m + 1 bits, at most 24.
    """

    exact = True

    def __init__(self, n_bits: int, tables: int | None = None) -> None:
        self.n_bits = check_width(n_bits, "mih")
        self.tables = int(tables or -(-self.n_bits // 16))
        if not 1 <= self.tables <= self.n_bits:
            raise ValueError(f"mih backend: tables must be in [1, {self.n_bits}], got {tables}")
        base, extra = divmod(self.n_bits, self.tables)
        self.bits = np.array([base + (j < extra) for j in range(self.tables)], np.int32)
        if self.bits.max() > MAX_TABLE_BITS:
            raise ValueError(f"mih backend: {self.tables} tables of {self.bits.max()} bits; "
                             f"use at least {-(-self.n_bits // MAX_TABLE_BITS)} tables")
        self.shift = np.concatenate([[0], np.cumsum(self.bits)[:-1]]).astype(np.int32)
        self._lib, self._codes, self._tables = kernels(), GrowingWords(), []

    def add(self, codes: np.ndarray) -> None:
        self._codes.append(as_words(check_codes(codes, self.n_bits, "codes"), self.n_bits))
        words = self._codes.words
        self._tables = [self._table(words, int(s), int(b)) for s, b in zip(self.shift, self.bits)]
        arrays = list(zip(*self._tables))  # (offsets...), (codes...), (positions...)
        self._pointer_arrays = [(ctypes.c_void_p * self.tables)(*[a.ctypes.data for a in group])
                                for group in arrays]  # held: the kernel reads them
        self._ptrs = [ctypes.addressof(a) for a in self._pointer_arrays]

    @staticmethod
    def _table(words: np.ndarray, shift: int, bits: int):
        keys = ((words >> np.uint64(shift)) & np.uint64((1 << bits) - 1)).astype(
            np.uint16 if bits <= 16 else np.uint32)
        order = np.argsort(keys, kind="stable")
        offsets = np.zeros((1 << bits) + 1, np.int64)
        np.cumsum(np.bincount(keys, minlength=1 << bits), out=offsets[1:])
        return offsets, np.ascontiguousarray(words[order]), order.astype(np.int64)

    def count(self) -> int:
        return self._codes.n

    def nbytes(self) -> int:
        """Bytes held for search: the codes, and per table its offsets, codes and positions."""
        return self._codes.words.nbytes + sum(a.nbytes for t in self._tables for a in t)

    @staticmethod
    def _first_cap(k: int) -> int:
        return 4 * k + 256  # kept in bucket order: every tie at the k-th distance

    def _one(self, q: int, k: int, radius: int, kept: Kept):
        (off, codes, pos), shift, bits = self._ptrs, self.shift.ctypes.data, self.bits.ctypes.data
        return kept.run(lambda d, p, cap: self._lib.dmh_mih(
            self.tables, shift, bits, off, codes, pos, q, self.n_bits, k, radius, d, p, cap))
