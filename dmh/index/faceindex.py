"""`FaceIndex`: a gallery of face codes with where each face came from, and its searches.

A face's id is its row: ids are 0, 1, 2, ... in the order faces were added, and every
search ranks by ``(Hamming distance, id)``, the evaluation's order (ties keep gallery
order, :func:`dmh.retrieval.hamming_topk`). The index stores the codes; a backend
(:mod:`dmh.index.backend`) is built over them to search, ``flat`` unless told otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..codes import n_bytes_for
from .backend import Backend, open_backend
from .checks import check_codes


@dataclass(frozen=True)
class FaceIndex:
    """What `dmh index build` writes and `dmh search --index` reads.

    Args:
        codes: (N, ceil(n_bits / 8)) uint8 packed codes; row i is face id i.
        keys: N source paths (``identity/image`` under the folder of their source).
        labels: (N,) int64 index of each face's identity in ``identities``.
        identities: identity names, verbatim.
        n_bits: code length K.
        run: the run whose model made the codes (a run name or a checkpoint's path).
        config_key: that run's ``TrainConfig.key()``, checked before encoding a query.
        config_name: that run's ``TrainConfig.name()``.
        weights_sha256: sha256 of the run's checkpoint file: a query is encoded by the very
            weights that made the gallery's codes (a retrained run is refused).
        sources: one dict per build or add: images (as given), name, checksum, first_id,
            count, order (how the folder's faces were ordered: their ids, hence ties).
    """

    codes: np.ndarray
    keys: list[str]
    labels: np.ndarray
    identities: list[str]
    n_bits: int
    run: str
    config_key: str
    config_name: str
    weights_sha256: str = ""
    sources: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        n, width = len(self.keys), n_bytes_for(self.n_bits)
        if self.codes.dtype != np.uint8 or self.codes.shape != (n, width):
            raise ValueError(f"index codes must be ({n}, {width}) uint8 for {self.n_bits} bits, "
                             f"got {self.codes.shape} {self.codes.dtype}")
        if self.labels.shape != (n,) or (n and not 0 <= self.labels.min() <= self.labels.max()
                                         < len(self.identities)):
            raise ValueError(f"index labels must be ({n},) indices into {len(self.identities)} "
                             f"identities, got shape {self.labels.shape}")
        if sum(s["count"] for s in self.sources) != n:
            raise ValueError(f"index sources count {sum(s['count'] for s in self.sources)} "
                             f"faces, the index holds {n}")

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def ids(self) -> np.ndarray:
        return np.arange(len(self), dtype=np.int64)

    def identity(self, face_id: int) -> str:
        return self.identities[int(self.labels[face_id])]


def empty_index(n_bits: int, run: str, config_key: str, config_name: str,
                weights_sha256: str = "") -> FaceIndex:
    """An index of no faces for the codes of one run."""
    return FaceIndex(np.zeros((0, n_bytes_for(n_bits)), np.uint8), [], np.zeros(0, np.int64),
                     [], int(n_bits), run, config_key, config_name, weights_sha256, [])


def add_faces(index: FaceIndex, codes: np.ndarray, keys: list[str], labels: np.ndarray,
              identities: list[str], source: dict[str, Any]) -> FaceIndex:
    """A new index with faces appended (ids continue from ``len(index)``).

    ``labels`` index ``identities`` (the source's own list); names already in the index
    share its label. A source whose ``checksum`` the index already holds is refused.
    """
    codes = check_codes(codes, index.n_bits)
    labels = np.asarray(labels, dtype=np.int64)
    if len(codes) != len(keys) or labels.shape != (len(keys),):
        raise ValueError(f"add_faces: {len(codes)} codes, {len(keys)} keys and "
                         f"{labels.shape} labels must agree")
    held = [s for s in index.sources if s["checksum"] == source["checksum"]]
    if held:
        raise ValueError(f"the index already holds {held[0]['images']} (same content, checksum "
                         f"{source['checksum'][:16]}): nothing to add")
    names = list(index.identities)
    where = {name: i for i, name in enumerate(names)}
    for name in identities:
        if name not in where:
            where[name] = len(names)
            names.append(name)
    remap = np.array([where[name] for name in identities], dtype=np.int64)
    src = dict(source, first_id=len(index), count=len(keys))
    return replace(index, codes=np.concatenate([index.codes, codes]),
                   keys=index.keys + list(keys),
                   labels=np.concatenate([index.labels, remap[labels] if len(labels) else labels]),
                   identities=names, sources=index.sources + [src])


def index_backend(index: FaceIndex, kind: str = "flat", **options: Any) -> Backend:
    """A backend of ``kind`` holding the index's codes (positions = face ids)."""
    backend = open_backend(kind, index.n_bits, **options)
    if len(index):
        backend.add(index.codes)
    return backend


def search_topk(index: FaceIndex, queries: np.ndarray, k: int,
                backend: Backend | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(D, ids) of the k nearest faces per query, by (distance, id); k is capped at N."""
    backend = backend or index_backend(index)
    return backend.search(queries, min(int(k), max(len(index), 1)))


def search_radius(index: FaceIndex, queries: np.ndarray, radius: int,
                  backend: Backend | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per query, (D, ids) of every face within ``radius`` (inclusive), by (distance, id)."""
    return (backend or index_backend(index)).search_radius(queries, radius)
