"""How well each DMH variant fits its training faces at the plateau budget, read from the
runs' own training logs (the last epoch's loss terms, averaged over its augmented batches,
then over the seeds landed): a variant that retrieves better and also fits better says the
paper's network is bound by what it can fit, not by overfitting."""
from __future__ import annotations

import textwrap

import pandas as pd

from ..experiments.configs import FULL_DMH
from ..experiments.profiles import Profile
from .frames import NAMES
from .plateau_results import landed_variants, plateau_of

TERMS = {"ce": "train softmax CE", "center": "train center", "quant": "train quantization"}


def fit_at_plateau(profile: str | Profile, variants: list[str]) -> pd.DataFrame:
    """Per dataset, full DMH and each named variant with landed runs: seeds, the mean last-epoch
    training loss terms (NaN for a term the variant leaves out) and the mean test mAP@all."""
    rows = []
    for ds, name, recs in landed_variants(plateau_of(profile), variants):
        if not recs:
            continue
        last = pd.DataFrame([r.history[-1] for r in recs])
        rows.append({"dataset": NAMES[ds], "variant": name, "seeds": len(recs),
                     **{col: last[t].mean() if t in last else float("nan") for t, col in TERMS.items()},
                     "test mAP@all": sum(r.metrics["map_all"] for r in recs) / len(recs)})
    return pd.DataFrame(rows)


def fit_lines(df: pd.DataFrame) -> str:
    """Per dataset and variant, against full DMH: whether every training loss term both have
    is lower (fits better), higher (fits worse) or neither, beside the test mAP change."""
    out = []
    for ds, g in df.groupby("dataset", sort=False):
        full = g[g.variant == FULL_DMH]
        if not len(full):
            continue
        base = full.iloc[0]
        for _, r in g[g.variant != FULL_DMH].iterrows():
            both = [c for c in TERMS.values() if r[c] == r[c] and base[c] == base[c]]
            lower = [r[c] < base[c] for c in both]
            fits = ("fits its training faces better (every loss term lower)" if all(lower) else
                    "fits them worse (every loss term higher)" if not any(lower) else
                    "fits them neither better nor worse throughout")
            terms = ", ".join(f"{c.removeprefix('train ')} {r[c]:.3f} vs {base[c]:.3f}" for c in both)
            out.append(f"{ds}, {r.variant} ({r.seeds} seed{'s' * (r.seeds > 1)}): {fits} ({terms}); "
                       f"test mAP@all {r['test mAP@all'] - base['test mAP@all']:+.4f} against DMH.")
    return "\n".join(textwrap.fill(s, 90) for s in out)
