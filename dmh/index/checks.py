"""Arguments of the index backends, checked once: codes, k and radius (one-line errors)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..codes import n_bytes_for


def check_codes(codes: Any, n_bits: int, what: str = "codes") -> np.ndarray:
    """``codes`` as C-contiguous (n, ceil(n_bits/8)) uint8, or a one-line ValueError."""
    arr = np.asarray(codes)
    width = n_bytes_for(n_bits)
    if arr.ndim != 2 or arr.dtype != np.uint8 or arr.shape[1] != width:
        raise ValueError(f"{what} must be packed {n_bits}-bit codes, (n, {width}) uint8 "
                         f"(dmh.codes.pack_bits), got {arr.shape} {arr.dtype}")
    return np.ascontiguousarray(arr)


def check_k(k: Any, n_total: int) -> int:
    """k as an int in [1, n_total]; an empty backend or a bad k is a one-line ValueError."""
    if n_total == 0:
        raise ValueError("the index is empty: add faces first (`dmh index add IDX FOLDER`)")
    if isinstance(k, bool) or int(k) != k or not 1 <= k <= n_total:
        raise ValueError(f"k must be an integer in [1, {n_total}], got {k!r}")
    return int(k)


def check_radius(radius: Any) -> int:
    if isinstance(radius, bool) or int(radius) != radius or radius < 0:
        raise ValueError(f"radius must be a non-negative integer, got {radius!r}")
    return int(radius)
