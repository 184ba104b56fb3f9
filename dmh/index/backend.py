"""The one small interface every search backend of an index offers, and how to open one.

A backend holds packed codes (``(n, ceil(K / 8))`` uint8, :func:`dmh.codes.pack_bits`) at
positions 0, 1, 2, ... in the order they were added, and answers:

* ``add(codes)``: append rows; their positions continue from ``count()``;
* ``search(queries, k)``: ``(D, P)`` of shape ``(Q, k)``, int32 distances and int64
  positions ordered by ``(distance, position)`` as the evaluation ranks
  (:func:`dmh.retrieval.hamming_topk`); exact backends return exactly its top k,
  sub-linear ones (``exact = False``) the best k of the candidates they visit, -1 when
  fewer than k were visited;
* ``search_radius(queries, r)``: per query, every position at distance ``<= r`` (inclusive,
  as :func:`dmh.retrieval.hamming_radius_search`) as ``(D, P)``, ordered the same way;
* ``count()``: rows held.

Backends: ``flat`` (default, faiss ``IndexBinaryFlat``), ``hash`` and ``multihash`` (faiss
``IndexBinaryHash`` / ``IndexBinaryMultiHash``, sub-linear, approximate top k), ``scan``
and ``mih`` (dmh's C kernels: an exhaustive scan at the memory's pace, and exact
multi-index hashing, sub-linear; codes up to 64 bits) and ``milvus`` (a Milvus
collection: Milvus Lite in a local file, or a server).
"""
from __future__ import annotations

from typing import Any, Protocol

import numpy as np

BACKENDS = ("flat", "hash", "multihash", "scan", "mih", "milvus")


class Backend(Protocol):
    n_bits: int
    exact: bool

    def add(self, codes: np.ndarray) -> None: ...

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...

    def search_radius(self, queries: np.ndarray,
                      radius: int) -> list[tuple[np.ndarray, np.ndarray]]: ...

    def count(self) -> int: ...


def open_backend(kind: str, n_bits: int, **options: Any) -> Backend:
    """An empty backend of ``kind`` (one of ``BACKENDS``) for ``n_bits``-bit codes.

    ``options`` go to its constructor: ``hash``: ``b``, ``nflip``; ``multihash``:
    ``nhash``, ``b``, ``nflip``; ``mih``: ``tables``; ``milvus``: ``uri``, ``collection``, ``index_type``, ``token``...
    """
    if kind == "flat":
        from .faiss_binary import FaissFlat
        return FaissFlat(n_bits, **options)
    if kind == "hash":
        from .faiss_binary import FaissHash
        return FaissHash(n_bits, **options)
    if kind == "multihash":
        from .faiss_binary import FaissMultiHash
        return FaissMultiHash(n_bits, **options)
    if kind == "scan":
        from .scan import HammingScan
        return HammingScan(n_bits, **options)
    if kind == "mih":
        from .mih import MultiIndexHash
        return MultiIndexHash(n_bits, **options)
    if kind == "milvus":
        from .milvus import MilvusBinary
        return MilvusBinary(n_bits, **options)
    raise ValueError(f"unknown index backend {kind!r}: use one of {', '.join(BACKENDS)}")
