"""The ablation chapters' tables: variants against full DMH, the lam/mu sensitivity."""
from __future__ import annotations

import pandas as pd

from ..experiments.configs import ablation_configs
from ..experiments.profiles import get_profile
from .frames import mean_std, records_frame
from .reading import records
from .spread import in_seed_std, spread_words


def ablation_frame(profile, variants: list[str]) -> pd.DataFrame:
    """One row per run of the named variants (`experiments.configs.ABLATIONS`) on every
    dataset of the profile."""
    p = get_profile(profile)
    return pd.concat([records_frame(records(f"ablation-{ds}", p, cfgs), variant=name)
                      for ds in p.datasets
                      for name, cfgs in ablation_configs(ds, p, variants).items()], ignore_index=True)


def ablation_table(df: pd.DataFrame) -> pd.DataFrame:
    """Per dataset and variant: parameters, mAP@all and float mAP (mean ± std), and the mean
    training seconds per device (`train_s (cpu)`, ...): times compare only within a device."""
    keys = ["dataset", "variant"]
    t = mean_std(df, keys, "map_all")
    t["map_all_float"] = mean_std(df, keys, "map_all_float")["map_all_float"]
    t["p_at_r2"] = mean_std(df, keys, "p_at_r2")["p_at_r2"]
    agg = df.groupby(keys, sort=False).agg(parameters=("n_parameters", "first")).reset_index()
    times = df.pivot_table(index=keys, columns="device", values="train_s", aggfunc="mean", sort=False)
    times.columns = [f"train_s ({d})" for d in times.columns]
    return t.merge(agg, on=keys).merge(times.reset_index(), on=keys).set_index(keys)


def verdict_table(df: pd.DataFrame, baseline: str, value: str = "map_all") -> pd.DataFrame:
    """One row per dataset and variant: its mean `value`, the baseline's, the difference, the
    difference in seed-spread units (`report.spread`) and the verdict in words."""
    rows = []
    for ds, g in df.groupby("dataset", sort=False):
        stats = g.groupby("variant", sort=False)[value].agg(["mean", "std", "count"])
        b = stats.loc[baseline]
        for name, s in stats.drop(index=baseline).iterrows():
            d = s["mean"] - b["mean"]
            ratio = in_seed_std(d, s["std"], b["std"])
            rows.append({"dataset": ds, "variant": name, "variant mean": s["mean"],
                         "baseline mean": b["mean"], "difference": d, "in seed std": ratio,
                         "verdict": spread_words(ratio).split(", ")[-1]})
    return pd.DataFrame(rows)


def verdicts(df: pd.DataFrame, baseline: str, value: str = "map_all") -> list[str]:
    """`verdict_table` as one sentence per row."""
    return [f"{r['dataset']}: {r['variant']} {r['variant mean']:.4f} vs {baseline} "
            f"{r['baseline mean']:.4f} ({r['difference']:+.4f}; {spread_words(r['in seed std'])})"
            for _, r in verdict_table(df, baseline, value).iterrows()]


def sensitivity_summary(val: dict[str, pd.DataFrame], test: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per dataset: the lam/mu chosen on validation, its test mAP and rank among the test
    runs, the best test setting, and the Spearman correlation of validation and test mAP."""
    rows = []
    for ds, v in val.items():
        t = test[ds].set_index(["lam", "mu"])["map_all"]
        v = v.set_index(["lam", "mu"])["map_all"].reindex(t.index)
        chosen = v.idxmax()
        best = t.idxmax()
        rows.append({"dataset": ds, "chosen (lam, mu)": chosen, "chosen test mAP": t[chosen],
                     "chosen test rank": int((t > t[chosen]).sum()) + 1, "settings": len(t),
                     "best test (lam, mu)": best, "best test mAP": t[best],
                     "spearman(val, test)": v.rank().corr(t.rank())})
    return pd.DataFrame(rows).set_index("dataset")
