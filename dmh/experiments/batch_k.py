"""The batch study's runs: every method whose loss reads a batch's pairs or centres, on
validation, with P x K batches at each K of `BATCH_K` (K = 4 are the sampler grids' runs):
DPSH's likelihood shrinks its codes toward 0 when 5% of a batch's pairs are same-person ones."""
from __future__ import annotations

from dataclasses import replace

from ..core.config import TrainConfig
from .configs import CENTER_METHODS, PAIRWISE_METHODS, method_config
from .profiles import Profile

BATCH_K = (4, 16)  # photos a person in a batch of 64: 16 people x 4, or 4 people x 16
BATCH_K_METHODS = PAIRWISE_METHODS + CENTER_METHODS


def batch_k_configs(dataset: str, p: Profile) -> list[TrainConfig]:
    """The study's configs, method by method, K by K."""
    return [replace(method_config(m, dataset, p, bits=p.longest, seed=p.seeds[0], eval_split="val"),
                    sampler=f"pk{k}") for m in BATCH_K_METHODS for k in BATCH_K]
