"""The DDH releases of YouTube Faces / FaceScrub: a pickled `(x, y)`.

`x` holds rows of flattened 3x32x32 uint8 images (channel-major, as the release's Theano
code reshapes them), `y` the identity labels. They are Python-2 pickles, hence latin1.

A pickle can name any callable to run on load, so these files are read by
`safe_pickle.safe_loads`: numeric arrays, lists, tuples and numbers only; nothing in the
file runs.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from .faceset import FaceSet
from .safe_pickle import safe_loads


def load_ddh_pickle(path: Path, *, name: str | None = None, size: int = 32) -> FaceSet:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"DDH pickle not found: {path}; pass the path of the released "
                                f"(x, y) .pkl file")
    blob = path.read_bytes()
    try:
        obj = safe_loads(blob)
        x, y = obj
    except Exception as e:
        why = " ".join(str(e).split())  # one line, whatever the pickle module said
        raise ValueError(f"{path} is not a pickled (x, y) pair as in the DDH releases: {why}") from None
    x = np.asarray(x)
    y = np.asarray(y).reshape(-1)
    n_pix = 3 * size * size
    if x.ndim != 2 or x.shape[1] != n_pix or len(x) != len(y):
        raise ValueError(f"{path}: expected x of shape (N, {n_pix}) (flattened 3x{size}x{size}) and "
                         f"y of shape (N,), got {x.shape} and {y.shape}")
    if x.dtype != np.uint8:
        if x.min() < 0 or x.max() > 255:
            raise ValueError(f"{path}: pixel values outside 0..255; expected uint8 images")
        # some releases store floats in 0..1
        x = (x * 255.0).round() if x.max() <= 1.0 else x
        x = x.astype(np.uint8)
    identities_raw = np.unique(y)
    labels = np.searchsorted(identities_raw, y).astype(np.int64)
    return FaceSet(x.reshape(-1, 3, size, size).copy(), labels,
                   [str(v) for v in identities_raw], [f"index:{i}" for i in range(len(y))],
                   hashlib.sha256(blob).hexdigest(), name or path.stem)
