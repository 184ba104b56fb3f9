"""Find faces in a photo: dlib's HOG frontal detector and its 5-point shape predictor.

`open_photo` decodes a photo the one way the project decodes images (`decode_face`: header
size check, EXIF Orientation applied, every pixel mode brought to 8-bit RGB), at full size.
`find_faces` never lets the detector scan more than `DETECT_PIXELS` (upsampling included;
~0.5-1 s on one core): a photo up to 1 megapixel is upsampled once, 2x (faces of ~40
pixels and up), one up to 4 megapixels is scanned as it is (~80 pixels and up), a larger
one as a box-downscaled copy (a 12-megapixel photo: faces of ~140 pixels and up). When
that finds nothing in a photo small enough, it looks again upsampled up to 8x (faces down
to ~10 pixels in a 250x250 photo, ~20 in a 500x500), so that a face too small to use is
reported as such rather than as no face. Landmarks are always placed on the full-size
photo. A face whose box is under `MIN_FACE` pixels on a side is refused (`FaceError`,
kind "face too small", the size stated).

The models come from the `face_recognition_models` package (installed files; nothing is
downloaded). Its module imports `pkg_resources`, so the files are located from the package's
install folder without importing it.
"""
from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image

from .preprocess import ImageError, decode_face

# The smallest face used: a box under this many pixels on a side holds too little to align.
MIN_FACE = 20
# Upsampling once finds faces of ~40 pixels and up (the detector's window is 80x80).
UPSAMPLE = 1
# The most pixels the detector scans, upsampled: it bounds the time per photo. The no-face
# fallback upsamples (2x per step, at most 3 steps) within it too: a 250x250 photo gets all
# 3 (~1 s on one core, paid only by photos where the first pass found no face).
DETECT_PIXELS = 4_000_000
INSTALL_HINT = "pip install dlib-bin face_recognition_models (see requirements.txt)"


class FaceError(ImageError):
    """A photo without a usable face. `kind` is "no face" or "face too small"; the message
    is one line, `<kind>: <detail>`. An `ImageError`, so that `decode_face` passes it on
    unchanged from a crop that detects (`faces.AlignedCrop`) and loaders list it as a
    skipped file's reason."""


class Face(NamedTuple):
    """One detected face: its box (left, top, right, bottom) in pixels of the upright photo
    (it may reach past the photo's edges) and its 5 landmarks (5, 2) as (x, y) pixel
    centres: outer and inner corner of the eye on the image's right, outer and inner corner
    of the other eye, the base of the nose."""

    box: tuple[int, int, int, int]
    landmarks: np.ndarray

    @property
    def side(self) -> int:
        left, top, right, bottom = self.box
        return min(right - left, bottom - top)


def model_file(name: str) -> Path:
    """The path of a model file shipped in `face_recognition_models/models/`."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"face detection needs face_recognition_models: {INSTALL_HINT}")
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / name
    if not path.is_file():
        raise ImportError(f"{path} is missing; reinstall face_recognition_models ({INSTALL_HINT})")
    return path


def _dlib():
    try:
        import dlib
    except ImportError:
        raise ImportError(f"face detection needs dlib: {INSTALL_HINT}") from None
    return dlib


@cache
def _detector():
    return _dlib().get_frontal_face_detector()


@cache
def _predictor():
    return _dlib().shape_predictor(str(model_file("shape_predictor_5_face_landmarks.dat")))


@dataclass(frozen=True)
class _WholeFrame:
    """A `Crop` that keeps the decoded frame aside and hands `decode_face` a 1x1 image, so
    that a photo is opened by the project's one decoder at full size."""

    kept: list

    def apply(self, im):
        self.kept.append(np.array(im, dtype=np.uint8))
        return im.crop((0, 0, 1, 1))


def open_photo(data: bytes) -> np.ndarray:
    """Image bytes -> (H, W, 3) uint8 RGB, upright. Raises `ImageError` like `decode_face`."""
    kept: list = []
    decode_face(data, _WholeFrame(kept), size=1, channels=3)
    return kept[0]


def _steps(shape: tuple[int, ...], most: int) -> int:
    """The most 2x upsampling steps (up to `most`) that keep the image within DETECT_PIXELS."""
    n = 0
    while n < most and shape[0] * shape[1] * 4 ** (n + 1) <= DETECT_PIXELS:
        n += 1
    return n


def load_models() -> None:
    """Load the detector and the shape predictor now; ImportError, with how to install
    them, when they are missing."""
    _detector(), _predictor()


def find_faces(rgb: np.ndarray) -> list[Face]:
    """Every face dlib finds in an (H, W, 3) RGB or (H, W) gray uint8 photo, largest box
    first, small ones included (see `usable`)."""
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    scale = min(1.0, math.sqrt(DETECT_PIXELS / (h * w)))
    small = rgb if scale == 1 else np.asarray(Image.fromarray(rgb).resize(
        (max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BOX))
    up = _steps(small.shape, UPSAMPLE)
    rects = list(_detector()(small, up))
    if not rects and (n := _steps(small.shape, 3)) > up:
        rects = list(_detector()(small, n))
    dlib, faces = _dlib(), []
    for r in rects:
        if scale != 1:
            r = dlib.rectangle(*(round(v / scale)
                                 for v in (r.left(), r.top(), r.right(), r.bottom())))
        shape = _predictor()(rgb, r)
        pts = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)
        faces.append(Face((r.left(), r.top(), r.right(), r.bottom()), pts))
    return sorted(faces, key=lambda f: (-(f.box[2] - f.box[0]) * (f.box[3] - f.box[1]), f.box))


def usable(faces: list[Face], every: bool = False) -> list[Face]:
    """The largest face (`every`: each face of at least `MIN_FACE` pixels). Raises
    `FaceError` when there is no face, or no face large enough."""
    if not faces:
        raise FaceError("no face", "none found (it finds frontal faces of ~40 pixels and up, "
                                   "~10-20 in photos up to 500x500, more over 1 megapixel)")
    big = [f for f in faces if f.side >= MIN_FACE] if every else faces[:1]
    if not big or big[0].side < MIN_FACE:
        f = faces[0]
        w, h = f.box[2] - f.box[0], f.box[3] - f.box[1]
        raise FaceError("face too small", f"{w}x{h} pixels (the largest found), under the "
                                          f"{MIN_FACE}-pixel minimum")
    return big


__all__ = ["DETECT_PIXELS", "Face", "FaceError", "ImageError", "MIN_FACE", "UPSAMPLE",
           "find_faces", "load_models", "model_file", "open_photo", "usable"]
