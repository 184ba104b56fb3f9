"""Which training images form each batch of an epoch.

`random`: a seeded permutation cut into batches (DMH's loop since the start). `pk<K>`:
identity-balanced batches of P identities x K images (P = batch size // K), as metric
learning uses for pair and centre losses: a random batch of 64 faces holds almost no pair of
the same person (3.45% of LFW's pairs, 0.99% of Pins'), a P x K batch holds P * K(K-1)/2.
An epoch has as many batches either way; identities with fewer than K images repeat some.
"""
from __future__ import annotations

import math

import numpy as np
import torch


def epoch_batches(sampler: str, labels: torch.Tensor, batch_size: int,
                  gen: torch.Generator) -> list[torch.Tensor]:
    """The batches (row indices) of one epoch, drawn from `gen`."""
    n = len(labels)
    if sampler == "random":
        order = torch.randperm(n, generator=gen)
        return [order[i:i + batch_size] for i in range(0, n, batch_size)]
    k = int(sampler[2:])
    p = batch_size // k
    by_id = [torch.nonzero(labels == c).flatten() for c in torch.unique(labels)]
    batches = []
    for _ in range(math.ceil(n / batch_size)):
        ids = torch.randperm(len(by_id), generator=gen)[:p]
        rows = []
        for c in ids.tolist():
            members = by_id[c]
            # without repeats where the identity has K images, with repeats where it has fewer
            pick = (torch.randperm(len(members), generator=gen)[:k] if len(members) >= k else
                    torch.randint(len(members), (k,), generator=gen))
            rows.append(members[pick])
        batches.append(torch.cat(rows))
    return batches


def same_pairs_share(batches: list[torch.Tensor], labels: np.ndarray) -> float:
    """Share of same-identity pairs among the within-batch pairs of `batches`."""
    same = total = 0
    for b in batches:
        y = labels[b.numpy()]
        _, counts = np.unique(y, return_counts=True)
        same += int((counts * (counts - 1) // 2).sum())
        total += len(y) * (len(y) - 1) // 2
    return same / max(total, 1)
