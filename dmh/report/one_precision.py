"""Verdicts at the plateau budget, each drawn in one precision. A cell reads its float32 run,
or its bfloat16 twin standing in until that lands (`experiments.precision_twins`); where a
row and its baseline read different precisions, the row is read again with every cell
preferring its bf16 twin, and the verdict is drawn there if both sides are then in one
precision (said so in the row); otherwise it gets none (`ACROSS`). Reads records only."""
from __future__ import annotations

import pandas as pd

from ..experiments.precision_twins import preferring_twins
from . import frames as F
from .ablations import verdict_table

ACROSS = "no verdict across precisions"


def _precisions(df: pd.DataFrame) -> pd.Series:
    """Per (dataset, variant): its runs' precisions, `bf16`, `fp32` or `bf16+fp32`."""
    return df.groupby(["dataset", "variant"], sort=False)["precision"].agg(lambda s: "+".join(sorted(set(s))))


def against(frames: list[pd.DataFrame], baseline: str) -> pd.DataFrame:
    """`verdict_table` of the runs in `frames` against `baseline` per dataset where both
    landed, with each one's seeds and the baseline's, and each one's precision and the
    baseline's: where they differ, or either side's seeds mix precisions, the verdict is
    `ACROSS`."""
    df = pd.concat([f for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) \
        else pd.DataFrame()
    if not len(df):
        return df
    df["dataset"] = df["dataset"].map(F.NAMES)
    both = [ds for ds, g in df.groupby("dataset") if baseline in set(g.variant) and g.variant.nunique() > 1]
    df = df[df.dataset.isin(both)]
    if not len(df):
        return df
    seeds = df.groupby(["dataset", "variant"], sort=False).size().rename("seeds").reset_index()
    own = seeds[seeds.variant == baseline].set_index("dataset")["seeds"].rename(f"{baseline} seeds")
    out = verdict_table(df, baseline).merge(seeds, on=["dataset", "variant"])
    out = out.merge(own, left_on="dataset", right_index=True)
    prec = _precisions(df)
    out["precision"] = [prec[d, v] for d, v in zip(out.dataset, out.variant)]
    out[f"{baseline} precision"] = [prec[d, baseline] for d in out.dataset]
    mixed = out.precision.str.contains("+", regex=False) | out[f"{baseline} precision"].str.contains("+", regex=False)
    out.loc[(out.precision != out[f"{baseline} precision"]) | mixed, "verdict"] = ACROSS  # one precision each
    return out


def in_one_precision(table, q) -> pd.DataFrame:
    """`table(q)` (`against`'s rows for plateau profile `q`), each `ACROSS` row replaced by
    its reading with every cell preferring the other precision's run, where that row has a
    verdict: the profile's own precision first, its twins' where only they share one."""
    out = table(q)
    if q is None or not len(out) or not (out.verdict == ACROSS).any():
        return out
    other = table(preferring_twins(q))
    other = other[other.verdict != ACROSS].set_index(["dataset", "variant"]) if len(other) else other
    rows = [other.loc[(r.dataset, r.variant)].to_dict() | {"dataset": r.dataset, "variant": r.variant}
            if r.verdict == ACROSS and len(other) and (r.dataset, r.variant) in other.index else r.to_dict()
            for _, r in out.iterrows()]
    return pd.DataFrame(rows, columns=out.columns)
