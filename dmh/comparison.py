"""The comparison chapter's grid: DMH against the deep hashing baselines at equal budget.

Every method gets the profile's epochs for the dataset and the shared loop's optimizer; the
longest code is run with every seed of the profile, the other lengths with the first seed.
DMH's runs are `main_configs` runs (same config, same cache entry). The baselines use
TrainConfig's defaults for everything else (lam/mu are DMH's and unused by them), and their
own hyperparameters from the loss defaults (the papers' where they give one; see each loss).
"""
from __future__ import annotations

from .core.config import TrainConfig
from .experiments import Profile, base_config, cached_record, hyperparameters, profile

DEEP_METHODS = ("dmh", "ddh", "dsh", "dpsh", "hashnet", "csq", "dcdh")


def seeds_at(p: Profile, bits: int) -> tuple[int, ...]:
    """The comparison's seeds: every seed of the profile at its longest code, the first seed
    at the others (deep and shallow methods alike)."""
    return p.seeds if bits == max(p.bits) else p.seeds[:1]


def comparison_configs(dataset: str, prof: str = "paper",
                       methods: tuple[str, ...] = DEEP_METHODS) -> list[TrainConfig]:
    """Configs ordered by method, then code length, then seed."""
    p = profile(prof)
    out = []
    for method in methods:
        # DMH with its validation-chosen lr/lam/mu, exactly as in main_configs.
        hp = (hyperparameters(dataset, prof) if method == "dmh" else
              {"method": method, "lr": baseline_lr(dataset, method, prof)})
        for k in p.bits:
            for s in seeds_at(p, k):
                out.append(base_config(dataset, prof, bits=k, seed=s, **hp))
    return out


# Baselines whose paper lr may not carry over (the pairwise losses, which see a few percent
# of positive pairs in a random face batch): validation runs at the shared lr and one 10x lower.
TUNING_LRS = (0.1, 0.01)
TUNED_METHODS = ("dsh", "dpsh")


def baseline_lr(dataset: str, method: str, prof: str = "paper") -> float:
    """The shared lr, or for TUNED_METHODS in a tuned profile the one of TUNING_LRS with the
    best validation mAP@all (the shared lr wins ties: it comes first)."""
    shared = TrainConfig.__dataclass_fields__["lr"].default
    if method not in TUNED_METHODS or not profile(prof).tuned:
        return shared
    scores = {cfg.lr: cached_record(cfg, f"tuning-{dataset}", profile(prof).results_dir)["metrics"]["map_all"]
              for cfg in tuning_configs(dataset, prof, methods=(method,))}
    return max(scores, key=scores.get)


def tuning_configs(dataset: str, prof: str = "paper",
                   methods: tuple[str, ...] = TUNED_METHODS) -> list[TrainConfig]:
    """48-bit, seed-0 validation runs of `methods` at each of TUNING_LRS."""
    p = profile(prof)
    return [base_config(dataset, prof, bits=max(p.bits), seed=p.seeds[0], eval_split="val",
                        method=m, lr=lr) for m in methods for lr in TUNING_LRS]


LABELS = {"dmh": "DMH", "ddh": "DDH", "dsh": "DSH", "dpsh": "DPSH", "hashnet": "HashNet",
          "csq": "CSQ", "dcdh": "DCDH"}


def _records(configs_of, prof: str) -> list[dict]:
    """Records of `configs_of(dataset, prof)` for every dataset of the profile (training what
    is missing)."""
    from .report import grid_records

    p = profile(prof)
    return [r for ds in p.datasets for r in grid_records(configs_of(ds, prof), p.results_dir)]


def deep_records(prof: str = "paper") -> list[dict]:
    """Records of every dataset's comparison grid (training what is missing)."""
    return _records(comparison_configs, prof)


def deep_frame(records: list[dict]):
    from .report import records_frame

    df = records_frame(records)
    df["method"] = df["method"].map(LABELS)
    return df


def shallow_records(prof: str = "paper", bits=None) -> list[dict]:
    """Every shallow method on pixels and on the pooled trunk of a 48-bit DMH run of the
    profile, seeded like the deep grid: every seed at the longest code, the first seed at
    the others. Seed s fits the method with seed s on the trunk of DMH's seed-s run.

    Cached records are read without the checkpoint; a missing one retrains that run's
    weights first (checkpoints are not committed)."""
    from .examples import ensure_checkpoint
    from .experiments import main_configs
    from .shallow import SHALLOW_METHODS, evaluate_shallow

    p = profile(prof)
    # the paper profile's records are committed; other profiles' stay beside their runs
    where = None if p.results is None else p.results_dir / "shallow"
    out = []
    for ds in p.datasets:
        trunks = {c.seed: c for c in main_configs(ds, prof) if c.bits == max(p.bits)}
        for k in bits or p.bits:
            for s in seeds_at(p, k):
                for m in SHALLOW_METHODS:
                    out.append(evaluate_shallow(m, ds, k, s, features="pixels", results_dir=where))
                    trunk = dict(features="dmh_trunk", run=trunks[s].name(), results_dir=where)
                    try:
                        rec = evaluate_shallow(m, ds, k, s, **trunk)
                    except FileNotFoundError:
                        ensure_checkpoint(trunks[s], p.results_dir)
                        rec = evaluate_shallow(m, ds, k, s, **trunk)
                    out.append(rec)
    return out


def shallow_frame(records: list[dict]):
    import pandas as pd

    names = {"pixels": "pixels", "dmh_trunk": "DMH trunk"}
    return pd.DataFrame([{"dataset": r["config"]["dataset"], "bits": r["config"]["bits"],
                          "seed": r["config"]["seed"],
                          "method": f"{r['config']['method']} ({names[r['config']['features']]})",
                          "map_all": r["metrics"]["map_all"], "p_at_r2": r["metrics"]["p_at_r2"],
                          "fit_s": r["fit_s"]} for r in records])


def winners(df, value: str = "map_all"):
    """Per dataset and code length: the best and second-best method by mean `value`, the
    margin, and the margin in units of the larger of the two methods' seed std at the
    longest code (the only length with several seeds; shorter codes borrow it, and a
    method fit with one seed only lends none)."""
    import pandas as pd

    stats = df.groupby(["dataset", "bits", "method"])[value].agg(["mean", "std", "count"]).reset_index()
    longest = stats.bits.max()
    spread = stats[stats.bits == longest].set_index(["dataset", "method"])["std"]
    rows = []
    for (ds, k), g in stats.groupby(["dataset", "bits"]):
        g = g.sort_values("mean", ascending=False)
        first, second = g.iloc[0], g.iloc[1]
        sds = [spread.get((ds, m), float("nan")) for m in (first.method, second.method)]
        sd = max((x for x in sds if x == x), default=float("nan"))  # x == x: not NaN
        margin = first["mean"] - second["mean"]
        rows.append({"dataset": ds, "bits": k, "winner": first.method, "winner_map": first["mean"],
                     "runner_up": second.method, "runner_up_map": second["mean"],
                     "margin": margin, "seed_std_48": sd, "margin_over_std": margin / sd if sd > 0 else float("nan"),
                     "seeds": int(first["count"])})
    return pd.DataFrame(rows)


def pr_frame(records: list[dict], bits: int):
    """Precision-recall over Hamming radius of the `bits`-bit runs, mean over seeds."""
    from .report import curve_frame

    runs = [r for r in records if r["config"]["bits"] == bits]
    pr = curve_frame(runs, "pr_curve")
    pr["method"] = [LABELS[r["config"]["method"]] for r in runs
                    for _ in r["metrics"]["pr_curve"]["radius"]]
    return pr.groupby(["dataset", "method", "radius"], as_index=False)[["precision", "recall"]].mean()


def bench_frame(path):
    """The CPU throughput table `benchmarks/bench_train.py --json PATH` wrote."""
    import json
    from pathlib import Path

    import pandas as pd

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} missing: run `python benchmarks/bench_train.py --json {path}`")
    b = json.loads(path.read_text())
    df = pd.DataFrame(b["rows"])
    df["model"] = [LABELS.get(m, m) for m in df["model"]]
    return df.set_index("model")


def tuning_frame(prof: str = "paper"):
    """Validation mAP@all of the pairwise baselines at each learning rate tried."""
    return deep_frame(_records(tuning_configs, prof))


def same_identity_pair_fraction(labels) -> float:
    """Share of same-identity pairs among all unordered pairs of `labels`: what a random
    batch gives a pairwise loss to learn from."""
    import numpy as np

    n = np.unique(np.asarray(labels), return_counts=True)[1].astype(np.float64)
    total = n.sum()
    if total < 2:
        raise ValueError(f"need at least 2 labels, got {int(total)}")
    return float((n * (n - 1)).sum() / (total * (total - 1)))
