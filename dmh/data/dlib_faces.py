"""Every image of a named dataset through dlib once: the largest face's box and 5 landmarks,
and dlib's 128-d face descriptor (`dlib_face_recognition_resnet_model_v1`, shipped by
`face_recognition_models`; nothing is downloaded).

The practitioner's anchor (what `face_recognition.face_encodings` computes by default: no jitter) and
the aligned crops (`aligned_images`) both come from here. Every image gets a row, so the
anchor is scored on exactly the queries and gallery the networks are: where the HOG detector
finds no face, the landmarks are placed in the dataset's own crop box (the box the networks'
crops are cut from) and `found` is False; the share is reported.

Cached under `cache_root()/dlib/` in chunks of `CHUNK` images, keyed by the dataset's
content checksum, the chunk's image keys and the settings: an interrupted pass resumes at
its first missing chunk. Chunks are npz files read without pickle and checked against their
keys; a damaged one is computed again.
"""
from __future__ import annotations

import hashlib
import sys
import time
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image

from ..core.atomic import atomic_write
from ..core.paths import cache_root, data_root
from .align import warp
from .chunk_cache import cached_chunks
from .datasets import DATASETS, load_dataset
from .detect import _dlib, _predictor, find_faces, load_models, model_file, open_photo
from .faces import _settings
from .faceset import FaceSet
from .pack import packed

CHUNK = 500
# What this process has read already, by cache key (a run reads a dataset for several parts).
_LOADED: dict = {}
DESCRIPTOR_MODEL = "dlib_face_recognition_resnet_model_v1.dat"


@cache
def _encoder():
    return _dlib().face_recognition_model_v1(str(model_file(DESCRIPTOR_MODEL)))


@dataclass(frozen=True)
class DlibFaces:
    """Per image of a dataset, in its `FaceSet` order.

    Args:
        name: the dataset (`lfw`, `pins`).
        tag: the cache key of its content and the settings.
        keys: the FaceSet's image keys.
        found: (N,) whether the HOG detector found a face (else the crop box was used).
        boxes: (N, 4) int (left, top, right, bottom) in pixels of the upright photo.
        landmarks: (N, 5, 2) float (x, y), dlib's 5-point order.
        descriptors: (N, 128) float32, dlib's face embedding (compared by Euclidean distance).
    """

    name: str
    tag: str
    keys: list[str]
    found: np.ndarray
    boxes: np.ndarray
    landmarks: np.ndarray
    descriptors: np.ndarray

    def rows(self, keys: list[str]) -> np.ndarray:
        """Row indices of these image keys."""
        at = {k: i for i, k in enumerate(self.keys)}
        return np.array([at[k] for k in keys], dtype=np.int64)


def _one(rgb: np.ndarray, fallback: tuple[int, int, int, int]):
    faces = find_faces(rgb)
    dlib = _dlib()
    rect = dlib.rectangle(*faces[0].box) if faces else dlib.rectangle(*fallback)
    shape = _predictor()(rgb, rect)
    pts = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)
    desc = np.asarray(_encoder().compute_face_descriptor(rgb, shape), dtype=np.float32)
    return bool(faces), (rect.left(), rect.top(), rect.right(), rect.bottom()), pts, desc


def _chunk(root: Path, keys: list[str], crop, path: Path):
    def compute() -> dict:
        rows = []
        for k in keys:
            rgb = open_photo((root / k).read_bytes())
            h, w = rgb.shape[:2]
            rows.append(_one(rgb, crop.box_in(w, h) or (0, 0, w, h)))
        return {"keys": np.array(keys), "found": np.array([r[0] for r in rows]),
                "boxes": np.array([r[1] for r in rows], dtype=np.int64),
                "landmarks": np.stack([r[2] for r in rows]),
                "descriptors": np.stack([r[3] for r in rows])}

    return path, lambda got: got["keys"].tolist() == keys, compute


def dataset_faces(name: str, report=lambda line: print(line, file=sys.stderr)) -> DlibFaces:
    """dlib's landmarks and descriptor of every image of `lfw` or `pins` (raw images)."""
    if name not in DATASETS:
        raise ValueError(f"dlib faces are made for the named datasets {sorted(DATASETS)}, not {name!r}")
    load_models(), _encoder()
    spec = DATASETS[name]
    fs: FaceSet = load_dataset(name)
    settings = f"{_settings()} crop={spec.crop!r} descriptor={DESCRIPTOR_MODEL} num_jitters=0"
    tag = hashlib.sha256(f"{fs.checksum} {settings}".encode()).hexdigest()[:16]
    folder, root = cache_root() / "dlib", data_root() / spec.subdir
    if (tag, str(folder)) in _LOADED:
        return _LOADED[tag, str(folder)]
    chunks, t = [], time.perf_counter()
    for i in range(0, len(fs.keys), CHUNK):
        keys = fs.keys[i:i + CHUNK]
        khash = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:8]
        chunks.append(_chunk(root, keys, spec.crop, folder / f"{name}-{tag}-{i // CHUNK:03d}-{khash}.npz"))
    parts = cached_chunks(chunks, report, lambda i: report(
        f"dlib faces of {name}: chunk {i + 1}/{len(chunks)} of {CHUNK} images computed "
        f"({time.perf_counter() - t:.0f} s)"))
    cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    faces = DlibFaces(name, tag, cat["keys"].tolist(), cat["found"], cat["boxes"], cat["landmarks"],
                      cat["descriptors"])
    _LOADED[tag, str(folder)] = faces
    return faces


def aligned_images(faces: DlibFaces, size: int = 32) -> np.ndarray:
    """(N, 3, size, size) uint8: every image of the dataset aligned on its dlib landmarks
    (the template of `faces.AlignedCrop`), in `faces.keys` order; cached beside the chunks."""
    path = cache_root() / "dlib" / f"{faces.name}-{faces.tag}-aligned-{size}px.npy"
    shape = (len(faces.keys), 3, size, size)
    if path.exists():
        try:
            out = np.load(path, allow_pickle=False)
            if out.shape == shape and out.dtype == np.uint8:
                return out
        except (OSError, ValueError):
            pass
    root = data_root() / DATASETS[faces.name].subdir
    out = np.empty(shape, np.uint8)
    for i, k in enumerate(faces.keys):
        im = Image.fromarray(open_photo((root / k).read_bytes()))
        out[i] = np.asarray(warp(im, faces.landmarks[i], size).convert("RGB")).transpose(2, 0, 1)
    atomic_write(path, lambda f: np.save(f, out), mode="wb")
    return out


def load_aligned(name: str, *, size: int = 32, min_images: int = 1) -> FaceSet:
    """`lfw` or `pins` with each image swapped for its aligned crop: read from its aligned
    pack where `$DMH_PACKS` holds one (`dmh pack --face-crop aligned`, for machines without
    the raw images or dlib), else made here (cached)."""
    fs = packed(f"{name}-aligned", size, 3, min_images)
    if fs is not None:
        return fs
    return with_aligned_faces(load_dataset(name, size=size, min_images=min_images))[0]


def with_aligned_faces(*parts: FaceSet) -> tuple[FaceSet, ...]:
    """The parts (of `lfw` or `pins`) with each image replaced by its aligned crop; each
    dataset's aligned array is read once for all its parts."""
    aligned: dict = {}
    out = []
    for fs in parts:
        key = (fs.name, fs.images.shape[-1])
        if key not in aligned:
            faces = dataset_faces(fs.name)
            aligned[key] = faces, aligned_images(faces, fs.images.shape[-1])
        faces, images = aligned[key]
        out.append(replace(fs, images=images[faces.rows(fs.keys)]))
    return tuple(out)


__all__ = ["CHUNK", "DlibFaces", "aligned_images", "dataset_faces", "load_aligned", "with_aligned_faces"]
