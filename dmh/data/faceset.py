"""`FaceSet`: decoded face crops with their identities, as in-memory uint8 arrays."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
    """

    images: np.ndarray
    labels: np.ndarray
    identities: list[str]
    keys: list[str]
    checksum: str
    name: str

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
                       [self.keys[i] for i in idx], self.checksum, self.name)
