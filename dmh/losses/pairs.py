"""The pairs of a batch that the pairwise losses (DSH, DPSH, HashNet) sum over.

Like pytorch-metric-learning's ``get_all_pairs_indices``, but each unordered pair once
(``i < j``, in ``torch.triu_indices`` order) with a similarity flag, rather than ordered
positive and negative pairs.
"""

from __future__ import annotations

import torch

__all__ = ["all_pairs"]


def all_pairs(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Every pair ``i < j`` of a batch of ``labels`` ``(B,)``: ``(i, j, same)``.

    ``i`` and ``j`` are int64 index tensors of length ``B (B - 1) / 2`` (empty for
    ``B <= 1``), ordered row by row (``(0, 1), (0, 2), ..., (1, 2), ...``), on
    ``labels.device``; ``same[p]`` is True where the pair's two labels are equal.
    """
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {tuple(labels.shape)}")
    n = len(labels)
    i, j = torch.triu_indices(n, n, 1, device=labels.device)
    return i, j, labels[i] == labels[j]
