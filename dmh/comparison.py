"""The comparison chapter's grid: DMH against the deep hashing baselines at equal budget.

Every method gets the profile's epochs for the dataset and the shared loop's optimizer; the
longest code is run with every seed of the profile, the other lengths with the first seed.
DMH's runs are `main_configs` runs (same config, same cache entry). The baselines use
TrainConfig's defaults for everything else (lam/mu are DMH's and unused by them), and their
own hyperparameters from the loss defaults (the papers' where they give one; see each loss).
"""
from __future__ import annotations

from .config import TrainConfig
from .experiments import base_config, hyperparameters, profile

DEEP_METHODS = ("dmh", "ddh", "dsh", "dpsh", "hashnet", "csq", "dcdh")


def comparison_configs(dataset: str, prof: str = "paper",
                       methods: tuple[str, ...] = DEEP_METHODS) -> list[TrainConfig]:
    """Configs ordered by method, then code length, then seed."""
    p = profile(prof)
    longest = max(p.bits)
    out = []
    for method in methods:
        # DMH with its validation-chosen lr/lam/mu, exactly as in main_configs.
        hp = hyperparameters(dataset, prof) if method == "dmh" else {"method": method}
        for k in p.bits:
            for s in (p.seeds if k == longest else p.seeds[:1]):
                out.append(base_config(dataset, prof, bits=k, seed=s, **hp))
    return out


# Baselines whose paper lr may not carry over (the pairwise losses, which see ~1% positive
# pairs in a random face batch): validation runs at the shared lr and one 10x lower.
TUNING_LRS = (0.1, 0.01)
TUNED_METHODS = ("dsh", "dpsh")


def tuning_configs(dataset: str, prof: str = "paper",
                   methods: tuple[str, ...] = TUNED_METHODS) -> list[TrainConfig]:
    """48-bit, seed-0 validation runs of `methods` at each of TUNING_LRS."""
    p = profile(prof)
    return [base_config(dataset, prof, bits=max(p.bits), seed=p.seeds[0], eval_split="val",
                        method=m, lr=lr) for m in methods for lr in TUNING_LRS]
