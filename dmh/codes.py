"""Binary hash codes: sign binarization and bit packing.

Conventions
-----------
* A real-valued code ``h`` of shape ``(n, K)`` becomes bits ``b = 1[h >= 0]``,
  i.e. ``sign(h)`` with ``sign(0) = +1`` mapped to bit 1 and ``-1`` to bit 0.
  The ±1 code is recovered as ``2 b - 1``.
* Bits are packed 8 per byte, most significant bit first (``np.packbits``
  default), giving ``(n, ceil(K / 8))`` uint8 rows. When ``K`` is not a
  multiple of 8 the trailing pad bits are 0 for every row, so the Hamming
  distance between packed rows equals the distance between the K-bit codes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["binarize", "pack_bits", "unpack_bits", "encode_signs", "n_bytes_for"]


def _as_numpy(x: Any) -> np.ndarray:
    """Numpy view of ``x``; torch tensors are detached and moved to CPU first."""
    if hasattr(x, "detach"):
        x = x.detach().cpu()
    return np.asarray(x)


def n_bytes_for(n_bits: int) -> int:
    """Packed row width in bytes: ``ceil(n_bits / 8)``."""
    if int(n_bits) != n_bits or n_bits < 1:
        raise ValueError(f"n_bits must be a positive integer, got {n_bits!r}")
    return (int(n_bits) + 7) // 8


def binarize(h: Any) -> np.ndarray:
    """Bits ``b[i, k] = 1 if h[i, k] >= 0 else 0`` as uint8 of shape ``(n, K)``.

    Equivalent to ``(sign(h) + 1) / 2`` with the convention ``sign(0) = +1``.
    ``h`` may be a numpy array or a torch tensor (any real dtype).
    """
    arr = _as_numpy(h)
    if arr.ndim != 2:
        raise ValueError(f"h must be 2-D (n, K), got shape {arr.shape}")
    if arr.shape[1] == 0:
        raise ValueError("h must have at least one bit (K >= 1)")
    if arr.dtype == np.bool_ or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise ValueError(f"h must have a real numeric dtype, got {arr.dtype}")
    if np.issubdtype(arr.dtype, np.floating) and np.isnan(arr).any():
        # NaN >= 0 is False, which would silently turn it into bit 0.
        raise ValueError("h contains NaN; cannot binarize")
    return (arr >= 0).astype(np.uint8)


def pack_bits(bits: Any) -> np.ndarray:
    """Pack a ``(n, K)`` array of {0, 1} into ``(n, ceil(K/8))`` uint8 rows.

    Uses ``np.packbits(bits, axis=1)`` (big-endian bit order); the last byte is
    zero-padded identically for every row, so Hamming distances are unchanged.
    """
    arr = _as_numpy(bits)
    if arr.ndim != 2:
        raise ValueError(f"bits must be 2-D (n, K), got shape {arr.shape}")
    if arr.shape[1] == 0:
        raise ValueError("bits must have at least one column (K >= 1)")
    if not (arr.dtype == np.bool_ or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"bits must be bool or integer {{0,1}}, got dtype {arr.dtype}")
    if arr.dtype != np.bool_ and arr.size and ((arr < 0) | (arr > 1)).any():
        raise ValueError("bits must contain only 0 and 1")
    return np.packbits(arr.astype(np.uint8, copy=False), axis=1)


def unpack_bits(packed: Any, n_bits: int) -> np.ndarray:
    """Inverse of :func:`pack_bits`: ``(n, B)`` uint8 -> ``(n, n_bits)`` uint8 {0, 1}.

    ``B`` must equal ``ceil(n_bits / 8)``; the pad bits are dropped.
    """
    arr = _as_numpy(packed)
    if arr.ndim != 2:
        raise ValueError(f"packed must be 2-D (n, B), got shape {arr.shape}")
    if arr.dtype != np.uint8:
        raise ValueError(f"packed must be uint8, got dtype {arr.dtype}")
    width = n_bytes_for(n_bits)
    if arr.shape[1] != width:
        raise ValueError(
            f"packed width {arr.shape[1]} bytes does not match n_bits={n_bits} "
            f"(expected {width} bytes)"
        )
    return np.unpackbits(arr, axis=1, count=int(n_bits))


def encode_signs(h: Any) -> np.ndarray:
    """Packed codes of ``sign(h)``: ``pack_bits(binarize(h))``."""
    return pack_bits(binarize(h))
