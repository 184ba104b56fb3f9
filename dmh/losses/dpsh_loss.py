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
    Pairs: ``'batch'`` (the default, of earlier records) sums over the batch's own pairs;
    ``'all'`` is the paper's algorithm: each batch image against every training image, whose
    latest output is kept in memory (updated as its batch passes; zero before), a constant
    on the right of ``theta``. The training loop names the batch's rows of the training set
    (``bind_training_set`` once, ``set_batch_index`` every step). With ``'batch'`` a batch's
    pairs all share its BatchNorm statistics, which its codes can use to lower the loss
    without telling people apart (``scripts/pair_objective.py``).
    ``terms``: ``'pair'``, ``'quant'`` (unweighted).

    Args:
        eta: weight of the quantization term (after the normalization above).
        pairs: ``'batch'`` or ``'all'`` (above).
    """

    def __init__(self, *, eta: float = 0.1, pairs: str = "batch") -> None:
        super().__init__()
        if pairs not in ("batch", "all"):
            raise ValueError(f"dpsh: pairs must be 'batch' or 'all', got {pairs!r}")
        self.eta, self.pairs = eta, pairs
        self.register_buffer("memory", torch.zeros(0, 0))  # (n_train, K) under 'all'
        self.register_buffer("memory_labels", torch.zeros(0, dtype=torch.int64))
        self._index: torch.Tensor | None = None

    def bind_training_set(self, labels: torch.Tensor, n_bits: int) -> None:
        """Under ``'all'``: a zero memory for each training image (``labels`` in training-set
        order); nothing under ``'batch'``. Call before loading a checkpoint's state."""
        if self.pairs == "all":
            self.memory = torch.zeros(len(labels), n_bits, device=self.memory.device)
            self.memory_labels = labels.to(self.memory.device)

    def set_batch_index(self, idx: torch.Tensor) -> None:
        """The next batch's rows of the training set (under ``'all'``)."""
        self._index = idx.to(self.memory.device)

    def forward(self, h: torch.Tensor, logits: torch.Tensor,
                y: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        if self.pairs == "all":
            pair = self._pair_term_against_memory(h)
        else:
            i, j, same = all_pairs(y)
            s = same.to(h.dtype)
            theta = 0.5 * (h[i] * h[j]).sum(dim=1)
            pair = (F.softplus(theta) - s * theta).sum() / max(1, len(i))
        quant = (h - h.detach().sign()).pow(2).sum(dim=1).mean()
        return pair + self.eta * quant, {"pair": pair.detach(), "quant": quant.detach()}

    def _pair_term_against_memory(self, h: torch.Tensor) -> torch.Tensor:
        if self._index is None or len(self.memory) == 0:
            raise ValueError("dpsh with pairs='all' needs the training loop to call "
                             "bind_training_set and set_batch_index (dmh.run.fit does)")
        idx, self._index = self._index, None
        self.memory[idx] = h.detach().to(self.memory.dtype)  # first, as the paper's U is updated
        s = (self.memory_labels[idx][:, None] == self.memory_labels[None, :]).to(h.dtype)
        theta = 0.5 * h @ self.memory.to(h.dtype).T
        return (F.softplus(theta) - s * theta).mean()
