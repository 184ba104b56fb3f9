"""Tables and figures' data from run records: what the notebooks show, computed here."""
from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from .config import TrainConfig
from .train import train


def run_records(configs: Iterable[TrainConfig], *, progress: bool = False) -> list[dict]:
    """The record of each config: read from the cache, or trained now (then cached)."""
    return [train(cfg, progress=progress) for cfg in configs]


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
