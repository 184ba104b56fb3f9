"""HashNet objective (Cao, Long, Wang & Yu, ICCV 2017): weighted pairwise likelihood."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .pairs import all_pairs

__all__ = ["HashNetLoss"]


class HashNetLoss(nn.Module):
    """``1/|S| sum_{i<j} w_ij [log(1 + exp(alpha <h_i, h_j>)) - alpha s_ij <h_i, h_j>]``

    over the batch's pairs ``S`` (``s_ij = 1`` for the same identity), with
    ``w_ij = |S| / |S_1|`` on similar and ``|S| / |S_0|`` on dissimilar pairs: the two
    groups weigh the same however rare same-identity pairs are (with hundreds of
    identities, ~1% of a batch's pairs). Equals mean(similar) + mean(dissimilar) when
    both groups are present. The quantization is done by the head's continuation
    ``tanh(beta z)`` (see :class:`~dmh.models.ContinuationHashHead`), not by a loss term.
    ``terms``: ``'similar'``, ``'dissimilar'`` (the two groups' mean likelihood terms).

    Args:
        n_bits: code length K.
        alpha: scale of the inner product; None gives 10 / K (HashNet's setting), so
            ``alpha <h_i, h_j>`` spans [-10, 10] whatever K.
    """

    def __init__(self, *, n_bits: int, alpha: float | None = None) -> None:
        super().__init__()
        self.alpha = 10.0 / n_bits if alpha is None else alpha

    def forward(self, h: torch.Tensor, logits: torch.Tensor,
                y: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        i, j, sim = all_pairs(y)
        ip = self.alpha * (h[i] * h[j]).sum(dim=1)
        nll = F.softplus(ip) - sim.to(h.dtype) * ip
        # Tensor counts, no Python ints or masked selections: the loss runs under vmap
        # (several models trained as one, dmh.run.fit_many). The weights are divided in float64
        # and rounded once, as Python's floats were. An absent group has no term, so its weight
        # never matters: clamp avoids 0 / 0.
        n1 = sim.sum().clamp(min=1).double()
        n0 = (~sim).sum().clamp(min=1).double()
        pairs = len(i)
        w = torch.where(sim, (pairs / n1).to(h.dtype), (pairs / n0).to(h.dtype))
        total = (w * nll).sum() / max(1, pairs)
        zero = torch.zeros_like(nll)
        terms = {"similar": (torch.where(sim, nll, zero).sum() / n1.to(h.dtype)).detach(),
                 "dissimilar": (torch.where(sim, zero, nll).sum() / n0.to(h.dtype)).detach()}
        return total, terms
