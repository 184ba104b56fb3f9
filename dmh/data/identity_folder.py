"""Load an identity-folder dataset: `root/<identity>/<image>` (LFW, Pins, a user's faces).

Decoded arrays are cached outside the repo, keyed by a sha256 over every file's bytes and
the preprocessing, so a second load only reads and hashes the files.
"""
from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import numpy as np

from ..core.atomic import atomic_write
from ..core.paths import cache_root
from .faceset import FaceSet
from .preprocess import Crop, decode_face

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".ppm", ".webp")
GET_DATA_HELP = "see data/README.md for where to get LFW and Pins, and set DMH_DATA to the folder holding them"


def scan_identity_folder(root: Path, identity_name: Callable[[str], str] = lambda d: d,
                         min_images: int = 1) -> list[tuple[str, str]]:
    """Sorted (relative path, identity) pairs of the images under `root/<identity>/`.

    Raises FileNotFoundError for a missing root and ValueError for an identity folder with
    no images, naming the path.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"face folder not found: {root}; {GET_DATA_HELP}")
    items: list[tuple[str, str]] = []
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        files = sorted(f.name for f in d.iterdir()
                       if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise ValueError(f"identity folder has no images: {d}; remove it or add its images")
        if len(files) >= min_images:
            identity = identity_name(d.name)
            items.extend((f"{d.name}/{f}", identity) for f in files)
    if not items:
        raise ValueError(f"no identity folders with images under {root}; expected "
                         f"<root>/<identity>/<image>.jpg; {GET_DATA_HELP}")
    return items


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise OSError(f"cannot read image {path}: {e}; check the file or re-fetch the dataset") from e


def load_identity_folder(root: Path, *, name: str, crop: Crop, size: int = 32, channels: int = 3,
                         identity_name: Callable[[str], str] = lambda d: d, min_images: int = 1,
                         resample: str = "box", use_cache: bool = True) -> FaceSet:
    """Decode every image of identities with >= `min_images` images into a `FaceSet`."""
    root = Path(root)
    items = scan_identity_folder(root, identity_name, min_images)
    paths = [root / rel for rel, _ in items]
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        blobs = list(pool.map(_read, paths))
    h = hashlib.sha256()
    for (rel, _), blob in zip(items, blobs):
        h.update(rel.encode() + b"\0" + hashlib.sha256(blob).digest())
    content = h.hexdigest()
    key = hashlib.sha256(f"{content}|{crop}|{size}|{channels}|{resample}|v1".encode()).hexdigest()[:24]
    cache_file = cache_root() / f"{name}-{size}px-{channels}c-{key}.npy"
    images = None
    if use_cache and cache_file.exists():
        images = np.load(cache_file, allow_pickle=False)
        if images.shape != (len(items), channels, size, size):
            images = None  # stale or foreign file: decode again
    if images is None:
        images = np.empty((len(items), channels, size, size), dtype=np.uint8)
        for i, (path, blob) in enumerate(zip(paths, blobs)):
            try:
                images[i] = decode_face(blob, crop, size, channels, resample)
            except Exception as e:  # PIL raises several types for broken files
                raise ValueError(f"unreadable image {path}: {e}; delete or replace it") from e
        if use_cache:
            atomic_write(cache_file, lambda f: np.save(f, images), mode="wb")
    identities = sorted({ident for _, ident in items})
    index = {n: i for i, n in enumerate(identities)}
    labels = np.array([index[ident] for _, ident in items], dtype=np.int64)
    return FaceSet(images, labels, identities, [rel for rel, _ in items], content, name)
