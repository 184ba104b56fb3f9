"""The deep methods at every code length at the plateau budget (test, grid `comparison-<ds>`
of the plateau profile). Without a GPU the CPU keeps every seed at the longest code and the
first seed at the shorter ones (`report.cost`); a blank is a cell not trained yet. Reads
records only."""
from __future__ import annotations

import textwrap

import pandas as pd

from ..experiments.configs import seeds_at
from ..methods import METHODS, label
from . import frames as F
from . import plateau_results as PR
from .reading import grid_command, split_stored
from .stand_ins import MARK, stand_ins


def comparison_bits_at_plateau(profile) -> pd.DataFrame:
    """Methods (rows, DMH first) x (dataset, bits) of test mAP@all at the plateau budget:
    `mean ± std (seeds)` over the landed seeds, `value (1)` for one, marked ‡ where a seed is a
    twin in the other precision standing in (`stand_ins`); '' where none landed. Empty without a plateau
    profile or a landed run."""
    q = PR.plateau_of(profile)
    recs = [r for ds in (q.datasets if q else ()) for r in PR.landed(f"comparison-{ds}", q)]
    if not recs:
        return pd.DataFrame()
    df = F.records_frame(recs)
    df["dataset"] = df.dataset.map(lambda d: F.NAMES.get(d, d))
    t = F.mean_std(df, ["label", "dataset", "bits"], "map_all")
    standing = {(label(r.config.method), F.NAMES.get(r.dataset, r.dataset), r.config.bits)
                for r in stand_ins(profile, "comparison")}
    t["cell"] = [f"{v} ({n})" + (MARK if k in standing else "")
                 for v, n, k in zip(t.map_all, t.seeds, zip(t.label, t.dataset, t.bits))]
    wide = t.pivot(index="label", columns=["dataset", "bits"], values="cell")
    order = [label(m) for m in METHODS if label(m) in wide.index]
    cols = pd.MultiIndex.from_tuples([(F.NAMES.get(ds, ds), b) for ds in q.datasets for b in q.bits],
                                     names=["dataset", "bits"])
    return wide.reindex(index=order, columns=cols).fillna("").rename_axis(index="method")


def comparison_bits_missing(profile) -> str:
    """Per dataset: how many of the cells the CPU keeps (every seed at the longest code, the
    first at the others) have not landed at the plateau budget, and the command for them."""
    q = PR.plateau_of(profile)
    out = []
    for ds in (q.datasets if q else ()):
        name = f"comparison-{ds}"
        absent = [c for c in split_stored(name, q)[1] if c.seed in seeds_at(q, c.bits)]
        if absent:
            out.append(f"{F.NAMES.get(ds, ds)}: {len(absent)} of the cells the CPU keeps not trained yet "
                       f"(`{grid_command(name, q)}`).")
    return "\n".join(out)


def longer_codes_underfit(profile) -> str:
    """Per dataset and method, first seed: where test mAP@all falls at every step from the
    shortest code to the longest whose record measures the training images' mAP
    (`map_all_train`), 2 lengths or more, and that falls at every step too. Then the longer
    codes fit their own training images less at this budget: they underfit, not overfit,
    and sit further from their plateau than the shorter ones."""
    q = PR.plateau_of(profile)
    out = []
    for ds in (q.datasets if q else ()):
        cells: dict[str, list] = {}
        for r in PR.landed(f"comparison-{ds}", q):
            if r.config.seed == q.seeds[0] and "map_all_train" in r.metrics:
                cells.setdefault(r.config.method, []).append(
                    (r.config.bits, r.metrics["map_all"], r.metrics["map_all_train"]))
        for m in METHODS:
            runs = sorted(cells.get(m, []))
            if len(runs) < 2:
                continue
            _, test, train = zip(*runs)
            if all(a > b for v in (test, train) for a, b in zip(v, v[1:])):
                (b0, t0, f0), (b1, t1, f1) = runs[0], runs[-1]
                out.append(f"{F.NAMES.get(ds, ds)} {label(m)}: test mAP@all falls from {t0:.4f} "
                           f"({b0} bits) to {t1:.4f} ({b1} bits) while its training images' mAP "
                           f"falls from {f0:.4f} to {f1:.4f}: at this budget its longer codes fit "
                           "their own training images less (they underfit, not overfit).")
    return "\n".join(textwrap.fill(s, 90) for s in out)
