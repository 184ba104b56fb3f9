"""dlib's 128-d face descriptor of the networks' own input: each (3, S, S) crop (32x32 in
the paper protocol) upsampled to dlib's chip side, its 5 landmarks found there and the
descriptor computed as dlib computes it on a photo. What a network trained on ~3 million
faces gets from the pixels the hashing networks read: where that is far above them, the
pixels are not their ceiling.

Cached under `cache_root()/dlib/` in chunks of `CHUNK` crops, each keyed by a hash of its
pixels and the settings (npz, read without pickle; a damaged chunk is computed again), so
an interrupted pass resumes and the gallery, which is also the training set, is described
once.
"""
from __future__ import annotations

import hashlib
import sys
import time

import numpy as np
from PIL import Image

from ..core.paths import cache_root
from .detect import _dlib, _predictor, load_models
from .chunk_cache import cached_chunks
from .dlib_faces import _encoder

CHUNK = 500
# dlib's face chips are 150x150: the crop is brought to that side before its landmarks are
# found, so the predictor and the descriptor see a face of the size they were trained on.
UPSAMPLE_TO = 150
SETTINGS = f"dlib_face_recognition_resnet_model_v1 bicubic {UPSAMPLE_TO}px num_jitters=0"


def describe_crop(chw: np.ndarray) -> np.ndarray:
    """(128,) float32: dlib's descriptor of one (3, S, S) uint8 crop, upsampled to
    `UPSAMPLE_TO` pixels, its landmarks found inside the whole frame."""
    rgb = Image.fromarray(np.ascontiguousarray(chw.transpose(1, 2, 0)), "RGB")
    big = np.ascontiguousarray(np.asarray(rgb.resize((UPSAMPLE_TO, UPSAMPLE_TO), Image.BICUBIC)))
    shape = _predictor()(big, _dlib().rectangle(0, 0, UPSAMPLE_TO - 1, UPSAMPLE_TO - 1))
    return np.asarray(_encoder().compute_face_descriptor(big, shape), dtype=np.float32)


def _chunk(images: np.ndarray, path):
    def fits(got: dict) -> bool:
        return got["descriptors"].shape == (len(images), 128) and got["descriptors"].dtype == np.float32

    return path, fits, lambda: {"descriptors": np.stack([describe_crop(im) for im in images])}


def crop_descriptors(images: np.ndarray, name: str = "crops",
                     report=lambda line: print(line, file=sys.stderr)) -> np.ndarray:
    """(N, 128) float32 descriptors of (N, 3, S, S) uint8 crops, in their order; `name`
    prefixes the cache files and the progress lines."""
    if images.ndim != 4 or images.shape[1] != 3 or images.dtype != np.uint8:
        raise ValueError(f"crop descriptors need (N, 3, S, S) uint8 RGB crops, got {images.dtype} "
                         f"{images.shape}")
    load_models()
    folder, t, chunks = cache_root() / "dlib", time.perf_counter(), []
    for i in range(0, len(images), CHUNK):
        part = np.ascontiguousarray(images[i:i + CHUNK])
        key = hashlib.sha256(SETTINGS.encode() + repr(part.shape).encode() + part.tobytes()).hexdigest()[:20]
        chunks.append(_chunk(part, folder / f"{name}-crop-{key}.npz"))
    out = [c["descriptors"] for c in cached_chunks(chunks, report, lambda i: report(
        f"dlib descriptors of {name}: chunk {i + 1}/{len(chunks)} of {CHUNK} crops computed "
        f"({time.perf_counter() - t:.0f} s)"))]
    return np.concatenate(out) if out else np.zeros((0, 128), np.float32)


__all__ = ["CHUNK", "UPSAMPLE_TO", "crop_descriptors", "describe_crop"]
