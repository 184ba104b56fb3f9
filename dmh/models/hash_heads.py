"""Hash heads: map a trunk feature map to K real values, in (-1, 1) unless told otherwise; the
code is their sign."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ConvGAPHashHead", "FCHashHead"]


class ConvGAPHashHead(nn.Module):
    """1x1 conv to ``n_bits`` channels, global average pooling, tanh.

    Parameters do not depend on the map's spatial size: ``in_channels * n_bits + n_bits``
    (the trunk already ends with BN-ReLU, so no extra normalisation is added here).

    Args:
        in_channels: channels of the trunk's output map.
        n_bits: code length K.
        bounded: tanh on the output (default); False leaves it real-valued, as DSH's and
            DPSH's papers have it (their losses pull it to +-1 themselves).
    """

    def __init__(self, in_channels: int, n_bits: int, bounded: bool = True) -> None:
        super().__init__()
        self.n_bits, self.bounded = n_bits, bounded
        self.conv = nn.Conv2d(in_channels, n_bits, kernel_size=1)
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.pool(self.conv(x)).flatten(1)
        return torch.tanh(out) if self.bounded else out


class FCHashHead(nn.Module):
    """Flatten the whole map, one linear layer to ``n_bits``, tanh (the ablation).

    Costs ``in_channels * in_size**2 * n_bits`` weights, ``in_size**2`` times the conv+GAP head.

    Args:
        in_channels: channels of the trunk's output map.
        in_size: spatial side of the (square) map.
        n_bits: code length K.
    """

    def __init__(self, in_channels: int, in_size: int, n_bits: int) -> None:
        super().__init__()
        self.n_bits = n_bits
        self.fc = nn.Linear(in_channels * in_size * in_size, n_bits)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.fc(x.flatten(1)))
