"""An index on disk: one ``.npz`` of plain arrays plus a JSON header, with a sha256.

Members (``np.load(allow_pickle=False)`` reads them; nothing is pickled):

* ``header``: UTF-8 JSON as uint8: ``format`` ("dmh-index"), ``version``, ``n_bits``,
  ``count``, ``run``, ``config_key``, ``config_name``, ``weights_sha256``, ``sources``,
  ``identities`` and ``sha256``;
* ``codes`` (N, ceil(n_bits/8)) uint8, ``ids`` (N,) int64 (0..N-1, the ranking order of
  ties), ``labels`` (N,) int64;
* ``key_bytes`` uint8 and ``key_offsets`` (N+1,) int64: the keys, UTF-8, concatenated.

``sha256`` covers the header without itself (sorted-key JSON) and each array's name,
dtype, shape and bytes; it is checked on every load, and any mismatch, missing member,
foreign file or other version is a one-line error naming the file and the fix.
"""
from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np

from ..core.atomic import atomic_write
from .faceindex import FaceIndex

FORMAT, VERSION = "dmh-index", 1
ARRAYS = ("codes", "ids", "labels", "key_bytes", "key_offsets")


def _fix(path: Path) -> str:
    return f"rebuild it with `dmh index build RUN FOLDER --out {path}`"


def pack_strings(strings: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Strings -> (uint8 UTF-8 bytes, int64 offsets of length n + 1)."""
    encoded = [s.encode("utf-8") for s in strings]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(e) for e in encoded])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8).copy(), offsets


def unpack_strings(data: np.ndarray, offsets: np.ndarray) -> list[str]:
    raw = data.tobytes()
    return [raw[a:b].decode("utf-8") for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]


def content_sha256(header: dict, arrays: dict[str, np.ndarray]) -> str:
    """sha256 of the header (less ``sha256``) and of every array in ``ARRAYS``."""
    h = hashlib.sha256()
    h.update(json.dumps({k: v for k, v in header.items() if k != "sha256"}, sort_keys=True,
                        separators=(",", ":")).encode())
    for name in ARRAYS:
        arr = np.ascontiguousarray(arrays[name])
        h.update(f"|{name}:{arr.dtype.str}:{arr.shape}|".encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def save_index(index: FaceIndex, path: Path) -> None:
    """Write ``index`` to ``path`` atomically (a reader never sees half a file)."""
    key_bytes, key_offsets = pack_strings(index.keys)
    arrays = dict(codes=index.codes, ids=index.ids, labels=index.labels,
                  key_bytes=key_bytes, key_offsets=key_offsets)
    header = dict(format=FORMAT, version=VERSION, n_bits=index.n_bits, count=len(index),
                  run=index.run, config_key=index.config_key, config_name=index.config_name,
                  weights_sha256=index.weights_sha256, sources=index.sources,
                  identities=index.identities)
    header["sha256"] = content_sha256(header, arrays)
    blob = np.frombuffer(json.dumps(header, sort_keys=True).encode(), dtype=np.uint8)
    atomic_write(Path(path), lambda f: np.savez(f, header=blob, **arrays), mode="wb")


def load_index(path: Path) -> FaceIndex:
    """The index at ``path``, its checksum verified; a one-line ValueError otherwise."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no index there; build one with "
                                f"`dmh index build RUN FOLDER --out {path}`")
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [m for m in ("header",) + ARRAYS if m not in z.files]
            if not missing:
                header = json.loads(z["header"].tobytes().decode("utf-8"))
                arrays = {name: z[name] for name in ARRAYS}
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as e:
        # np.load refuses pickled (object) arrays with a ValueError; JSON errors are ValueErrors
        why = f"{type(e).__name__}: {e}".splitlines()[0]
        raise ValueError(f"{path}: not a readable dmh index ({why}); {_fix(path)}") from None
    if missing:
        raise ValueError(f"{path}: not a dmh index (no {', '.join(missing)}); {_fix(path)}")
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"{path}: not a dmh index (no {FORMAT} header); {_fix(path)}")
    if header.get("version") != VERSION:
        raise ValueError(f"{path}: index format version {header.get('version')}, this dmh reads "
                         f"version {VERSION}; {_fix(path)}")
    if header.get("sha256") != content_sha256(header, arrays):
        raise ValueError(f"{path}: checksum mismatch (damaged or edited); {_fix(path)}")
    try:
        n = int(header["count"])
        if not np.array_equal(arrays["ids"], np.arange(n)):
            raise ValueError("face ids are not 0..N-1")
        return FaceIndex(codes=arrays["codes"],
                         keys=unpack_strings(arrays["key_bytes"], arrays["key_offsets"]),
                         labels=arrays["labels"], identities=list(header["identities"]),
                         n_bits=int(header["n_bits"]), run=header["run"],
                         config_key=header["config_key"], config_name=header["config_name"],
                         weights_sha256=header["weights_sha256"], sources=list(header["sources"]))
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"{path}: inconsistent dmh index ({e}); {_fix(path)}") from None
