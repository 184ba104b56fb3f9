"""Each baseline's own hyperparameters on validation (grid `search-<ds>`): 9 trials a method,
as DMH's lam x mu search has, against the choice the book's baselines train with today."""
from __future__ import annotations

import textwrap

import pandas as pd

from ..experiments import configs as C
from ..experiments.profiles import Profile, get_profile
from ..experiments.tuning import candidates, value_of
from ..methods import label
from .frames import NAMES
from .reading import grid_command
from .recipe import study_seed_std
from .spread import BEYOND, in_seed_std

EDGE = "at its range's end"


def search_table(profile: str | Profile) -> pd.DataFrame:
    """Per dataset and baseline with a search space: trials landed of its space, the best trial's values
    and validation mAP@all, the mAP of today's choice (its validation run at the epoch
    budget, as the ladder trains it) and the best trial's change from it, also in the
    study's seed std (`recipe.study_seed_std`); which of the best values sit at an end of
    their searched range (the optimum may lie beyond)."""
    p = get_profile(profile)
    rows = []
    for ds in p.datasets:
        cmd, std = grid_command(f"search-{ds}", p), study_seed_std(ds, p)
        for m, space in p.baseline_search.items():
            every = candidates(m, ds, p, space)
            trials = [c for c in every if p.store.has_run(c)]
            if not trials:
                continue
            scored = [(p.store.load_run(c, cmd).metrics["map_all"], -i, c) for i, c in enumerate(trials)]
            best, _, c = max(scored)  # the first of equals
            today = C.method_config(m, ds, p, bits=p.longest, eval_split="val")
            now = p.store.load_run(today, cmd).metrics["map_all"] if p.store.has_run(today) else float("nan")
            edge = [k.split(".")[-1] for k, vs in space.items()
                    if len(vs) > 1 and value_of(c, k) in (min(vs), max(vs))]
            rows.append({"dataset": NAMES[ds], "method": label(m),
                         "trials": len(trials), "of": len(every),
                         "best": ", ".join(f"{k.split('.')[-1]} {value_of(c, k):g}" for k in space),
                         EDGE: ", ".join(edge),
                         "best val mAP@all": best, "today's choice": now, "change": best - now,
                         "in seed std": in_seed_std(best - now, std)})
    return pd.DataFrame(rows)


def search_lines(table: pd.DataFrame) -> str:
    """Per dataset, the baselines whose own search beats today's choice by more than two
    seed stds (their rows in the book would move), or that none does."""
    out = []
    for ds, g in table.groupby("dataset", sort=False):
        gain = g[g["in seed std"] > BEYOND]
        each = ", ".join(f"{r.method} ({r.best}: {r['change']:+.4f}, {r['in seed std']:+.1f} seed std)"
                         for _, r in gain.iterrows())
        edge = g[g[EDGE].fillna("") != ""] if EDGE in g else g.iloc[:0]
        ends = "; ".join(f"{r.method}'s {r[EDGE]}" for _, r in edge.iterrows())
        out.append(f"{ds}: " + (f"{each} beat today's choice by more than two seed stds."
                                if len(gain) else f"no baseline's own search beats today's choice by "
                                f"more than two seed stds ({len(g)} searched).")
                   + (f" Best at an end of its searched range: {ends}." if ends else ""))
    return "\n".join(textwrap.fill(s, 90) for s in out)
