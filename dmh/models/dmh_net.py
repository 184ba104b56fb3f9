"""DMH network: conv trunk -> hash head (K values in (-1, 1)) -> identity classifier."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .hash_heads import ConvGAPHashHead, FCHashHead
from .trunk import ConvTrunk

__all__ = ["DMHNet", "count_parameters"]


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters of ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


class DMHNet(nn.Module):
    """Deep Metric Hashing network.

    ``forward(x)`` returns ``(h, logits)``: ``h`` of shape ``(B, n_bits)`` in (-1, 1)
    (the code is ``sign(h)``) and identity logits of a linear classifier on ``h``.

    Args:
        n_classes: number of training identities.
        n_bits: code length K (any positive int; 12/24/36/48 in the experiments).
        trunk: 'dense' (DenseNet-style) or 'plain' (ablation of matched depth/params).
        head: 'conv_gap' (1x1 conv + global average pooling) or 'fc' (flatten + linear, ablation).
        classify_codes: the classifier reads the codes ``sign(h)`` and passes its gradient
            straight through to ``h`` (as Greedy Hash, NeurIPS 2018, trains); False, the
            paper's, reads ``h`` (a trial of the code-float gap).
        **trunk_kwargs: forwarded to :class:`ConvTrunk` (stem_channels, growth_rate, ...).
    """

    def __init__(
        self,
        *,
        n_classes: int,
        n_bits: int = 48,
        trunk: str = "dense",
        head: str = "conv_gap",
        classify_codes: bool = False,
        **trunk_kwargs: Any,
    ) -> None:
        super().__init__()
        if trunk not in ("dense", "plain"):
            raise ValueError(f"trunk must be 'dense' or 'plain', got {trunk!r}")
        if n_bits < 1 or n_classes < 1:
            raise ValueError(f"n_bits and n_classes must be positive, got {n_bits}, {n_classes}")
        self.n_bits = n_bits
        self.n_classes = n_classes
        self.classify_codes = classify_codes
        self.trunk = ConvTrunk(dense=trunk == "dense", **trunk_kwargs)
        if head == "conv_gap":
            self.head = ConvGAPHashHead(self.trunk.out_channels, n_bits)
        elif head == "fc":
            self.head = FCHashHead(self.trunk.out_channels, self.trunk.out_size, n_bits)
        else:
            raise ValueError(f"head must be 'conv_gap' or 'fc', got {head!r}")
        self.classifier = nn.Linear(n_bits, n_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Trunk output map ``(B, C, H, W)`` for float, normalised ``(B, 3, 32, 32)`` input."""
        return self.trunk(x)

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        """Real-valued codes ``h`` of shape ``(B, n_bits)`` in (-1, 1)."""
        return self.head(features)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.forward_head(self.forward_features(x))
        if self.classify_codes:  # forward: the signs; backward: the identity
            return h, self.classifier(h + (torch.sign(h) - h).detach())
        return h, self.classifier(h)
