"""A search's contact sheet: the query face, then its top-k gallery photos in rank order, each
captioned with rank, Hamming distance and identity; a green frame marks the query's person,
a red one someone else, none when the query's person is not known. Written atomically as PNG.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageOps

from .core.atomic import atomic_write

MARKS = {"same person": (44, 160, 44), "someone else": (214, 39, 40)}


@dataclass(frozen=True)
class Tile:
    """Args:
        image: (H, W, 3) or (3, H, W) uint8, or None (drawn grey: the photo is unreadable).
        caption: up to two short lines.
        mark: a key of `MARKS`, or None.
    """

    image: np.ndarray | None
    caption: str
    mark: str | None = None


def _thumb(image: np.ndarray | None, size: int) -> Image.Image:
    if image is None:
        return Image.new("RGB", (size, size), (200, 200, 200))
    a = np.asarray(image, dtype=np.uint8)
    if a.ndim == 3 and a.shape[0] in (1, 3) and a.shape[-1] not in (1, 3):
        a = a.transpose(1, 2, 0)
    im = Image.fromarray(a.squeeze(-1) if a.shape[-1] == 1 else a).convert("RGB")
    return ImageOps.pad(im, (size, size), Image.Resampling.BICUBIC, color=(255, 255, 255))


def contact_sheet(tiles: list[Tile], out: Path, *, size: int = 112, per_row: int = 6) -> Path:
    """Tiles in rows of `per_row` (the first is the query) -> PNG at `out`."""
    if not tiles:
        raise ValueError("a contact sheet needs at least the query")
    pad, text_h = 6, 28
    rows = -(-len(tiles) // per_row)
    w = per_row * (size + pad) + pad
    h = rows * (size + text_h + pad) + pad
    sheet = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(sheet)
    for i, t in enumerate(tiles):
        x = pad + (i % per_row) * (size + pad)
        y = pad + (i // per_row) * (size + text_h + pad)
        sheet.paste(_thumb(t.image, size), (x, y))
        if t.mark is not None:
            draw.rectangle((x - 2, y - 2, x + size + 1, y + size + 1), outline=MARKS[t.mark], width=3)
        for j, line in enumerate(t.caption.split("\n")[:2]):
            draw.text((x, y + size + 2 + 12 * j), line[: size // 6], fill="black")
    out = Path(out)
    atomic_write(out, lambda f: sheet.save(f, format="PNG"), mode="wb")
    return out
