"""Input checks shared by the metrics, and the row chunking that bounds their memory."""

from __future__ import annotations

from typing import Any, Iterable, Literal

import numpy as np

from dmh.codes import _as_numpy

Ties = Literal["stable", "expected"]

# Bound on the entries of one (chunk, G) working block; ~30 bytes each in the
# stable path (sort indices, relevance, cumulative counts, float temporaries).
_CHUNK_ENTRIES = 2**21


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
