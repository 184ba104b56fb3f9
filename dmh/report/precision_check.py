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
    """Per dataset: the baselines bf16 costs more than two seed stds (the plateau profile
    trains those in float32, `Profile.fp32_methods`), or that it costs none; and how many lost
    any mAP at all, since one seed each can hide a small cost they share."""
    out = []
    for ds, g in df.groupby("dataset", sort=False):
        cost = g[g["in seed std"] < -BEYOND]
        line = f"{ds}: " + (
            "bf16 costs " + ", ".join(f"{r.method} {r['bf16 - fp32']:+.4f} ({r['in seed std']:+.1f} "
                                      f"seed std)" for _, r in cost.iterrows())
            + " beyond two seed stds: such a method trains its plateau runs in float32."
            if len(cost) else f"bf16 costs none of the {len(g)} baseline{'s' * (len(g) != 1)} "
                              f"checked more than two seed stds (largest loss {g['bf16 - fp32'].min():+.4f}).")
        lost = g[g["bf16 - fp32"] < 0]
        line += (f" {len(lost)} of {len(g)} lost some mAP under bf16 (mean "
                 f"{g['in seed std'].mean():+.1f} seed std): the rest train in bf16 by the "
                 f"two-seed-std rule DMH's own check passed, a possible small cost to them.")
        out.append(line)
    return "\n".join(textwrap.fill(s, 90) for s in out)
