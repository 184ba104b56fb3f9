"""HashNet's continuation (Cao et al., ICCV 2017): tanh(beta z) with beta growing during
training, so the relaxed codes approach sign(z) without a quantization loss."""

from __future__ import annotations

from typing import Any

import torch

from .dmh_net import DMHNet
from .hash_heads import ConvGAPHashHead

__all__ = ["ContinuationHashHead", "ContinuationDMHNet", "continuation_beta"]


def continuation_beta(fraction: float, beta_max: float) -> float:
    """``sqrt(1 + (beta_max^2 - 1) f)`` for training fraction ``f`` in [0, 1]: HashNet's
    ``(1 + 0.005 t)^(1/2)`` over iterations ``t``, rescaled to go from 1 to ``beta_max``."""
    f = min(max(fraction, 0.0), 1.0)
    return (1.0 + (beta_max ** 2 - 1.0) * f) ** 0.5


class ContinuationHashHead(ConvGAPHashHead):
    """1x1 conv, global average pooling, ``tanh(beta * z)``; ``beta`` follows
    :func:`continuation_beta` via :meth:`set_progress` (every step; HashNet steps it every
    200 iterations). ``beta`` is a buffer so a loaded model keeps the final one; the
    code ``sign(z)`` does not depend on it.

    Args:
        in_channels: channels of the trunk's output map.
        n_bits: code length K.
        beta_max: beta at the end of training.
    """

    def __init__(self, in_channels: int, n_bits: int, beta_max: float = 10.0) -> None:
        super().__init__(in_channels, n_bits)
        self.beta_max = beta_max
        self.register_buffer("beta", torch.tensor(1.0))

    def set_progress(self, fraction: float) -> None:
        self.beta.fill_(continuation_beta(fraction, self.beta_max))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.beta * self.pool(self.conv(x)).flatten(1))


class ContinuationDMHNet(DMHNet):
    """:class:`DMHNet` (conv-GAP head) whose head is a :class:`ContinuationHashHead`.

    Args:
        n_classes: number of training identities.
        n_bits: code length K.
        trunk: 'dense' or 'plain'.
        beta_max: final continuation beta.
        **trunk_kwargs: forwarded to the trunk.
    """

    def __init__(self, *, n_classes: int, n_bits: int = 48, trunk: str = "dense",
                 beta_max: float = 10.0, **trunk_kwargs: Any) -> None:
        super().__init__(n_classes=n_classes, n_bits=n_bits, trunk=trunk, head="conv_gap",
                         **trunk_kwargs)
        conv = self.head.conv
        self.head = ContinuationHashHead(self.trunk.out_channels, n_bits, beta_max)
        self.head.conv = conv  # keep DMHNet's initial weights: same seed, same start

    def set_progress(self, fraction: float) -> None:
        self.head.set_progress(fraction)
