"""SDH: supervised discrete hashing (Shen, Shen, Liu & Shen, CVPR 2015).

Features: phi(x) = [exp(-||x - a_j||^2 / (2 sigma^2))]_{j=1..m} on m anchors a_j (a seeded
random sample of the training set), sigma = mean anchor distance over the training set.
Hash function F(x) = (phi(x) - mean phi) P + c. With one-hot labels Y (n x C) it solves

    min_{B, W, F}  ||Y - B W||^2 + lam ||W||^2 + nu ||B - F(X)||^2,  B in {-1, +1}^{n x K}

by alternating, from a seeded random B:
    W-step: W = (B^T B + lam I)^{-1} B^T Y                     (ridge, K x C)
    F-step: P = (Phi_c^T Phi_c + delta I)^{-1} Phi_c^T B, c = mean(B)  (ridge, m x K;
            Phi_c = Phi - mean Phi, so c is the unpenalised intercept)
    B-step: discrete cyclic coordinate descent on the bit columns: with Q = Y W^T + nu F(X),
            b_k = sign(q_k - B' W' w_k)  (B', W' without bit k, w_k = row k of W)
and the code is sign(F(x)). Each step minimises its block exactly (DCC bit by bit), so the
objective plus nu delta ||P||^2 never increases (`objective_`, one value per outer iteration).
"""
from __future__ import annotations

import numpy as np

from .pcah import check_fitted, check_matrix, check_n_bits


def _sq_dists(x: np.ndarray, a: np.ndarray) -> np.ndarray:
    d = (x * x).sum(1)[:, None] - 2.0 * (x @ a.T) + (a * a).sum(1)[None, :]
    return np.maximum(d, 0.0)


def dcc_bits(b: np.ndarray, q: np.ndarray, w: np.ndarray, n_sweeps: int) -> np.ndarray:
    """Discrete cyclic coordinate descent on min_B ||B W||^2 - 2 tr(B^T Q), B in {-1, 1}^{n x K}.

    Bit column k given the others: b_k = sign(q_k - B' W' w_k), with B' W' w_k computed as
    (B W) w_k - b_k ||w_k||^2. Sweeps the K columns up to n_sweeps times (stops when stable).
    """
    b = b.copy()
    z = b @ w                                                   # = B W, kept current
    for _ in range(n_sweeps):
        changed = False
        for j in range(b.shape[1]):
            wj = w[j]
            new = np.where(q[:, j] - (z @ wj - b[:, j] * (wj @ wj)) >= 0, 1.0, -1.0)
            diff = new - b[:, j]
            if diff.any():
                changed = True
                z += np.outer(diff, wj)
                b[:, j] = new
        if not changed:
            break
    return b


class SDH:
    """Args:
        n_bits: code length K.
        seed: seed of the anchor sample and of the initial B.
        n_anchors: m, RBF anchors (1000 as in the paper; capped at the training size).
        lam: ridge weight of the classifier W (1.0 as in the paper).
        nu: weight of the fit of B by F (1e-5 as in the paper).
        delta: ridge weight of the projection P.
        n_iter: outer iterations (5 as in the authors' code).
        n_dcc: coordinate-descent sweeps over the K bits per B-step.
    """

    supervised = True

    def __init__(self, *, n_bits: int, seed: int = 0, n_anchors: int = 1000, lam: float = 1.0,
                 nu: float = 1e-5, delta: float = 1.0, n_iter: int = 5, n_dcc: int = 5) -> None:
        self.n_bits, self.seed = check_n_bits(n_bits), seed
        self.n_anchors, self.lam, self.nu, self.delta = int(n_anchors), lam, nu, delta
        self.n_iter, self.n_dcc = int(n_iter), int(n_dcc)
        if self.n_anchors < 1 or self.n_iter < 1 or self.n_dcc < 1 or lam <= 0 or delta <= 0 or nu < 0:
            raise ValueError("need n_anchors, n_iter, n_dcc >= 1, lam > 0, delta > 0 and nu >= 0")

    def _phi(self, x: np.ndarray) -> np.ndarray:
        return np.exp(-_sq_dists(x, self.anchors_) / (2.0 * self.sigma_ ** 2))

    def fit(self, x, y=None) -> "SDH":
        x = check_matrix(x)
        if y is None:
            raise ValueError("SDH is supervised: fit(x, y) needs the labels y")
        y = np.asarray(y)
        if y.shape != (len(x),):
            raise ValueError(f"y must have shape ({len(x)},), got {y.shape}")
        classes, yi = np.unique(y, return_inverse=True)
        onehot = np.zeros((len(x), len(classes)))
        onehot[np.arange(len(x)), yi] = 1.0
        rng = np.random.default_rng(self.seed)
        self.anchors_ = x[np.sort(rng.choice(len(x), min(self.n_anchors, len(x)), replace=False))]
        self.sigma_ = float(np.sqrt(_sq_dists(x, self.anchors_)).mean())
        if self.sigma_ <= 0:
            raise ValueError("all training points coincide; the RBF width is zero")
        phi = self._phi(x)
        self.phi_mean_ = phi.mean(axis=0)
        phi -= self.phi_mean_
        # The F-step solves with the same matrix every iteration: factor it once.
        phi_solve = np.linalg.solve(phi.T @ phi + self.delta * np.eye(phi.shape[1]), phi.T)
        k = self.n_bits
        b = np.where(rng.standard_normal((len(x), k)) >= 0, 1.0, -1.0)
        w = np.linalg.solve(b.T @ b + self.lam * np.eye(k), b.T @ onehot)
        objective = []
        for _ in range(self.n_iter):
            p = phi_solve @ b                                           # F-step
            f = phi @ p + b.mean(axis=0)
            b = dcc_bits(b, onehot @ w.T + self.nu * f, w, self.n_dcc)  # B-step
            w = np.linalg.solve(b.T @ b + self.lam * np.eye(k), b.T @ onehot)  # W-step
            objective.append(float(np.sum((onehot - b @ w) ** 2) + self.lam * np.sum(w ** 2)
                                   + self.nu * (np.sum((b - f) ** 2) + self.delta * np.sum(p ** 2))))
        self.objective_ = np.asarray(objective)
        self.projection_ = phi_solve @ b
        self.bias_ = b.mean(axis=0)
        self.classes_, self.classifier_ = classes, w
        return self

    def project(self, x) -> np.ndarray:
        check_fitted(self, "projection_")
        x = check_matrix(x, self.anchors_.shape[1])
        return (self._phi(x) - self.phi_mean_) @ self.projection_ + self.bias_
