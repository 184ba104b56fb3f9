"""CSQ objective (Yuan et al., "Central Similarity Quantization", CVPR 2020): fixed hash
centers, one per identity; each code is pulled to its identity's center."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["CSQLoss", "hash_centers"]


def _hadamard(n: int) -> torch.Tensor:
    # Sylvester's construction: rows are +-1 and pairwise orthogonal (Hamming n / 2).
    h = torch.ones(1, 1)
    while len(h) < n:
        h = torch.cat([torch.cat([h, h], 1), torch.cat([h, -h], 1)])
    return h


def hash_centers(n_classes: int, n_bits: int, seed: int = 0, tries: int = 256) -> torch.Tensor:
    """``(n_classes, n_bits)`` centers in {-1, +1}.

    As in CSQ: when K is a power of 2 and ``n_classes <= 2K``, the rows of ``H_K`` then
    ``-H_K`` (pairwise Hamming K/2, or K between ``c`` and ``-c``). Otherwise each bit is
    Bernoulli(1/2) (expected Hamming K/2); we add a rejection step the paper leaves out,
    keeping a draw only if it is at least ``d`` bits from every earlier center, starting at
    ``d = K/2`` and lowering ``d`` when ``tries`` draws all fail (short codes cannot hold
    hundreds of centers K/2 apart). Never duplicates while ``n_classes <= 2^K``.
    """
    if n_bits & (n_bits - 1) == 0 and n_classes <= 2 * n_bits:
        h = _hadamard(n_bits)
        return torch.cat([h, -h])[:n_classes]
    gen = torch.Generator().manual_seed(seed)
    centers, d_min = torch.empty(0, n_bits), n_bits // 2
    while len(centers) < n_classes:
        cand = torch.randint(0, 2, (tries, n_bits), generator=gen).float() * 2 - 1
        dist = (n_bits - cand @ centers.T) / 2  # Hamming distance of +-1 vectors
        ok = (dist >= d_min).all(dim=1)
        if ok.any():
            centers = torch.cat([centers, cand[ok.nonzero()[0]]])
        else:
            d_min = max(0, d_min - 1)
    return centers


class CSQLoss(nn.Module):
    """``BCE((h + 1) / 2, (c_y + 1) / 2) + lam * mean (|h| - 1)^2``, both averaged over
    samples and bits; ``c_y`` is the identity's hash center (a buffer, never trained).

    Deviation: the paper's quantization term is a log cosh of the distance of ``|h|`` to 1;
    we use the square, as common re-implementations do (equal to it to second order).
    ``terms``: ``'center'``, ``'quant'`` (unweighted).

    Args:
        n_classes: number of identities (one center each).
        n_bits: code length K.
        lam: weight of the quantization term (1e-4 in the paper).
        seed: seed of the random centers (unused for Hadamard centers).
    """

    def __init__(self, *, n_classes: int, n_bits: int, lam: float = 1e-4, seed: int = 0) -> None:
        super().__init__()
        self.lam = lam
        self.register_buffer("centers", hash_centers(n_classes, n_bits, seed))

    def forward(self, h: torch.Tensor, logits: torch.Tensor,
                y: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        # binary_cross_entropy clamps log at -100, so a saturated tanh gives no inf.
        center = F.binary_cross_entropy((h + 1) / 2, (self.centers[y] + 1) / 2)
        quant = (h.abs() - 1).pow(2).mean()
        return center + self.lam * quant, {"center": center.detach(), "quant": quant.detach()}
