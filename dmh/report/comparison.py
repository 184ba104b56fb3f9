"""The comparison chapter's tables: DMH against deep and shallow baselines."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..experiments.configs import tune_configs
from ..experiments.profiles import get_profile
from .frames import curve_frame, records_frame
from .reading import bench_rows, records
from .spread import in_seed_std, largest_std

FEATURE_NAMES = {"pixels": "pixels", "dmh_trunk": "DMH trunk"}


def deep_frame(recs) -> pd.DataFrame:
    """`records_frame` with methods by their labels, by dataset and code length (shortest
    first, whatever order the grid trained them in; stable: methods keep the grid's order)."""
    df = records_frame(recs)
    df["method"] = df["label"]
    return df.sort_values(["dataset", "bits"], kind="stable").reset_index(drop=True) if len(df) else df


def shallow_frame(recs) -> pd.DataFrame:
    return pd.DataFrame([{"dataset": r.config["dataset"], "bits": r.config["bits"],
                          "seed": r.config["seed"],
                          "method": f"{r.config['method']} ({FEATURE_NAMES[r.config['features']]})",
                          "map_all": r.metrics["map_all"], "p_at_r2": r.metrics["p_at_r2"],
                          "fit_s": r.fit_s} for r in recs])


def winners(df: pd.DataFrame, value: str = "map_all") -> pd.DataFrame:
    """Per dataset and code length: the best and second-best method by mean `value`, the
    margin, and the margin in seed-spread units (`report.spread`) at the longest code (the
    only length with several seeds; shorter codes borrow it, and a method fit with one seed
    only lends none)."""
    stats = df.groupby(["dataset", "bits", "method"])[value].agg(["mean", "std", "count"]).reset_index()
    longest = stats.bits.max()
    spread = stats[stats.bits == longest].set_index(["dataset", "method"])["std"]
    rows = []
    for (ds, k), g in stats.groupby(["dataset", "bits"]):
        g = g.sort_values("mean", ascending=False)
        first, second = g.iloc[0], g.iloc[1]
        sds = [spread.get((ds, m), float("nan")) for m in (first.method, second.method)]
        margin = first["mean"] - second["mean"]
        rows.append({"dataset": ds, "bits": k, "winner": first.method, "winner_map": first["mean"],
                     "runner_up": second.method, "runner_up_map": second["mean"],
                     "margin": margin, "seed_std_48": largest_std(*sds),
                     "margin_over_std": in_seed_std(margin, *sds), "seeds": int(first["count"])})
    return pd.DataFrame(rows)


def pr_frame(recs, bits: int) -> pd.DataFrame:
    """Precision-recall over Hamming radius of the `bits`-bit runs, mean over seeds."""
    pr = curve_frame([r for r in recs if r.config.bits == bits], "pr_curve")
    return pr.groupby(["dataset", "method", "radius"], as_index=False)[["precision", "recall"]].mean()


def bench_frame() -> pd.DataFrame:
    """The committed CPU throughput of every deep method."""
    from ..methods import label

    df = pd.DataFrame(bench_rows())
    df["model"] = [label(m) for m in df["model"]]
    return df.set_index("model")


def tuning_frame(profile) -> pd.DataFrame:
    """Validation mAP@all of the pairwise baselines at each learning rate tried."""
    p = get_profile(profile)
    return deep_frame([r for ds in p.datasets
                       for r in records(f"tune-{ds}", p, tune_configs(ds, p, exclude=("dmh",)))])


def same_identity_pair_fraction(labels) -> float:
    """Share of same-identity pairs among all unordered pairs of `labels`: what a random
    batch gives a pairwise loss to learn from."""
    n = np.unique(np.asarray(labels), return_counts=True)[1].astype(np.float64)
    total = n.sum()
    if total < 2:
        raise ValueError(f"need at least 2 labels, got {int(total)}")
    return float((n * (n - 1)).sum() / (total * (total - 1)))
