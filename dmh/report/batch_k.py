"""What a batch holds, on validation: runs that differ only in their sampler, per dataset and
method, with the change from the first sampler to the last in the study's seed std.

- `centersampler-<ds>`: the centre-based losses (DMH, DCDH, CSQ) with random batches and
  with P x K batches (16 people x 4 photos);
- `batchk-<ds>`: every method whose loss reads a batch's pairs or centres, with P x K
  batches of 64 at each K of the study (K = 4 is the runs above and the pairwise
  baselines' batches since the sampler study)."""
from __future__ import annotations

import math
import textwrap

import pandas as pd

from ..experiments import configs as C
from ..experiments.batch_k import BATCH_K, BATCH_K_METHODS
from ..experiments.profiles import Profile, get_profile
from ..methods import label
from .frames import NAMES
from .reading import records, split_stored
from .recipe import study_seed_std
from .spread import BEYOND, in_seed_std


def sampler_change_frame(p: Profile, kind: str, methods, samplers: dict[str, str]) -> pd.DataFrame:
    """One row per dataset and method with a landed run of grid `<kind>-<ds>`: val mAP@all
    under each of `samplers` (column name -> sampler; NaN where not landed), the change from
    the first to the last and that change in the study's seed std."""
    first, last = list(samplers)[0], list(samplers)[-1]
    rows = []
    for ds in p.datasets:
        name, std = f"{kind}-{ds}", study_seed_std(ds, p)
        got = {(r.config.method, r.config.sampler): r.metrics["map_all"]
               for r in records(name, p, split_stored(name, p)[0])}
        for m in methods:
            row = {col: got.get((m, s), math.nan) for col, s in samplers.items()}
            if all(math.isnan(v) for v in row.values()):
                continue
            change = row[last] - row[first]
            rows.append({"dataset": NAMES[ds], "method": label(m), **row, "change": change,
                         "in seed std": in_seed_std(change, std)})
    return pd.DataFrame(rows)


def change_lines(df: pd.DataFrame, what: str, unlanded: str, against: str = "") -> str:
    """Per dataset: the methods that `what` (the last sampler) moves beyond two seed stds,
    either way, or that it moves none; `unlanded` where no method has both runs."""
    out = []
    for ds, g in df.groupby("dataset", sort=False):
        both = g.dropna(subset=["change"])
        if not len(both):
            out.append(f"{ds}: {unlanded}")
            continue
        moved = [f"{r.method} {r.change:+.4f} ({r['in seed std']:+.1f} seed std)"
                 for _, r in both.iterrows() if abs(r["in seed std"]) > BEYOND]
        out.append(f"{ds}: {what} move " + (", ".join(moved) if moved else f"none of {', '.join(both.method)}")
                   + f" beyond two seed stds{against}.")
    return "\n".join(textwrap.fill(s, 90) for s in out)


def center_sampler_frame(profile: str | Profile) -> pd.DataFrame:
    """The centre-based losses with random and with P x K batches."""
    return sampler_change_frame(get_profile(profile), "centersampler", C.CENTER_METHODS,
                                {"random batches": "random", "P x K batches": "pk4"})


def center_sampler_lines(df: pd.DataFrame) -> str:
    """Per dataset: the centre-based methods P x K batches help or hurt beyond two seed stds."""
    return change_lines(df, "P x K batches", "no method has landed with both batches yet.")


def batch_k_frame(profile: str | Profile) -> pd.DataFrame:
    """Every method of the batch study at each K of `BATCH_K`."""
    return sampler_change_frame(get_profile(profile), "batchk", BATCH_K_METHODS,
                                {f"K = {k}": f"pk{k}" for k in BATCH_K})


def batch_k_lines(df: pd.DataFrame) -> str:
    """Per dataset: the methods that the last K moves beyond two seed stds, either way."""
    return change_lines(df, f"{BATCH_K[-1]} photos a person in a batch", "no method has landed at both Ks yet.",
                        f" (against {BATCH_K[0]})")
