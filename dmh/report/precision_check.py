"""Does bfloat16 autocast cost a baseline mAP? The plateau profile trains every method in
bf16; the precision grid's no-cost verdict is DMH's over its seeds. Grid `bf16check-<ds>`:
each deep baseline's chosen config on validation at 1x, first seed, in float32 and in bf16,
the difference read in the study's seed std (DMH's: one seed of each)."""
from __future__ import annotations

import textwrap

import pandas as pd

from ..experiments import configs as C
from ..experiments.profiles import Profile, get_profile
from ..methods import label
from .frames import NAMES
from .recipe import study_seed_std
from .spread import in_seed_std


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
    """Per dataset: the baselines bf16 costs more than two seed stds, or that it costs none."""
    out = []
    for ds, g in df.groupby("dataset", sort=False):
        cost = g[g["in seed std"] < -2]
        out.append(f"{ds}: " + (
            "bf16 costs " + ", ".join(f"{r.method} {r['bf16 - fp32']:+.4f} ({r['in seed std']:+.1f} "
                                      f"seed std)" for _, r in cost.iterrows())
            + " beyond two seed stds: at the plateau budget they should train in float32."
            if len(cost) else f"bf16 costs none of the {len(g)} baseline{'s' * (len(g) != 1)} "
                              f"checked more than two seed stds (largest loss {g['bf16 - fp32'].min():+.4f})."))
    return "\n".join(textwrap.fill(s, 90) for s in out)
