"""Tables and figures' data from run records: what the notebooks show, computed here."""
from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from .core.config import TrainConfig


def records_frame(records: list[dict], **extra_cols) -> pd.DataFrame:
    """One row per run: dataset, bits, seed, variant columns and the headline metrics."""
    rows = []
    for r in records:
        c, m = r["config"], r["metrics"]
        rows.append({"dataset": r["split"]["dataset"], "bits": c["bits"], "seed": c["seed"],
                     "trunk": c["trunk"], "head": c["head"], "losses": "+".join(c["losses"]),
                     "lam": c["lam"], "mu": c["mu"], "lr": c["lr"], "epochs": c["epochs"],
                     "map_all": m["map_all"], "map_all_stable": m["map_all_stable"],
                     "map_all_float": m["map_all_float"], "p_at_r2": m["p_at_r2"],
                     "p_at_10": m["precision_at_k"].get("10", np.nan),
                     "p_at_100": m["precision_at_k"].get("100", np.nan),
                     "train_s": r["train_s"], "n_parameters": r["n_parameters"],
                     "method": c.get("method", "dmh"), "device": r["hardware"]["device"],
                     "machine": machine_of(r),
                     "commit": r["git_commit"][:10]})
    df = pd.DataFrame(rows)
    for k, v in extra_cols.items():
        df[k] = v
    return df


def mean_std(df: pd.DataFrame, by: list[str], value: str = "map_all", digits: int = 4) -> pd.DataFrame:
    """`mean ± std (n)` over seeds for each group; std is the sample std (ddof=1)."""
    g = df.groupby(by, sort=False)[value]
    out = g.agg(["mean", "std", "count"]).reset_index()
    out[value] = [f"{m:.{digits}f} ± {s:.{digits}f}" if n > 1 else f"{m:.{digits}f}"
                  for m, s, n in zip(out["mean"], out["std"].fillna(0.0), out["count"])]
    return out.drop(columns=["mean", "std"]).rename(columns={"count": "seeds"})


def pivot_mean_std(df: pd.DataFrame, index: str, columns: str, value: str = "map_all",
                   digits: int = 4) -> pd.DataFrame:
    """A table of `mean ± std` over seeds, e.g. datasets x bits."""
    t = mean_std(df, [index, columns], value, digits)
    return t.pivot(index=index, columns=columns, values=value)


def curve_frame(records: list[dict], curve: str) -> pd.DataFrame:
    """Long table of a stored curve: `precision_at_k` (k, precision) or `pr_curve`
    (radius, precision, recall), one row per run and point."""
    rows = []
    for r in records:
        base = {"dataset": r["split"]["dataset"], "bits": r["config"]["bits"],
                "seed": r["config"]["seed"]}
        m = r["metrics"]
        if curve == "precision_at_k":
            rows += [base | {"k": int(k), "precision": v} for k, v in m["precision_at_k"].items()]
        elif curve == "pr_curve":
            pr = m["pr_curve"]
            rows += [base | {"radius": d, "precision": p, "recall": q}
                     for d, p, q in zip(pr["radius"], pr["precision"], pr["recall"])]
        else:
            raise ValueError(f"unknown curve {curve!r}")
    return pd.DataFrame(rows)


def grid_records(configs: Iterable[TrainConfig], results_dir) -> list[dict]:
    """Records of a grid in the profile's results folder, training what is missing."""
    from .experiments import run_grid

    return run_grid(list(configs), workers=1, log=lambda s: None, results_dir=results_dir)


def floors_frame() -> pd.DataFrame:
    """The untrained floors (`dmh floors`, results/floors.json) as a table."""
    import json

    from .core.paths import RESULTS_DIR

    path = RESULTS_DIR / "floors.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} missing: run `dmh floors`")
    return pd.DataFrame(json.loads(path.read_text())["rows"])


def ablation_frame(prof: str, variants: list[str]) -> pd.DataFrame:
    """One row per run of the named ablation variants (`dmh.experiments.ABLATIONS`) on every
    dataset of the profile; trains what is missing."""
    from . import experiments as E

    p = E.profile(prof)
    frames = []
    for ds in p.datasets:
        for name, cfgs in E.ablation_configs(ds, prof, variants).items():
            frames.append(records_frame(grid_records(cfgs, p.results_dir), variant=name))
    return pd.concat(frames, ignore_index=True)


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


def machine_of(record: dict) -> str:
    """The machine a record was made on, e.g. `AMD EPYC (cpu, 1 thread)` or `NVIDIA H200 (cuda)`."""
    hw = record["hardware"]
    if "gpu" in hw:
        return f"{hw['gpu']} (cuda)"
    n = hw["torch_threads"]
    return f"{hw['cpu']} (cpu, {n} thread{'s' * (n != 1)})"


def hardware_line(runs) -> str:
    """Which machines made these runs (records or a `records_frame`), most runs first."""
    import collections

    machines = runs["machine"] if isinstance(runs, pd.DataFrame) else map(machine_of, runs)
    count = collections.Counter(machines)
    return "; ".join(f"{n} run{'s' * (n != 1)} on {w}" for w, n in count.most_common())


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


def verdicts(df: pd.DataFrame, baseline: str, value: str = "map_all") -> list[str]:
    """One sentence per dataset and variant: its mean `value` against `baseline`'s, the
    difference in units of the larger sample std over seeds of the two, and whether that
    is beyond two such stds (a difference the seeds alone rarely make)."""
    out = []
    for ds, g in df.groupby("dataset", sort=False):
        stats = g.groupby("variant", sort=False)[value].agg(["mean", "std", "count"])
        b = stats.loc[baseline]
        for name, s in stats.drop(index=baseline).iterrows():
            d, sd = s["mean"] - b["mean"], max(s["std"], b["std"])
            if not sd > 0:
                spread = "no seed spread to compare with (one seed)"
            else:
                spread = (f"{d / sd:+.1f} seed std, "
                          f"{'beyond' if abs(d) > 2 * sd else 'within'} two seed stds")
            out.append(f"{ds}: {name} {s['mean']:.4f} vs {baseline} {b['mean']:.4f} "
                       f"({d:+.4f}; {spread})")
    return out
