"""The DDH releases of YouTube Faces / FaceScrub: a pickled `(x, y)`.

`x` holds rows of flattened 3x32x32 uint8 images (channel-major, as the release's Theano
code reshapes them), `y` the identity labels. They are Python-2 pickles, hence latin1.

A pickle can name any callable to run on load, so these files are read by an unpickler that
resolves only the few numpy names an array needs (`_reconstruct`, `ndarray`, `dtype`,
`scalar`, and `_codecs.encode` for bytes); anything else is refused before it is imported, and nothing in the file runs.
"""
from __future__ import annotations

import codecs
import hashlib
import pickle
from pathlib import Path

import numpy as np

from .faceset import FaceSet

# What a pickled numpy array refers to, under the module names numpy 1 and 2 write.
try:
    from numpy._core import multiarray as _multiarray
except ImportError:  # numpy < 2
    from numpy.core import multiarray as _multiarray

_ALLOWED = {(mod, name): getattr(_multiarray if name in ("_reconstruct", "scalar") else np, name)
            for mod in ("numpy.core.multiarray", "numpy._core.multiarray", "numpy")
            for name in ("_reconstruct", "scalar", "ndarray", "dtype")
            if (mod == "numpy") == (name in ("ndarray", "dtype"))}
# Python 3 writes bytes at protocol 2 as _codecs.encode(text, "latin1"): it only makes bytes.
def _latin1_bytes(text: str, encoding: str = "latin1") -> bytes:
    if encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"refused to encode bytes with {encoding!r}")
    return codecs.encode(text, "latin1")


_ALLOWED[("_codecs", "encode")] = _latin1_bytes


class _ArrayUnpickler(pickle.Unpickler):
    """Admits arrays, lists, tuples, numbers and bytes; refuses every other global."""

    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        raise pickle.UnpicklingError(f"refused to load {module}.{name} (only numpy arrays, lists, "
                                     f"tuples, numbers and bytes are allowed)")


def safe_loads(blob: bytes):
    """`pickle.loads(blob, encoding="latin1")` restricted to array data."""
    import io

    return _ArrayUnpickler(io.BytesIO(blob), encoding="latin1").load()


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
        raise ValueError(f"{path} is not a pickled (x, y) pair as in the DDH releases: {e}") from e
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
