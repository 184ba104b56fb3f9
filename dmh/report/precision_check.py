"""Does bfloat16 autocast change a method's mAP? At 1x, grid `bf16check-<ds>`: each deep
baseline's chosen config on validation, first seed, in float32 and in bf16, the difference
read in the study's seed std (DMH's own verdict is the precision grid's, over its seeds). At
the plateau budget, the plateau grid's runs that landed in both precisions (`plateau_twins`):
there bf16 moved the methods apart, so the plateau profile trains every method in float32."""
from __future__ import annotations

import textwrap

import pandas as pd

from ..experiments import configs as C
from ..experiments.precision_twins import own_runs, twin
from ..experiments.profiles import Profile, get_profile
from ..methods import label
from .frames import NAMES
from .recipe import study_seed_std
from .spread import BEYOND, in_seed_std


def precision_check_frame(profile: str | Profile) -> pd.DataFrame:
    """Per dataset and baseline with both runs landed: fp32 and bf16 validation mAP@all, the
    difference and that difference in the study's seed std."""
    p = get_profile(profile)
    rows = []
    for ds in p.datasets:
        std = study_seed_std(ds, p)
        got = {(c.method, c.precision): p.store.load_run(c)
               for c in C.precision_check_configs(ds, p) if p.store.has_run(c)}
        for m in dict.fromkeys(m for m, _ in got):
            if (m, "fp32") in got and (m, "bf16") in got:
                a, b = got[m, "fp32"].metrics["map_all"], got[m, "bf16"].metrics["map_all"]
                rows.append({"dataset": NAMES[ds], "method": label(m), "fp32 val mAP@all": a,
                             "bf16 val mAP@all": b, "bf16 - fp32": b - a,
                             "in seed std": in_seed_std(b - a, std)})
    return pd.DataFrame(rows)


def precision_check_lines(df: pd.DataFrame) -> str:
    """Per dataset: the baselines bf16 costs more than two seed stds, or that it costs none;
    and how many lost any mAP at all, since one seed each can hide a small cost they share."""
    out = []
    for ds, g in df.groupby("dataset", sort=False):
        cost = g[g["in seed std"] < -BEYOND]
        line = f"{ds}: " + (
            "bf16 costs " + ", ".join(f"{r.method} {r['bf16 - fp32']:+.4f} ({r['in seed std']:+.1f} "
                                      f"seed std)" for _, r in cost.iterrows())
            + " beyond two seed stds."
            if len(cost) else f"bf16 costs none of the {len(g)} baseline{'s' * (len(g) != 1)} "
                              f"checked more than two seed stds (largest loss {g['bf16 - fp32'].min():+.4f}).")
        lost = g[g["bf16 - fp32"] < 0]
        line += (f" {len(lost)} of {len(g)} lost some mAP under bf16 (mean "
                 f"{g['in seed std'].mean():+.1f} seed std).")
        out.append(line)
    return "\n".join(textwrap.fill(s, 90) for s in out)


def plateau_twins(profile: str | Profile) -> pd.DataFrame:
    """Per dataset, method or DMH variant, and budget of the plateau grid (validation, longest
    code, seed 0) where the run landed in float32 and in bfloat16: both mAP@all and bf16's
    change, absolute and relative. Empty for a profile without plateau runs."""
    from .ladder import who
    from .plateau_results import plateau_of

    q = plateau_of(profile)
    rows = []
    for ds in (q.datasets if q else ()):
        for pair in C.plateau_pairs(ds, own_runs(q)):
            for c in pair:
                if c.precision == "fp32" and q.store.has_run(c) and q.store.has_run(twin(c)):
                    a, b = (q.store.load_run(x).metrics["map_all"] for x in (c, twin(c)))
                    rows.append({"dataset": NAMES[ds], "method": who(c), "epochs": c.epochs,
                                 "fp32 val mAP@all": a, "bf16 val mAP@all": b,
                                 "bf16 - fp32": b - a, "relative": b / a - 1})
    return pd.DataFrame(rows)


def plateau_twins_line(df: pd.DataFrame) -> str:
    """The range of bf16's relative change at the plateau budget, and who it helped and hurt."""
    if not len(df):
        return "no plateau run has landed in both precisions yet"
    lo, hi = df.loc[df.relative.idxmin()], df.loc[df.relative.idxmax()]
    return textwrap.fill(
        f"At the plateau budget bf16 - fp32 ranges from {lo.relative:+.1%} ({lo.dataset} {lo.method}) "
        f"to {hi.relative:+.1%} ({hi.dataset} {hi.method}) over {len(df)} run{'s' * (len(df) != 1)} "
        f"in both precisions: {int((df.relative > 0).sum())} gained, {int((df.relative < 0).sum())} lost. "
        f"A comparison in bf16 would carry those differences, so the plateau profile trains every "
        f"method in float32 and no verdict is drawn across precisions.", 90)
