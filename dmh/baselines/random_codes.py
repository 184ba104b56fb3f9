"""Random codes: each image gets seeded random bits. The floor any method must beat."""
from __future__ import annotations

import numpy as np


class RandomCodes:
    """Args:
        n_bits: code length K.
        seed: seed of the bits.
    """

    def __init__(self, *, n_bits: int, seed: int = 0) -> None:
        self.n_bits, self.seed = n_bits, seed
        self._rng = np.random.default_rng(seed)

    def fit(self, x: np.ndarray) -> "RandomCodes":
        return self

    def project(self, x: np.ndarray) -> np.ndarray:
        return self._rng.standard_normal((len(x), self.n_bits))
