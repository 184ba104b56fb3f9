"""The choices at the result budget (grid `rechoose-<ds>`, `experiments.budget_choice`): per
method with a search space, whether its 1x choice got worse on validation at the budget and,
where it did, its best 1x trials retrained there and the one chosen. Reads records only."""
from __future__ import annotations

import textwrap

import pandas as pd

from ..experiments import budget_choice as B
from ..experiments.profiles import Profile
from ..experiments.tuning import value_of
from ..methods import label
from .frames import NAMES
from .plateau_results import plateau_of

AT_1X, AT_BUDGET, CHOSEN = "val mAP@all at 1x", "at the budget", "chosen at the budget"


def _trial(c, space: dict) -> str:
    return ", ".join(f"{k.split('.')[-1]} {value_of(c, k):g}" for k in space)


def budget_choice_frame(profile: str | Profile) -> pd.DataFrame:
    """`budget_choice_frame_of` the profile's plateau profile (empty where it has none)."""
    return budget_choice_frame_of(plateau_of(profile))


def budget_choice_frame_of(q: Profile | None) -> pd.DataFrame:
    """One row per trial at the budget of profile `q` (validation, longest code, first seed):
    dataset, method, trial, its precision at the budget (a twin standing in where only that
    landed: `precision_twins`), its 1x validation mAP, its mAP at the budget (NaN until landed),
    whether the 1x choice got worse there and `CHOSEN`: `yes` for the trial the rule keeps
    (the 1x choice where it did not get worse), `` for the others, `pending` while the rule
    waits on runs."""
    rows = []
    for ds in (q.datasets if q else ()):
        for m, space in q.search.items():
            worse, trials = B.trials_at_budget(m, ds, q)
            keep = B.winner([at for _, _, at in trials]) if worse else 0
            for i, (c, r, at) in enumerate(trials):
                rows.append({"dataset": NAMES[ds], "method": label(m), "trial": _trial(c, space),
                             "epochs": c.epochs, "precision": c.precision, AT_1X: r["val_map_all"],
                             AT_BUDGET: float("nan") if at is None else at,
                             "got worse": {None: "", True: "yes", False: "no"}[worse],
                             CHOSEN: "pending" if worse is None or keep is None else
                             ("yes" if i == keep else "")})
    return pd.DataFrame(rows)


def budget_choice_lines(df: pd.DataFrame) -> str:
    """Per dataset: the methods re-chosen at the budget (what changed, from what to what), those
    that kept their 1x choice, and those the rule still waits on."""
    out = []
    for ds, g in (df.groupby("dataset", sort=False) if len(df) else ()):
        said, kept, waiting = [], [], []
        for m, h in g.groupby("method", sort=False):
            first = h.iloc[0]
            if first["got worse"] == "no":
                kept.append(m)
            elif (h[CHOSEN] == "pending").any():
                waiting.append(m)
            else:
                best = h[h[CHOSEN] == "yes"].iloc[0]
                said.append(f"{m}'s 1x choice ({first.trial}) scored {first[AT_1X]:.4f} at 1x and "
                            f"{first[AT_BUDGET]:.4f} at {first.epochs} epochs; of its {len(h)} best 1x "
                            f"trials retrained there, {best.trial} scored best ({best[AT_BUDGET]:.4f}), "
                            f"its choice at the budget" + (
                                f", still below the 1x choice's {first[AT_1X]:.4f} at 1x: longer training "
                                f"hurt it under every trial retrained, so its own plateau lies at or "
                                f"below the 1x budget" if best[AT_BUDGET] < first[AT_1X] else ""))
        parts = said + ([f"kept their 1x choice (no worse at the budget): {', '.join(kept)}"] if kept else []) \
            + ([f"not decided yet (runs to land): {', '.join(waiting)}"] if waiting else [])
        out.append(textwrap.fill(f"{ds}: " + "; ".join(parts) + ".", 90))
    return "\n".join(out)
