"""ITQ: iterative quantization (Gong & Lazebnik, CVPR 2011; TPAMI 2013).

PCA to K dimensions, V = (X - mu) W_K, then an orthogonal rotation R that minimises the
quantization loss Q(B, R) = ||B - V R||_F^2 over B in {-1, +1}^{n x K}, alternating

    B = sign(V R)                           (fix R)
    S Omega S_hat^T = svd(V^T B),  R = S S_hat^T   (fix B: orthogonal Procrustes)

from a seeded random orthogonal R. Code: sign((x - mu) W_K R).
"""
from __future__ import annotations

import numpy as np

from .pcah import check_fitted, check_matrix, check_n_bits, principal_directions


def random_rotation(k: int, rng: np.random.Generator) -> np.ndarray:
    """Haar-distributed orthogonal k x k matrix: QR of a Gaussian with sign-fixed R diagonal."""
    q, r = np.linalg.qr(rng.standard_normal((k, k)))
    return q * np.where(np.diag(r) < 0, -1.0, 1.0)


def sign_pm1(v: np.ndarray) -> np.ndarray:
    """sign with sign(0) = +1, as dmh.codes.binarize."""
    return np.where(v >= 0, 1.0, -1.0)


def quantization_loss(v: np.ndarray, r: np.ndarray) -> float:
    """min_B ||B - V R||_F^2 = ||sign(V R) - V R||_F^2."""
    vr = v @ r
    return float(np.sum((sign_pm1(vr) - vr) ** 2))


class ITQ:
    """Args:
        n_bits: code length K (at most the input dimension).
        seed: seed of the initial rotation.
        n_iter: alternations of the B and R updates (50 as in the paper).

    After fit: `rotation_` (K x K), and `loss_` the quantization loss
    ||sign(V R_t) - V R_t||_F^2 for t = 0 (initial R) .. n_iter; it never increases.
    """

    def __init__(self, *, n_bits: int, seed: int = 0, n_iter: int = 50) -> None:
        self.n_bits, self.seed, self.n_iter = check_n_bits(n_bits), seed, int(n_iter)
        if self.n_iter < 0:
            raise ValueError(f"n_iter must be >= 0, got {n_iter}")

    def fit(self, x, y=None) -> "ITQ":
        x = check_matrix(x)
        self.mean_, self.components_, _ = principal_directions(x, self.n_bits)
        v = (x - self.mean_) @ self.components_
        r = random_rotation(self.n_bits, np.random.default_rng(self.seed))
        loss = [quantization_loss(v, r)]
        for _ in range(self.n_iter):
            b = sign_pm1(v @ r)
            s, _, s_hat_t = np.linalg.svd(v.T @ b)
            r = s @ s_hat_t
            loss.append(quantization_loss(v, r))
        self.rotation_, self.loss_ = r, np.asarray(loss)
        return self

    def project(self, x) -> np.ndarray:
        check_fitted(self, "rotation_")
        x = check_matrix(x, len(self.mean_))
        return (x - self.mean_) @ self.components_ @ self.rotation_
