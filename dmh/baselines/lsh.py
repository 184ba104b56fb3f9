"""LSH: sign of seeded Gaussian random projections of mean-centred inputs (Charikar 2002).

Centring on the training mean makes each bit split the data roughly in half; without it
raw pixels (all positive) would give nearly constant bits.
"""
from __future__ import annotations

import numpy as np


class LSH:
    """Args:
        n_bits: code length K.
        seed: seed of the projection matrix.
    """

    def __init__(self, *, n_bits: int, seed: int = 0) -> None:
        self.n_bits, self.seed = n_bits, seed

    def fit(self, x: np.ndarray) -> "LSH":
        x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
        self.mean_ = x.mean(axis=0)
        self.w_ = np.random.default_rng(self.seed).standard_normal((x.shape[1], self.n_bits))
        return self

    def project(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
        return (x - self.mean_) @ self.w_
