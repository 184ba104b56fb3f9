"""`FaceSet`: decoded face crops with their identities, as in-memory uint8 arrays, and the
`Skipped` files a loader left out."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np


_PLURAL = {"corrupt image": "corrupt images", "broken link": "broken links",
           "symlink loop": "symlink loops", "not a regular file": "not regular files",
           "in a sub-folder": "in sub-folders", "name not UTF-8": "names not UTF-8",
           "outside an identity folder": "outside identity folders"}


class Skipped(NamedTuple):
    """A file left out of a dataset: its path (undecodable bytes shown as \\xNN) and why,
    `<kind>` or `<kind>: <detail>`."""

    path: str
    reason: str

    @property
    def kind(self) -> str:
        return self.reason.split(":", 1)[0]


def shown(path) -> str:
    """A path as one printable line: bytes that are not UTF-8 appear as \\xNN, control
    characters (a newline in a file name) as their escapes."""
    text = os.fsencode(path).decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def skip_summary(n_images: int, skipped: list[Skipped]) -> str:
    """The line `N images, M skipped: X not an image, Y broken links, ...` (kinds in order of
    first sight)."""
    counts: dict[str, int] = {}
    for s in skipped:
        counts[s.kind] = counts.get(s.kind, 0) + 1
    parts = ", ".join(f"{n} {_PLURAL.get(k, k) if n > 1 else k}" for k, n in counts.items())
    return f"{n_images} images, {len(skipped)} skipped" + (f": {parts}" if parts else "")


@dataclass
class FaceSet:
    """Images and identities of one dataset.

    Args:
        images: (N, C, S, S) uint8 face crops.
        labels: (N,) int64 identity index into `identities`.
        identities: identity names, verbatim (spaces, dots, case kept).
        keys: (N,) a stable name per image (path relative to the dataset root, or
            `index:<i>` for pickled arrays); splits refer to images by key.
        checksum: sha256 over the content the images came from.
        name: dataset name.
        skipped: `Skipped` (path, reason) of the files the loader left out.
    """

    images: np.ndarray
    labels: np.ndarray
    identities: list[str]
    keys: list[str]
    checksum: str
    name: str
    skipped: list = field(default_factory=list)

    def __post_init__(self) -> None:
        n = len(self.keys)
        if self.images.dtype != np.uint8 or self.images.ndim != 4 or len(self.images) != n:
            raise ValueError(f"{self.name}: images must be (N, C, S, S) uint8 with N={n}, "
                             f"got {self.images.shape} {self.images.dtype}")
        if self.labels.shape != (n,):
            raise ValueError(f"{self.name}: labels must have shape ({n},), got {self.labels.shape}")

    def __len__(self) -> int:
        return len(self.keys)

    def take(self, idx: np.ndarray) -> "FaceSet":
        return FaceSet(self.images[idx], self.labels[idx], self.identities,
                       [self.keys[i] for i in idx], self.checksum, self.name, self.skipped)
