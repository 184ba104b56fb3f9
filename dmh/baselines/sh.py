"""SH: spectral hashing (Weiss, Torralba & Fergus, NIPS 2008), single-dimension modes.

1. PCA to p = min(K, d) dimensions: y = W_p^T (x - mu).
2. Model each y_j as uniform on [a_j, b_j] (training min and max).
3. The 1-D Laplacian eigenfunctions on [a, b] are
       phi_k(t) = sin(pi/2 + k pi / (b - a) * (t - a)),  k = 1, 2, ...
   with eigenvalue 1 - exp(-eps^2/2 * (k pi / (b - a))^2), increasing in
   omega = k pi / (b - a), so eps does not change which modes are chosen.
4. Keep the K pairs (j, k) with the smallest omega (ties: lower j, then lower k);
   bit i is sign(phi_{k_i}(y_{j_i})).

Mode k thresholds its dimension at t = a + (b - a)(2m - 1)/(2k), m = 1..k
(mode 1 at the midpoint).
"""
from __future__ import annotations

import numpy as np

from .pcah import check_fitted, check_matrix, check_n_bits, principal_directions


class SH:
    """Args:
        n_bits: code length K (any positive integer; several modes may share a PCA dimension).
        seed: unused (SH is deterministic); kept for the common interface.

    After fit: `dims_` (K,) PCA dimension and `modes_` (K,) mode k of each bit,
    `lo_`, `hi_` the per-dimension ranges [a_j, b_j], `omega_` (K,) = k pi / (b - a).
    """

    def __init__(self, *, n_bits: int, seed: int = 0) -> None:
        self.n_bits, self.seed = check_n_bits(n_bits), seed

    def fit(self, x, y=None) -> "SH":
        x = check_matrix(x)
        p = min(self.n_bits, x.shape[1])
        self.mean_, self.components_, _ = principal_directions(x, p)
        proj = (x - self.mean_) @ self.components_
        self.lo_, self.hi_ = proj.min(axis=0), proj.max(axis=0)
        width = self.hi_ - self.lo_
        if np.any(width <= 0):
            raise ValueError("a principal direction has zero range; the data has fewer than "
                             f"{p} non-degenerate dimensions")
        dims = np.repeat(np.arange(p), self.n_bits)          # candidate (j, k) pairs
        modes = np.tile(np.arange(1, self.n_bits + 1), p)
        omega = modes * np.pi / width[dims]
        keep = np.lexsort((modes, dims, omega))[: self.n_bits]
        self.dims_, self.modes_, self.omega_ = dims[keep], modes[keep], omega[keep]
        return self

    def project(self, x) -> np.ndarray:
        check_fitted(self, "omega_")
        x = check_matrix(x, len(self.mean_))
        proj = (x - self.mean_) @ self.components_
        return np.sin(np.pi / 2 + self.omega_ * (proj[:, self.dims_] - self.lo_[self.dims_]))
