"""The binary-float gap trials (grid `gap-<ds>`, validation): per trial, the codes' mAP@all,
their float outputs', the gap between them (issue 10's goal: within 3 points), and the
codes' change from the recipe as chosen in the study's seed std."""
from __future__ import annotations

import textwrap

import pandas as pd

from ..experiments import configs as C
from ..experiments.profiles import Profile, get_profile
from .frames import NAMES
from .plateau_results import GOAL_FLOAT_GAP as GAP_GOAL
from .recipe import landed_trials
from .spread import BEYOND

def gap_frame(profile: str | Profile) -> pd.DataFrame:
    """One row per gap trial that landed, per dataset of the profile."""
    rows = []
    for ds, name, r, diff, z in landed_trials("gap", C.gap_configs, get_profile(profile)):
        codes, floats = r.metrics["map_all"], r.metrics["map_all_float"]
        rows.append({"dataset": NAMES[ds], "trial": name, "codes val mAP@all": codes,
                     "float val mAP@all": floats, "codes - float": codes - floats,
                     "codes vs chosen": diff, "in seed std": z})
    return pd.DataFrame(rows)


def gap_missing(profile: str | Profile) -> list[str]:
    """`<dataset>: <trial>` for every gap trial of the profile not trained yet."""
    p = get_profile(profile)
    return [f"{NAMES[ds]}: {name}" for ds in p.datasets
            for name, c in C.gap_configs(ds, p).items() if not p.store.has_run(c)]


def gap_lines(df: pd.DataFrame) -> str:
    """Per dataset: the recipe's gap, the trial with the narrowest one, the trials whose codes
    beat the recipe's by more than two seed stds, and the trials that both meet the goal and
    keep the codes' mAP (no loss beyond two seed stds)."""
    out = []
    for ds, g in df.groupby("dataset", sort=False):
        base = g[g.trial == "recipe as chosen"]
        if not len(base):
            out.append(f"{ds}: the recipe as chosen has not landed; nothing to compare with.")
            continue
        b, narrow = base.iloc[0], g.loc[g["codes - float"].idxmax()]
        line = (f"{ds}: as chosen, the codes are {-b['codes - float'] * 100:.1f} points under "
                f"their float outputs; {narrow.trial} has the narrowest gap "
                f"({-narrow['codes - float'] * 100:.1f} points, codes {narrow['codes vs chosen']:+.4f}).")
        if g["in seed std"].isna().all():
            out.append(line + " No seed spread to judge the codes' changes by (one seed).")
            continue
        better = g[g["in seed std"] > BEYOND]
        line += (" Codes better by more than two seed stds: " + ", ".join(
            f"{r.trial} ({r['codes vs chosen']:+.4f}, {r['in seed std']:+.1f} seed std)"
            for _, r in better.iterrows()) + "." if len(better) else
            " No trial's codes beat the recipe as chosen by more than two seed stds.")
        keep = g[(g["codes - float"] >= -GAP_GOAL) & ~(g["in seed std"] < -BEYOND)]
        line += (f" Within {GAP_GOAL * 100:.0f} points and no loss beyond two seed stds: "
                 f"{', '.join(keep.trial)}." if len(keep) else
                 f" No trial brings the codes within {GAP_GOAL * 100:.0f} points of their floats "
                 "without losing mAP beyond two seed stds.")
        out.append(line)
    return "\n".join(textwrap.fill(s, 90) for s in out)
