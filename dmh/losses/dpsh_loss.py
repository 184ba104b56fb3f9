"""DPSH objective (Li, Wang & Kang, IJCAI 2016): pairwise likelihood + quantization."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .pairs import all_pairs

__all__ = ["DPSHLoss"]


class DPSHLoss(nn.Module):
    """``mean_{i<j} [log(1 + exp(theta_ij)) - s_ij theta_ij] + eta mean_i ||b_i - u_i||^2``

    with ``theta_ij = 1/2 u_i^T u_j``, ``b = sign(u)`` (a constant: DPSH's alternating
    step fixes ``b``, so only ``u`` gets the gradient ``2 (u - b)``), ``s_ij = 1`` for the
    same identity. ``log(1 + e^x)`` is ``softplus`` (stable for large ``|x|``).

    Scale of ``eta``: the paper's objective sums the likelihood over the pairs of the whole
    training set (n^2) and the quantization over its n samples, eta = 10 in its CIFAR-10
    setting (n = 5000). Per pair, as here (batch pairs estimate the mean over all pairs, the
    batch mean of the quantization its mean over the samples), that is eta / n = 0.002 at
    any batch size, as in the PyTorch port that follows the authors' MatConvNet code
    (jiangqy/DPSH-pytorch). The default, 0.1, divided by the batch's pairs instead (10 / B):
    50x the paper's weight, under which the codes learned nothing on faces; it stays the
    default because earlier records were made with it, and the paper's configs set 0.002
    (``dmh.experiments.tuning.METHOD_DEFAULTS``).
    ``terms``: ``'pair'``, ``'quant'`` (unweighted).

    Args:
        eta: weight of the quantization term (after the normalization above).
    """

    def __init__(self, *, eta: float = 0.1) -> None:
        super().__init__()
        self.eta = eta

    def forward(self, h: torch.Tensor, logits: torch.Tensor,
                y: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        i, j, same = all_pairs(y)
        s = same.to(h.dtype)
        theta = 0.5 * (h[i] * h[j]).sum(dim=1)
        pair = (F.softplus(theta) - s * theta).sum() / max(1, len(i))
        quant = (h - h.detach().sign()).pow(2).sum(dim=1).mean()
        return pair + self.eta * quant, {"pair": pair.detach(), "quant": quant.detach()}
