"""DCDH objective (Zhang, Zhe, Chen & Yan, "Deep Center-Based Dual-Constrained Hashing for
Discriminative Face Image Retrieval", Pattern Recognition 117, 2021): class centers learned
with the network, codes drawn to their center, centers pushed apart."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["DCDHLoss"]


def _signs(x: torch.Tensor) -> torch.Tensor:
    # +-1 with sign(0) = +1: every target is a valid code bit.
    return torch.where(x >= 0, 1.0, -1.0).to(x.dtype)


class DCDHLoss(nn.Module):
    """``total = intra + gamma * inter + eta * quant`` with learnable centers ``c_j``:

    - intra: ``mean_b -log softmax_j(-sigma/2 ||h_b - c_j||^2)[y_b]``, a Gaussian-kernel
      classifier on the distance to each center: pulls ``h`` to ``c_y``, away from others;
    - inter: ``mean_{j != k} log(1 + exp(K/2 cos(c_j, c_k)))``, the pairwise likelihood
      of "dissimilar" for every pair of centers (pushes them to large Hamming distance);
    - quant: ``mean_b ||h_b - t_b||^2``, ``t = sign(Y W + eta h)`` where ``W = (Y^T Y)^+
      Y^T sign(h)`` regresses the batch's codes on its one-hot labels ``Y`` (the row of a
      class is the mean of its codes): all codes of an identity get the same target.

    Forms and defaults (sigma 0.25, gamma 0.1, eta 0.01) follow the paper as described by
    its authors' public release; we could not check every detail against the paper text
    (e.g. whether eta weights both the target and the term, as here). Centers start as
    N(0, 1) and are trained by the shared optimizer (weight decay included).
    ``terms``: ``'intra'``, ``'inter'``, ``'quant'`` (unweighted).

    Args:
        n_classes: number of identities (one center each).
        n_bits: code length K.
        sigma: inverse variance of the Gaussian kernel.
        gamma: weight of the inter-center term.
        eta: weight of the quantization term and of ``h`` in its target.
    """

    def __init__(self, *, n_classes: int, n_bits: int, sigma: float = 0.25, gamma: float = 0.1,
                 eta: float = 0.01) -> None:
        super().__init__()
        self.sigma, self.gamma, self.eta = sigma, gamma, eta
        self.centers = nn.Parameter(torch.randn(n_classes, n_bits))

    def forward(self, h: torch.Tensor, logits: torch.Tensor,
                y: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        c, (n_classes, n_bits) = self.centers, self.centers.shape
        d = (h.unsqueeze(1) - c.unsqueeze(0)).pow(2).sum(dim=2)  # (B, C), exact
        intra = F.cross_entropy(-0.5 * self.sigma * d, y)
        cn = F.normalize(c, dim=1)
        off = ~torch.eye(n_classes, dtype=torch.bool, device=c.device)
        inter = F.softplus(0.5 * n_bits * (cn @ cn.T)[off]).sum() / max(1, int(off.sum()))
        with torch.no_grad():
            b = _signs(h).to(c.dtype)  # under bf16 autocast h is bf16, the centers float32
            sums = torch.zeros_like(c).index_add_(0, y, b)
            # counts by index_add into a tensor shaped like the (maybe vmapped) centers:
            # bincount has no vmap rule (dmh.run.fit_many); whole numbers, exact either way
            ones = torch.ones_like(h[:, 0], dtype=c.dtype)
            counts = torch.zeros_like(c[:, 0]).index_add_(0, y, ones).clamp(min=1)
            t = _signs((sums / counts.unsqueeze(1))[y] + self.eta * h)
        quant = (h - t).pow(2).sum(dim=1).mean()
        total = intra + self.gamma * inter + self.eta * quant
        return total, {"intra": intra.detach(), "inter": inter.detach(), "quant": quant.detach()}
