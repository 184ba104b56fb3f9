"""Photos of a person per batch, on validation (`batchk-<ds>`): every method whose loss reads
a batch's pairs or centres, with P x K batches of 64 at each K of the study (K = 4, the
pairwise baselines' batches since the sampler study, is 16 people x 4 photos); the change
from the first K to the last, in the study's seed std."""
from __future__ import annotations

import math
import textwrap

import pandas as pd

from ..experiments.batch_k import BATCH_K, BATCH_K_METHODS
from ..experiments.profiles import Profile, get_profile
from ..methods import label
from .frames import NAMES
from .reading import records, split_stored
from .recipe import study_seed_std
from .spread import BEYOND, in_seed_std


def batch_k_frame(profile: str | Profile) -> pd.DataFrame:
    """One row per dataset and method with a landed run: val mAP@all at each K (NaN where not
    landed), the change from the first K to the last and that change in seed std."""
    p = get_profile(profile)
    first, last = f"K = {BATCH_K[0]}", f"K = {BATCH_K[-1]}"
    rows = []
    for ds in p.datasets:
        name, std = f"batchk-{ds}", study_seed_std(ds, p)
        got = {(r.config.method, r.config.sampler): r.metrics["map_all"]
               for r in records(name, p, split_stored(name, p)[0])}
        for m in BATCH_K_METHODS:
            row = {f"K = {k}": got.get((m, f"pk{k}"), math.nan) for k in BATCH_K}
            if all(math.isnan(v) for v in row.values()):
                continue
            change = row[last] - row[first]
            rows.append({"dataset": NAMES[ds], "method": label(m), **row, "change": change,
                         "in seed std": in_seed_std(change, std)})
    return pd.DataFrame(rows)


def batch_k_lines(df: pd.DataFrame) -> str:
    """Per dataset: the methods that the last K moves beyond two seed stds, either way."""
    k = BATCH_K[-1]
    out = []
    for ds, g in df.groupby("dataset", sort=False):
        both = g.dropna(subset=["change"])
        moved = [f"{r.method} {r.change:+.4f} ({r['in seed std']:+.1f} seed std)"
                 for _, r in both.iterrows() if abs(r["in seed std"]) > BEYOND]
        if not len(both):
            out.append(f"{ds}: no method has landed at both Ks yet.")
            continue
        out.append(f"{ds}: {k} photos a person in a batch move "
                   + (", ".join(moved) if moved else f"none of {', '.join(both.method)}")
                   + f" beyond two seed stds (against {BATCH_K[0]}).")
    return "\n".join(textwrap.fill(s, 90) for s in out)
