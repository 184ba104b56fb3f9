"""Records as tables: one row per run, mean ± std over seeds, stored curves, machines."""
from __future__ import annotations

import collections

import numpy as np
import pandas as pd

from ..methods import label

# Datasets as the book names them.
NAMES = {"lfw": "LFW", "pins": "Pins"}


def machine_of(record) -> str:
    """The machine a record was made on, e.g. `AMD EPYC (cpu, 1 thread)` or `NVIDIA H200 (cuda)`."""
    hw = record.hardware
    if "gpu" in hw:
        return f"{hw['gpu']} (cuda)"
    n = hw["torch_threads"]
    return f"{hw['cpu']} (cpu, {n} thread{'s' * (n != 1)})"


def records_frame(records, **extra_cols) -> pd.DataFrame:
    """One row per run: dataset, bits, seed, variant columns and the headline metrics."""
    rows = []
    for r in records:
        c, m = r.config, r.metrics
        rows.append({"dataset": r.dataset, "bits": c.bits, "seed": c.seed, "trunk": c.trunk,
                     "head": c.head, "losses": "+".join(c.losses), "lam": c.lam, "mu": c.mu,
                     "lr": c.lr, "epochs": c.epochs, "precision": c.precision, "map_all": m["map_all"],
                     "map_all_stable": m["map_all_stable"], "map_all_float": m["map_all_float"],
                     "p_at_r2": m["p_at_r2"], "p_at_10": m["precision_at_k"].get("10", np.nan),
                     "p_at_100": m["precision_at_k"].get("100", np.nan), "train_s": r.train_s,
                     "n_parameters": r.n_parameters, "method": c.method, "label": label(c.method),
                     "device": r.device, "machine": machine_of(r), "commit": r.git_commit[:10]})
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


def pivot_mean_std(df: pd.DataFrame, index, columns, value: str = "map_all",
                   digits: int = 4) -> pd.DataFrame:
    """A table of `mean ± std` over seeds, e.g. datasets x bits."""
    index = [index] if isinstance(index, str) else list(index)
    columns = [columns] if isinstance(columns, str) else list(columns)
    t = mean_std(df, index + columns, value, digits)
    return t.pivot(index=index[0] if len(index) == 1 else index,
                   columns=columns[0] if len(columns) == 1 else columns, values=value)


def curve_frame(records, curve: str) -> pd.DataFrame:
    """Long table of a stored curve: `precision_at_k` (k, precision) or `pr_curve`
    (radius, precision, recall), one row per run and point."""
    rows = []
    for r in records:
        base = {"dataset": r.dataset, "bits": r.config.bits, "seed": r.config.seed,
                "method": label(r.config.method)}
        m = r.metrics
        if curve == "precision_at_k":
            rows += [base | {"k": int(k), "precision": v} for k, v in m["precision_at_k"].items()]
        elif curve == "pr_curve":
            pr = m["pr_curve"]
            rows += [base | {"radius": d, "precision": p, "recall": q}
                     for d, p, q in zip(pr["radius"], pr["precision"], pr["recall"])]
        else:
            raise ValueError(f"unknown curve {curve!r}")
    return pd.DataFrame(rows)


def hardware_line(runs) -> str:
    """Which machines made these runs (records or a `records_frame`), most runs first."""
    machines = runs["machine"] if isinstance(runs, pd.DataFrame) else map(machine_of, runs)
    count = collections.Counter(machines)
    return "; ".join(f"{n} run{'s' * (n != 1)} on {w}" for w, n in count.most_common())
