"""Near-duplicate groups inside identities, so a split never puts twins on both sides.

Two images of one identity are near-duplicates when the Pearson correlation of their
32x32 gray crops is >= `threshold` (0.97: the measure under which the Pins README reports
116 near-duplicate pairs). Groups are the connected components of that relation.
"""
from __future__ import annotations

import numpy as np


def gray_vectors(images: np.ndarray) -> np.ndarray:
    """(N, C, S, S) uint8 -> (N, S*S) zero-mean unit-norm gray vectors."""
    g = images.astype(np.float64).mean(axis=1).reshape(len(images), -1)
    g -= g.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(g, axis=1, keepdims=True)
    return g / np.maximum(norms, 1e-12)


def near_duplicate_groups(images: np.ndarray, labels: np.ndarray,
                          threshold: float = 0.97) -> tuple[np.ndarray, int]:
    """Group id per image (connected components of same-identity near-duplicate pairs),
    and the number of such pairs found."""
    vec = gray_vectors(images)
    parent = np.arange(len(labels))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    n_pairs = 0
    for lab in np.unique(labels):
        idx = np.flatnonzero(labels == lab)
        corr = vec[idx] @ vec[idx].T
        a, b = np.nonzero(np.triu(corr >= threshold, k=1))
        n_pairs += len(a)
        for i, j in zip(idx[a], idx[b]):
            parent[find(i)] = find(j)
    roots = np.array([find(i) for i in range(len(labels))])
    _, groups = np.unique(roots, return_inverse=True)
    return groups, n_pairs
