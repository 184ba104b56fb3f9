"""A hash layer over a frozen float embedding (dlib's 128-d face descriptor): DMH's objective
on a strong trunk that is not trained. Same output contract as `DMHNet`."""
from __future__ import annotations

import torch
from torch import nn


class EmbeddingHashNet(nn.Module):
    """``forward(x)`` returns ``(h, logits)``: ``h = tanh(W x + b)`` of shape ``(B, n_bits)``
    and the identity logits a linear classifier reads from ``h`` (as in `DMHNet`).

    Args:
        in_dim: the embedding's dimension (standardized before it comes here).
        n_bits: code length K.
        n_classes: training identities (softmax).
    """

    def __init__(self, in_dim: int, n_bits: int, n_classes: int) -> None:
        super().__init__()
        self.hash = nn.Linear(in_dim, n_bits)
        self.classifier = nn.Linear(n_bits, n_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = torch.tanh(self.hash(x))
        return h, self.classifier(h)
