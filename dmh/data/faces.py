"""Faces of real photos, detected and aligned: one photo (`faces_from_photo`) or a folder
`<root>/<identity>/<image>` (`load_aligned_folder`, a `FaceSet` like `load_dataset`'s).

Detection (`detect.py`): dlib's HOG frontal detector and 5-point shape predictor, the
largest face by default. Alignment (`align.py`): a least-squares similarity onto a 5-point
template framed like the LFW training crops. Photos are decoded by `decode_face` (EXIF
Orientation applied, every pixel mode to 8 bits; a gray photo repeats to 3 channels).

A photo without a usable face is skipped and named with its reason: `no face`, or
`face too small: WxH pixels (the largest found), under the 20-pixel minimum`, beside the
image reasons of `identity_folder` (not an image, corrupt image, too large, ...);
`strict=True` raises ValueError on the first instead.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..core.paths import data_root
from .align import MAX_SUPERSAMPLE, TEMPLATE, align_face, warp
from .datasets import DATASETS
from .detect import (DETECT_PIXELS, MIN_FACE, UPSAMPLE, Face, find_faces, load_models,
                     open_photo, usable)
from .faceset import FaceSet, shown
from .identity_folder import load_identity_folder
from .preprocess import ImageError


def _settings() -> str:
    """Everything the aligned crops depend on besides the bytes and the size (a cache key)."""
    import dlib

    return (f"template={np.round(TEMPLATE, 4).tolist()} upsample={UPSAMPLE} "
            f"detect_pixels={DETECT_PIXELS} min_face={MIN_FACE} supersample={MAX_SUPERSAMPLE} "
            f"dlib={dlib.__version__} v1")


@dataclass(frozen=True)
class AlignedCrop:
    """A `Crop` for `decode_face` and `load_identity_folder` that detects the largest face
    and aligns it at `size`; its repr (part of the folder cache's key) holds `_settings()`.
    Raises `FaceError` (an `ImageError`) for a photo without a usable face."""

    size: int
    settings: str = field(default_factory=_settings)

    def apply(self, im):
        face = usable(find_faces(np.asarray(im)))[0]
        return warp(im, face.landmarks, self.size)


def aligned_faces(data: bytes, size: int, every: bool = False) -> list[tuple[np.ndarray, Face]]:
    """Photo bytes -> [(aligned (3, size, size) uint8, Face)], largest face first. Raises
    `ImageError` (a `FaceError` when no face is usable)."""
    rgb = open_photo(data)
    return [(align_face(rgb, f.landmarks, size), f) for f in usable(find_faces(rgb), every)]


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr)


def faces_from_photo(path, size: int = 32, *, every: bool = False, strict: bool = False,
                     report: Callable[[str], None] | None = _to_stderr,
                     ) -> list[tuple[np.ndarray, tuple[int, int, int, int]]]:
    """The face of a photo file (`every`: each face of at least `MIN_FACE` pixels, largest
    first), aligned: [(uint8 (3, size, size), box (left, top, right, bottom) in pixels of
    the upright photo; it may reach past the edges)].

    A photo without a usable face (unreadable, not an image, no face found, the largest face
    under `MIN_FACE` pixels) gives [] and one line `<path>: <reason>; skipped` to `report`;
    `strict=True` raises ValueError `<path>: <reason>` instead. ImportError when dlib or
    the models are not installed.
    """
    load_models()
    path = Path(path)
    try:
        if not path.is_file():
            raise ImageError("unreadable", "not a file")
        found = aligned_faces(path.read_bytes(), size, every)
    except (ImageError, OSError) as e:
        why = f"unreadable: {e.strerror}" if isinstance(e, OSError) and e.strerror else str(e)
        if strict:
            raise ValueError(f"{shown(path)}: {why}") from None
        if report is not None:
            report(f"{shown(path)}: {why}; skipped")
        return []
    return [(arr, face.box) for arr, face in found]


def load_aligned_folder(root, size: int = 32, *, min_images: int = 1, strict: bool = False,
                        use_cache: bool = True,
                        report: Callable[[str], None] | None = _to_stderr) -> FaceSet:
    """The largest face of every image under `root/<identity>/`, aligned, as a `FaceSet`
    (3 channels); `root` may be a dataset name (`lfw`, `pins`: their raw images, never a pack).

    As `load_identity_folder` (same skip rules, `FaceSet.skipped`, stderr summary, `strict`,
    a cache under `cache_root()` keyed by every file's bytes and the alignment settings,
    written atomically), with photos without a usable face skipped and listed too.
    Detection takes ~30 photos/s of 250x250 on one core (~1 s for one with no face).
    """
    load_models()
    spec = DATASETS.get(str(root))
    if spec is not None:
        name, path, ident = f"{root}-aligned", data_root() / spec.subdir, spec.identity_name
    else:
        path = Path(root)
        name, ident = f"{path.name}-aligned", (lambda d: d)
    return load_identity_folder(path, name=name, crop=AlignedCrop(size), size=size, channels=3,
                                identity_name=ident, min_images=min_images, resample="box",
                                use_cache=use_cache, strict=strict, report=report)


__all__ = ["AlignedCrop", "aligned_faces", "faces_from_photo", "load_aligned_folder"]
