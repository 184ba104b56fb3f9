"""Per-dataset face crop, resize and channel handling for one decoded image.

`decode_face` takes the bytes of any still-image format Pillow reads (JPEG, PNG, GIF, BMP,
TIFF, WebP, ...; the first frame of an animation) and:

- refuses images over `MAX_PIXELS` from the header, before any pixel is decoded;
- applies the EXIF Orientation tag (phone photos are stored sideways);
- brings every pixel mode to 8 bits by scaling, never clipping: 16-bit (`I;16*`, `I`)
  0..65535 -> 0..255; float (`F`) 0..1 -> 0..255 when all values lie in 0..1, else
  0..255 kept; transparency (`RGBA`, `LA`, `PA`, palette or single-colour transparency)
  is composited over white; `P`, `1`, `CMYK`, `YCbCr` go through Pillow's own conversion.

Anything wrong with the bytes raises `ImageError` (a ValueError) whose `kind` says why.
"""
from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# The largest image decoded: 40 megapixels (a 7300x5500 photo). A larger one is refused from
# its header, before Pillow allocates it: a 13000x13000 image would take ~1.5 GB.
MAX_PIXELS = 40_000_000
# Formats Pillow registers but that would run another program (EPS: Ghostscript) or that it
# can only identify, not decode.
_REFUSED_FORMATS = {"EPS", "BUFR", "GRIB", "HDF5", "MPEG", "WMF"}
_ALPHA_MODES = {"RGBA", "RGBa", "LA", "La", "PA"}


class ImageError(ValueError):
    """Bytes that do not decode to a usable image. `kind` is one of "not an image",
    "corrupt image", "too large"; the message is one line, `<kind>: <detail>`."""

    def __init__(self, kind: str, detail: str):
        super().__init__(f"{kind}: {' '.join(detail.split())}")
        self.kind = kind


@cache
def image_formats() -> tuple[str, ...]:
    """The Pillow formats `decode_face` opens."""
    Image.init()
    return tuple(sorted(f for f in Image.OPEN if f not in _REFUSED_FORMATS))


@cache
def image_suffixes() -> frozenset[str]:
    """Lower-case file suffixes of `image_formats()` (".jpg", ".png", ".gif", ".tif", ...)."""
    ok = set(image_formats())
    return frozenset(ext for ext, fmt in Image.registered_extensions().items() if fmt in ok)


@dataclass(frozen=True)
class Crop:
    """How to cut the face out of a source image.

    Args:
        box: fixed (left, top, right, bottom) box in pixels, for aligned sets (LFW:
            the face sits in the centre of 250x250), or None.
        center_fraction: else a centred square of this fraction of the shorter side
            (loose crops such as Pins); None keeps the whole frame (aspect not kept).
    """

    box: tuple[int, int, int, int] | None = None
    center_fraction: float | None = 1.0

    def box_in(self, w: int, h: int) -> tuple[int, int, int, int] | None:
        """The (left, top, right, bottom) box cut from a w x h image; None: the whole frame."""
        if self.box is not None:
            return tuple(self.box)
        if self.center_fraction is None:
            return None
        s = max(1, int(round(min(w, h) * self.center_fraction)))
        left, top = (w - s) // 2, (h - s) // 2
        return left, top, left + s, top + s

    def tighter(self, fraction: float) -> "Crop":
        """The centred `fraction` (0 < fraction <= 1) of this crop: a tighter cut around the
        same centre (a fixed box shrunk about its middle, or a smaller centred square)."""
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
        if self.box is not None:
            left, top, right, bottom = self.box
            dx, dy = round((right - left) * (1 - fraction) / 2), round((bottom - top) * (1 - fraction) / 2)
            return Crop(box=(left + dx, top + dy, right - dx, bottom - dy))
        if self.center_fraction is None:
            raise ValueError("the whole frame has no centre crop to tighten")
        return Crop(center_fraction=self.center_fraction * fraction)

    def apply(self, im: Image.Image) -> Image.Image:
        box = self.box_in(*im.size)
        return im if box is None else im.crop(box)


def _too_large(pixels: int, what: str) -> ImageError:
    return ImageError("too large", f"{what}{pixels / 1e6:.1f} megapixels, over the "
                                   f"{MAX_PIXELS / 1e6:g} megapixel limit (MAX_PIXELS)")


def _scaled(a: np.ndarray, mode: str) -> np.ndarray:
    """16-bit or float pixels -> uint8 by scaling (see the module docstring)."""
    a = a.astype(np.float64)
    if not np.isfinite(a).all():
        raise ImageError("corrupt image", f"mode {mode} image holds NaN or infinite pixels")
    lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)
    if mode == "F":
        if lo < 0 or hi > 255:
            raise ImageError("corrupt image", f"float pixels in {lo:g}..{hi:g}, expected 0..1 "
                                              f"or 0..255; save it as 8-bit")
        scale = 255.0 if hi <= 1 else 1.0
    else:
        if lo < 0 or hi > 65535:
            raise ImageError("corrupt image", f"32-bit pixels in {lo:g}..{hi:g}, expected "
                                              f"0..65535; save it as 8- or 16-bit")
        scale = 1 / 257  # 65535 -> 255
    return np.rint(a * scale).astype(np.uint8)


def _over_white(im: Image.Image) -> Image.Image:
    """Composite a transparent image over white: round((c * a + 255 * (255 - a)) / 255)."""
    rgba = np.asarray(im.convert("RGBA"), dtype=np.uint32)
    a = rgba[..., 3:]
    rgb = (rgba[..., :3] * a + 255 * (255 - a) + 127) // 255
    return Image.fromarray(rgb.astype(np.uint8))


def to_8bit(im: Image.Image, channels: int = 3) -> Image.Image:
    """Any Pillow mode -> "L" (channels=1) or "RGB", scaling 16-bit and float pixels."""
    mode = im.mode
    if mode in ("I", "F") or mode.startswith("I;16"):
        im = Image.fromarray(_scaled(np.asarray(im), mode))
    elif mode in _ALPHA_MODES or "transparency" in im.info:
        im = _over_white(im)
    return im.convert("L" if channels == 1 else "RGB")


def _decode(data: bytes, crop: Crop, size: int, channels: int, method) -> np.ndarray:
    with Image.open(io.BytesIO(data), formats=image_formats()) as im:
        w, h = im.size
        if w * h > MAX_PIXELS:
            raise _too_large(w * h, f"{w}x{h} = ")
        im = ImageOps.exif_transpose(im)
        im = crop.apply(to_8bit(im, channels)).resize((size, size), method)
        return np.asarray(im, dtype=np.uint8)


def decode_face(data: bytes, crop: Crop, size: int = 32, channels: int = 3,
                resample: str = "box") -> np.ndarray:
    """Image bytes -> (channels, size, size) uint8. Gray sources repeat to 3 channels.

    `resample="box"` averages every source pixel (the right anti-aliasing for training
    crops); "bilinear" reproduces the measure the Pins near-duplicate count was made with.
    Raises `ImageError` for bytes that are not a usable image.
    """
    method = Image.Resampling[resample.upper()]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the outcome is an array or an ImageError
            arr = _decode(data, crop, size, channels, method)
    except ImageError:
        raise
    except Image.DecompressionBombError as e:  # Pillow's own check, inside Image.open
        m = re.search(r"\((\d+) pixels\)", str(e))
        raise (_too_large(int(m.group(1)), "") if m else ImageError("too large", str(e))) from None
    except UnidentifiedImageError:
        raise ImageError("not an image", "no image format recognised (or its header is corrupt)") from None
    except Exception as e:  # Pillow raises many types (OSError, SyntaxError, struct.error...)
        raise ImageError("corrupt image", f"{type(e).__name__}: {e}") from None
    if channels == 1:
        return arr[None]
    return np.ascontiguousarray(arr.transpose(2, 0, 1))
