"""Every method at the plateau budget in one table: per dataset, DMH, its one-change variants
and each deep baseline at the longest code (test mAP@all, mean ± std over the seeds landed),
beside the evidence that the budget is its plateau (validation mAP@all of the doubling past
the budget: the plateau grid's run, or for DMH its own budget ladder, in the 1x profile's
precision and crop, where the plateau grid's has not landed), and the precision its seeds
trained in (a bf16 twin stands in until the float32 run lands: `precision_twins`). Rows that
have not landed say so; the lines price what the plateau grid has left."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..experiments.configs import ABLATIONS, FULL_DMH
from ..experiments.precision_twins import preferring_twins
from ..experiments.profiles import Profile
from ..methods import METHODS, label
from . import frames as F
from .plateau_results import in_each_precision, landed_variants, plateau_evidence, plateau_of
from .recipe import PLATEAU_GAIN, budget_frame

COLUMNS = ["dataset", "method", "seeds", "test mAP@all", "precision", "epochs", "doubling past it",
           "at its plateau", "evidence"]


def _mean_std(maps: list[float]) -> str:
    if not maps:
        return "not landed"
    return f"{np.mean(maps):.4f}" + (f" ± {np.std(maps, ddof=1):.4f}" if len(maps) > 1 else "")


def _landed_cells(q: Profile, ds: str) -> dict[str, list]:
    """Every method name (the plateau grid's naming: DMH, each one-change variant, each deep
    baseline) -> the records of its landed seeds at the longest code (empty: none landed)."""
    dmh = label("dmh")
    cells = {dmh: [r for r in in_each_precision(f"main-{ds}", q) if r.config.bits == q.longest]}
    variants = [v for v in ABLATIONS if v != FULL_DMH]
    for v in (q, preferring_twins(q)):  # each cell once per precision, as `in_each_precision`
        for d, name, recs in landed_variants(v, variants):
            if d == ds and name != FULL_DMH:
                cells.setdefault(f"{dmh}: {name}", []).extend(r for r in recs if r.config.precision == v.precision)
    cells.update({label(m): [] for m in METHODS if m != "dmh"})
    for r in in_each_precision(f"comparison-{ds}", q):
        if r.config.bits == q.longest and r.config.method != "dmh":
            cells[label(r.config.method)].append(r)
    return cells


def _ladder_gain(ladder: pd.DataFrame, ds: str, epochs: int) -> float:
    """DMH's budget ladder (`budget_frame`, validation): the gain of its doubling to `epochs`,
    NaN if absent."""
    row = ladder[(ladder.dataset == F.NAMES[ds]) & (ladder.epochs == epochs)]
    return float(row["gain over half"].iloc[0]) if len(row) else float("nan")


def convergence_table(profile: str | Profile) -> pd.DataFrame:
    """One row per dataset, method of the plateau profile's verdict grids (see the module doc)
    and precision its seeds landed in (float32 first; never one mean over both); empty for a
    profile without plateau runs."""
    q = plateau_of(profile)
    if q is None:
        return pd.DataFrame(columns=COLUMNS)
    ev = plateau_evidence(profile)
    ev = ev.set_index(["dataset", "method"]) if len(ev) else ev
    rows, ladder = [], None
    for ds in q.datasets:
        name, budget = F.NAMES[ds], q.epochs[ds] * q.budget[ds]
        for method, every in _landed_cells(q, ds).items():
            gain = float(ev.loc[(name, method), "gain"]) if len(ev) and (name, method) in ev.index else float("nan")
            source = "plateau grid" if gain == gain else "not trained"
            if gain != gain and method == label("dmh"):  # its own ladder, in the 1x profile's recipe
                ladder = budget_frame(profile) if ladder is None else ladder
                gain = _ladder_gain(ladder, ds, 2 * budget)
                source = "DMH's budget ladder (1x recipe)" if gain == gain else source
            for precision in sorted({r.config.precision for r in every}, key=lambda x: x != q.precision) or [""]:
                maps = [r.metrics["map_all"] for r in every if r.config.precision == precision]
                rows.append({"dataset": name, "method": method, "seeds": len(maps),
                             "test mAP@all": _mean_std(maps), "precision": precision, "epochs": budget,
                             "doubling past it": gain,
                             "at its plateau": "unknown" if gain != gain else
                             ("yes" if gain < PLATEAU_GAIN else "no"),
                             "evidence": source})
    return pd.DataFrame(rows, columns=COLUMNS)


def convergence_lines(df: pd.DataFrame, profile: str | Profile = "paper") -> str:
    """Per dataset: how many rows have landed, how many of those carry evidence that the
    budget is their plateau (and which are shown not to be), and what the plateau grid has
    left to train, priced from the CPU records' rates."""
    from .cost import grid_estimates

    q, out = plateau_of(profile), []
    for code in q.datasets if q is not None else ():
        ds, g = F.NAMES[code], df[df.dataset == F.NAMES[code]]
        g = g.sort_values("seeds", ascending=False, kind="stable").drop_duplicates("method")  # a row per precision
        if not len(g):
            continue
        got = g[g.seeds > 0]
        shown = got[got["at its plateau"] == "yes"]
        not_yet = got[got["at its plateau"] == "no"]
        line = (f"{ds}: {len(got)} of {len(g)} methods and variants landed at the plateau budget "
                f"({g.epochs.iloc[0]} epochs); {len(shown)} of them shown at their plateau "
                f"(the doubling past it added under {PLATEAU_GAIN:.0%})"
                + (f", {len(not_yet)} shown short of it ({', '.join(not_yet.method)})" if len(not_yet) else "")
                + f", {len(got) - len(shown) - len(not_yet)} without that run yet.")
        (est,) = grid_estimates([f"plateau-{code}"], q)
        if est["to train"]:
            line += (f" `dmh grid plateau-{code} --profile {q.name}` has {est['to train']} runs left"
                     + (f", about {est['cpu_s'] / 3600:.1f} CPU hours." if not est["unknown"] else
                        " (no CPU record to price them by)."))
        out.append(line)
    return "\n".join(out)


__all__ = ["convergence_lines", "convergence_table"]
