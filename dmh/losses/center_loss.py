"""Center loss (Wen et al., ECCV 2016) on the real-valued hash outputs."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["CenterLoss"]


class CenterLoss(nn.Module):
    """``0.5 * mean_b ||h_b - c_{y_b}||^2`` (squared L2 summed over dims, mean over the batch).

    Centers are a buffer, not parameters: the loss's gradient flows only to ``h`` and
    the centers move by :meth:`update_centers`, Wen et al.'s rule with rate ``alpha``,
    which is independent of the loss weight and of the batch size.

    Args:
        n_classes: number of classes (one center each).
        dim: feature dimension (code length K).
        alpha: center learning rate in [0, 1].
    """

    def __init__(self, *, n_classes: int, dim: int, alpha: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        self.n_classes = n_classes
        self.dim = dim
        self.alpha = alpha
        self.register_buffer("centers", torch.zeros(n_classes, dim))

    def forward(self, h: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        # Gather the B needed centers (never a B x C distance matrix); the buffer
        # carries no grad, so only h is pulled.
        c = self.centers.index_select(0, y)
        return 0.5 * (h - c).pow(2).sum(dim=1).mean()

    @torch.no_grad()
    def update_centers(self, h: torch.Tensor, y: torch.Tensor) -> None:
        """``c_j -= alpha * sum_{i: y_i=j} (c_j - h_i) / (1 + n_j)``; absent classes unchanged."""
        h = h.detach().to(self.centers.dtype)
        diff = self.centers.index_select(0, y) - h
        delta = torch.zeros_like(self.centers).index_add_(0, y, diff)
        counts = torch.bincount(y, minlength=self.n_classes).to(delta.dtype)
        self.centers -= self.alpha * delta / (1.0 + counts).unsqueeze(1)
