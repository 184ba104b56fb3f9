"""Bit balance: each bit of the code should split a batch in halves."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["BitBalanceLoss"]


class BitBalanceLoss(nn.Module):
    """``sum_k (mean_b h_bk)^2``: zero when each output averages to 0 over the batch.

    A bit that is +1 (or -1) for almost every face carries almost no information, yet its
    float output can still rank by its magnitude: imbalanced bits are one way the codes
    lose to the floats they are the signs of (`scripts/code_float_gap.py` measures it).
    Summed over bits like the center and quantization terms; at most ``K`` for outputs in
    [-1, 1].
    """

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h.mean(dim=0).pow(2).sum()
