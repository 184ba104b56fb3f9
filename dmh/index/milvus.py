"""Milvus as an index backend: a collection of ``BINARY_VECTOR`` codes, metric ``HAMMING``.

The same client code serves three deployments; only ``uri`` (and ``token``) change:

* Milvus Lite, no server: ``uri="faces.db"``, a local file (pymilvus 2.5.18 with
  milvus-lite 2.5.1; the pymilvus 3.x client does not take binary vectors there). Lite has
  only the exact ``BIN_FLAT`` index.
* Milvus standalone (one docker container, ``milvus-standalone`` in Milvus's compose file):
  ``uri="http://HOST:19530"``, ``token="root:Milvus"`` (or the user:password you set);
  ``index_type="BIN_IVF_FLAT"`` (with ``nlist``, ``nprobe``) for sub-linear search.
* A cluster (Helm chart / operator) or Zilliz Cloud: ``uri`` is the proxy's or the cloud
  endpoint, ``token`` its user:password or API key; the collection is sharded for you.

Codes go in as ``ceil(K/8)`` bytes (the pad bits of a K-bit code are 0 for every row, so
Hamming distances are those of the K-bit codes); each row's primary key is its position.
Searches are ``Strong``-consistent so a face is found as soon as ``add`` returns. Milvus
caps one search at 16,384 results (``topk`` and range alike): a top-k beyond 8,184 or a
tie group larger than the cap is refused with the fix (use the ``flat`` backend).
"""
from __future__ import annotations

import uuid

import numpy as np

from ..codes import n_bytes_for
from .checks import check_codes, check_k, check_radius
from .ties import MISSING, stable_radius, stable_topk, wide_k

MAX_RESULTS = 16_384  # Milvus's topk limit, also the limit of a range search
_BATCH = 100_000  # rows per insert request (column-wise: the row-wise path is quadratic)
_QUERIES = 4_096  # queries per search request


class MilvusBinary:
    """Codes in a Milvus collection, searched by Hamming distance.

    Args:
        n_bits: code length K.
        uri: Milvus Lite file (``faces.db``) or a server/cluster URI (``http://host:19530``).
        collection: collection name.
        token: ``user:password`` or API key of a server ("" for Milvus Lite).
        index_type: ``BIN_FLAT`` (exact) or ``BIN_IVF_FLAT`` (servers only; approximate).
        nlist: BIN_IVF_FLAT's number of clusters.
        nprobe: BIN_IVF_FLAT's clusters visited per query.
        reset: drop an existing collection of that name first (else it is reused).
    """

    def __init__(self, n_bits: int, uri: str = "dmh_index.db", collection: str = "faces",
                 token: str = "", index_type: str = "BIN_FLAT", nlist: int = 1024,
                 nprobe: int = 16, reset: bool = False) -> None:
        from pymilvus import (Collection, CollectionSchema, DataType, FieldSchema,
                              connections, utility)

        if index_type not in ("BIN_FLAT", "BIN_IVF_FLAT"):
            raise ValueError(f"milvus backend: index_type must be BIN_FLAT or BIN_IVF_FLAT, "
                             f"got {index_type!r}")
        self.n_bits, self.exact = int(n_bits), index_type == "BIN_FLAT"
        self.dim = n_bytes_for(n_bits) * 8
        self.alias = f"dmh-index-{uuid.uuid4().hex[:12]}"
        connections.connect(alias=self.alias, uri=str(uri), token=token)
        if reset and utility.has_collection(collection, using=self.alias):
            utility.drop_collection(collection, using=self.alias)
        if utility.has_collection(collection, using=self.alias):
            self.col = Collection(collection, using=self.alias)
            dims = [f.params.get("dim") for f in self.col.schema.fields if f.name == "code"]
            if dims != [self.dim]:
                raise ValueError(f"milvus collection {collection!r} at {uri} holds other codes "
                                 f"(dim {dims}), not {self.dim}-bit: pass reset=True or another name")
            self.col.flush()
            self._count = int(self.col.num_entities)
        else:
            schema = CollectionSchema([
                FieldSchema("id", DataType.INT64, is_primary=True, auto_id=False),
                FieldSchema("code", DataType.BINARY_VECTOR, dim=self.dim)],
                description="dmh face codes")
            self.col = Collection(collection, schema, using=self.alias, consistency_level="Strong")
            params = {"nlist": int(nlist)} if index_type == "BIN_IVF_FLAT" else {}
            self.col.create_index("code", {"index_type": index_type, "metric_type": "HAMMING",
                                           "params": params})
            self._count = 0
        self.col.load()
        self._params = {"nprobe": int(nprobe)} if index_type == "BIN_IVF_FLAT" else {}

    def add(self, codes: np.ndarray) -> None:
        codes = check_codes(codes, self.n_bits)
        for start in range(0, len(codes), _BATCH):
            chunk = codes[start:start + _BATCH]
            ids = np.arange(self._count, self._count + len(chunk), dtype=np.int64)
            self.col.insert([ids.tolist(), [row.tobytes() for row in chunk]])
            self._count += len(chunk)

    def count(self) -> int:
        return self._count

    def _search(self, q: np.ndarray, limit: int, params: dict) -> list[tuple[np.ndarray, np.ndarray]]:
        out = []
        for start in range(0, len(q), _QUERIES):
            res = self.col.search([row.tobytes() for row in q[start:start + _QUERIES]], "code",
                                  {"metric_type": "HAMMING", "params": params}, limit=limit,
                                  consistency_level="Strong")
            out += [(np.asarray(h.distances, dtype=np.int64), np.asarray(h.ids, dtype=np.int64))
                    for h in res]
        return out

    def _knn(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        dist = np.full((len(q), k), MISSING, dtype=np.int64)
        pos = np.full((len(q), k), -1, dtype=np.int64)
        for row, (d, p) in enumerate(self._search(q, k, self._params)):
            dist[row, :len(d)], pos[row, :len(p)] = d, p
        return dist, pos

    def _within(self, q: np.ndarray, radius: int) -> list[tuple[np.ndarray, np.ndarray]]:
        # Milvus's HAMMING range search keeps range_filter <= d < radius
        params = self._params | {"radius": radius + 1, "range_filter": 0}
        found = self._search(q, MAX_RESULTS, params)
        if any(len(p) >= MAX_RESULTS for _, p in found):
            raise ValueError(f"milvus backend: {MAX_RESULTS} or more faces within distance "
                             f"{radius} of a query, past Milvus's result cap; search this "
                             f"query with the flat backend")
        return found

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = check_k(k, self._count)
        if wide_k(k, self._count) > MAX_RESULTS:
            raise ValueError(f"milvus backend: k={k} asks Milvus for more than its "
                             f"{MAX_RESULTS}-result cap; use k <= {(MAX_RESULTS - 16) // 2} "
                             f"or the flat backend")
        return stable_topk(self._knn, self._within, check_codes(queries, self.n_bits, "queries"),
                           k, self._count)

    def search_radius(self, queries: np.ndarray,
                      radius: int) -> list[tuple[np.ndarray, np.ndarray]]:
        return stable_radius(self._within, check_codes(queries, self.n_bits, "queries"),
                             check_radius(radius))

    def close(self) -> None:
        """Release the collection and the connection (Milvus Lite then stops its server)."""
        from pymilvus import connections

        self.col.release()
        connections.disconnect(self.alias)
