"""DMH objective: softmax cross-entropy + lam * center loss + mu * quantization loss (+ an
optional bit-balance term, a recipe trial)."""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from .bit_balance_loss import BitBalanceLoss
from .center_loss import CenterLoss
from .quantization_loss import QuantizationLoss

__all__ = ["DMHLoss"]


class DMHLoss(nn.Module):
    """``total = CE(logits, y) + lam * center(h, y) + mu * quant(h)``; disabled terms are skipped.

    ``forward`` returns ``(total, terms)`` where ``terms`` maps ``'ce'``, ``'center'``,
    ``'quant'`` (only the enabled ones) to detached scalars for logging, unweighted.

    Defaults lam=0.1, mu=0.05 are starting points, to be tuned on validation. Scale
    reasoning: with h in (-1, 1)^K both terms are O(K) per sample while CE is about
    log(n_classes) (~6 for 500 ids); lam in the center-loss paper is 1e-3..1e-1 for
    unbounded features, and DDH-style quantization weights are of the order 1e-2..1e-1.

    Args:
        n_classes: number of identities.
        n_bits: code length K.
        lam: weight of the center loss.
        mu: weight of the quantization loss.
        alpha: center update rate (see :class:`CenterLoss`).
        use_softmax: include the cross-entropy term.
        use_center: include the center loss term.
        use_quantization: include the quantization term.
        label_smoothing: of the cross-entropy targets (0, the paper's, is plain softmax).
        balance: weight of a bit-balance term (:class:`BitBalanceLoss`); 0, the paper's,
            leaves it out (a trial of the code-float gap).
    """

    def __init__(
        self,
        *,
        n_classes: int,
        n_bits: int,
        lam: float = 0.1,
        mu: float = 0.05,
        alpha: float = 0.5,
        use_softmax: bool = True,
        use_center: bool = True,
        use_quantization: bool = True,
        label_smoothing: float = 0.0,
        balance: float = 0.0,
    ) -> None:
        super().__init__()
        if not (use_softmax or use_center or use_quantization):
            raise ValueError("at least one of use_softmax, use_center, use_quantization must be True")
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing!r}")
        self.lam = lam
        self.mu = mu
        self.label_smoothing = label_smoothing
        if not balance >= 0.0:
            raise ValueError(f"balance must be >= 0, got {balance!r}")
        self.balance = balance
        self.bit_balance = BitBalanceLoss()
        self.use_softmax = use_softmax
        self.use_center = use_center
        self.use_quantization = use_quantization
        # Always built so checkpoints have the same keys whichever terms are on.
        self.center = CenterLoss(n_classes=n_classes, dim=n_bits, alpha=alpha)
        self.quant = QuantizationLoss()

    def forward(
        self, h: torch.Tensor, logits: Optional[torch.Tensor], y: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        parts: list[torch.Tensor] = []
        terms: dict[str, torch.Tensor] = {}
        if self.use_softmax:
            if logits is None:
                raise ValueError("logits are required when use_softmax=True")
            ce = F.cross_entropy(logits, y, label_smoothing=self.label_smoothing)
            parts.append(ce)
            terms["ce"] = ce.detach()
        if self.use_center:
            center = self.center(h, y)
            parts.append(self.lam * center)
            terms["center"] = center.detach()
        if self.use_quantization:
            quant = self.quant(h)
            parts.append(self.mu * quant)
            terms["quant"] = quant.detach()
        if self.balance > 0:
            bal = self.bit_balance(h)
            parts.append(self.balance * bal)
            terms["balance"] = bal.detach()
        return torch.stack(parts).sum(), terms

    def update_centers(self, h: torch.Tensor, y: torch.Tensor) -> None:
        """Move the class centers toward this batch's ``h`` (no-op when the center term is off)."""
        if self.use_center:
            self.center.update_centers(h, y)
