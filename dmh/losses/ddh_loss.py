"""DDH objective (Lin, Li & Tang, IJCAI 2017): softmax on the code + quantization."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .quantization_loss import QuantizationLoss

__all__ = ["DDHLoss"]


class DDHLoss(nn.Module):
    """``total = CE(W h, y) + mu * mean_b ||h_b - sign(h_b)||^2``.

    DDH classifies the (relaxed) code itself, so identity information is all it
    learns from; the second term shrinks the relaxation error of tanh. It is DMH's
    objective without the center loss, on DDH's own network. The weight ``mu`` is
    our choice (DMH's untuned default), not a value taken from the paper.
    ``terms``: ``'ce'``, ``'quant'`` (unweighted, detached).

    Args:
        mu: weight of the quantization term.
    """

    def __init__(self, *, mu: float = 0.05) -> None:
        super().__init__()
        self.mu = mu
        self.quant = QuantizationLoss()  # (|h| - 1)^2 == (h - sign h)^2 for h != 0

    def forward(self, h: torch.Tensor, logits: torch.Tensor,
                y: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        ce = F.cross_entropy(logits, y)
        quant = self.quant(h)
        return ce + self.mu * quant, {"ce": ce.detach(), "quant": quant.detach()}
