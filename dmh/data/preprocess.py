"""Per-dataset face crop, resize and channel handling for one decoded image."""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image


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

    def apply(self, im: Image.Image) -> Image.Image:
        if self.box is not None:
            return im.crop(self.box)
        if self.center_fraction is None:
            return im
        w, h = im.size
        s = max(1, int(round(min(w, h) * self.center_fraction)))
        left, top = (w - s) // 2, (h - s) // 2
        return im.crop((left, top, left + s, top + s))


def decode_face(data: bytes, crop: Crop, size: int = 32, channels: int = 3,
                resample: str = "box") -> np.ndarray:
    """JPEG/PNG bytes -> (channels, size, size) uint8. Gray sources repeat to 3 channels.

    `resample="box"` averages every source pixel (the right anti-aliasing for training
    crops); "bilinear" reproduces the measure the Pins near-duplicate count was made with.
    """
    with Image.open(io.BytesIO(data)) as im:
        im = crop.apply(im.convert("L" if channels == 1 else "RGB"))
        im = im.resize((size, size), Image.Resampling[resample.upper()])
        arr = np.asarray(im, dtype=np.uint8)
    if channels == 1:
        return arr[None]
    return np.ascontiguousarray(arr.transpose(2, 0, 1))
