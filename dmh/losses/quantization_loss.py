"""Quantization loss pulling each real hash output toward +-1."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["QuantizationLoss"]


class QuantizationLoss(nn.Module):
    """``mean_b sum_k (|h_bk| - 1)^2``, i.e. ``mean_b ||h_b - sign(h_b)||^2``.

    Written with ``|h|`` rather than ``sign(h)`` so that it is smooth away from 0
    and needs no convention for ``sign(0)`` (both give 1 there). Summing over bits
    matches the center loss's scale; its gradient ``2 (|h| - 1) sign(h)`` pushes each
    output away from 0 toward the nearer of +-1, shrinking the binarization error.
    """

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return (h.abs() - 1.0).pow(2).sum(dim=1).mean()
