"""Packs: a decoded `FaceSet` in one compressed `.npz`, for machines without the raw images.

A pack is a verbatim snapshot of what `load_dataset` decodes (images, labels, identities,
keys) plus the checksum of the source files, so a split made from the originals applies to
it unchanged. It carries a sha256 of its own arrays, checked on every read. Packs are never
committed (they are derived arrays); `dmh pack` writes them and `$DMH_PACKS` points at them.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from ..core.atomic import atomic_write
from ..core.paths import packs_root
from .faceset import FaceSet

FORMAT = "dmh-pack-v1"


def pack_name(name: str, size: int, channels: int, min_images: int) -> str:
    return f"{name}-{size}px-{channels}c-min{min_images}.npz"


def _array_digest(images: np.ndarray, labels: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in (images, labels):
        h.update(str(a.shape).encode() + str(a.dtype).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def write_pack(fs: FaceSet, path: Path, *, min_images: int) -> Path:
    meta = {"format": FORMAT, "name": fs.name, "identities": fs.identities, "keys": fs.keys,
            "checksum": fs.checksum, "min_images": min_images,
            "array_sha256": _array_digest(fs.images, fs.labels)}
    atomic_write(Path(path), lambda f: np.savez_compressed(
        f, images=fs.images, labels=fs.labels, meta=np.array(json.dumps(meta))), mode="wb")
    return Path(path)


def read_pack(path: Path) -> FaceSet:
    path = Path(path)
    fix = f"delete {path} and write it again with `dmh pack`"
    try:
        with np.load(path, allow_pickle=False) as z:
            images, labels, meta = z["images"], z["labels"], json.loads(str(z["meta"]))
    except Exception as e:  # zip, key and JSON errors all mean the same thing here
        raise ValueError(f"{path} is not a readable dmh pack ({e}); {fix}") from e
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: pack format {meta.get('format')!r}, expected {FORMAT!r}; {fix}")
    if _array_digest(images, labels) != meta["array_sha256"]:
        raise ValueError(f"{path}: its arrays do not match their recorded sha256 (corrupt copy); {fix}")
    return FaceSet(images, labels, meta["identities"], meta["keys"], meta["checksum"], meta["name"])


def packed(name: str, size: int, channels: int, min_images: int) -> FaceSet | None:
    """The pack for these settings under `$DMH_PACKS`, if that is set and holds one."""
    root = packs_root()
    if root is None:
        return None
    path = root / pack_name(name, size, channels, min_images)
    return read_pack(path) if path.is_file() else None
