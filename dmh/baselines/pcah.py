"""PCAH: the sign of the centred data projected on its top-K principal directions.

    h(x) = W_K^T (x - mu),  code = sign(h),  W_K = top-K eigenvectors of the covariance.

Also the PCA step that ITQ and SH start from (`check_matrix`, `principal_directions`).
"""
from __future__ import annotations

import numpy as np
from scipy.sparse.linalg import eigsh

_DENSE_MAX_DIM = 512


def check_n_bits(n_bits) -> int:
    if isinstance(n_bits, (bool, np.bool_)) or int(n_bits) != n_bits or n_bits < 1:
        raise ValueError(f"n_bits must be a positive integer, got {n_bits!r}")
    return int(n_bits)


def check_matrix(x, n_features: int | None = None, name: str = "x") -> np.ndarray:
    """(n, ...) array -> (n, d) float64; images (n, C, H, W) are flattened per row."""
    x = np.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"{name} must be at least 2-D (n samples, features...), got shape {x.shape}")
    if x.shape[0] == 0 or np.prod(x.shape[1:]) == 0:
        raise ValueError(f"{name} must have at least one sample and one feature, got shape {x.shape}")
    if x.dtype == np.bool_ or not (np.issubdtype(x.dtype, np.integer)
                                   or np.issubdtype(x.dtype, np.floating)):
        raise ValueError(f"{name} must be real numeric, got dtype {x.dtype}")
    x = x.reshape(len(x), -1).astype(np.float64, copy=False)
    if not np.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or inf")
    if n_features is not None and x.shape[1] != n_features:
        raise ValueError(f"{name} has {x.shape[1]} features per sample, the model was fit on {n_features}")
    return x


def check_fitted(model, attr: str) -> None:
    if not hasattr(model, attr):
        raise RuntimeError(f"{type(model).__name__} is not fitted; call fit(x) first")


def principal_directions(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean (d,), W (d, k) orthonormal columns by decreasing variance, variances (k,)).

    The top-k eigenvectors of the covariance C = (x - mu)^T (x - mu) / n, computed as a
    dense eigendecomposition (d <= 512), from the SVD of the centred data (n < d), or by
    Lanczos (ARPACK, fixed start vector, tol=0) for large d. Each column's sign is fixed
    so that its largest-magnitude entry is positive (the sign carries no information).
    """
    n, d = x.shape
    if not 1 <= k <= d:
        raise ValueError(f"need 1 <= n_bits <= n_features for PCA, got n_bits={k}, n_features={d}")
    mean = x.mean(axis=0)
    xc = x - mean
    if d <= _DENSE_MAX_DIM or k >= d - 1:
        vals, vecs = np.linalg.eigh(xc.T @ xc / n)
        vals, vecs = vals[::-1][:k], vecs[:, ::-1][:, :k]
    elif n < d:
        _, s, vt = np.linalg.svd(xc, full_matrices=False)
        if k > len(s):
            raise ValueError(f"need n_bits <= n_samples = {n} for PCA of {d}-D data, got {k}")
        vals, vecs = s[:k] ** 2 / n, vt[:k].T
    else:
        vals, vecs = eigsh(xc.T @ xc / n, k=k, v0=np.ones(d), tol=0)
        order = np.argsort(vals)[::-1]
        vals, vecs = vals[order], vecs[:, order]
    flip = np.sign(vecs[np.argmax(np.abs(vecs), axis=0), np.arange(k)])
    return mean, vecs * np.where(flip == 0, 1.0, flip), np.maximum(vals, 0.0)


class PCAH:
    """Args:
        n_bits: code length K (at most the input dimension).
        seed: unused (PCA is deterministic); kept for the common interface.
    """

    def __init__(self, *, n_bits: int, seed: int = 0) -> None:
        self.n_bits, self.seed = check_n_bits(n_bits), seed

    def fit(self, x, y=None) -> "PCAH":
        x = check_matrix(x)
        self.mean_, self.components_, self.explained_variance_ = principal_directions(x, self.n_bits)
        return self

    def project(self, x) -> np.ndarray:
        check_fitted(self, "components_")
        x = check_matrix(x, len(self.mean_))
        return (x - self.mean_) @ self.components_
