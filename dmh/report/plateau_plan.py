"""The paper grid at the plateau budget (profile `plateau`): the budget chosen per dataset
with DMH's validation evidence for it, and per verdict grid what has landed and what is
left, priced in CPU hours from the committed records' rates."""
from __future__ import annotations

import textwrap

import pandas as pd

from ..experiments.grids import GRIDS
from ..experiments.profiles import PLATEAU_BUDGET, get_profile
from .cost import estimate_seconds, grid_estimates
from .frames import NAMES
from .lend_rate import LendRate, lend_line
from .recipe import PLATEAU_GAIN, budget_frame, gain_words

# The grids that carry the verdicts, evidence first: every method at the budget and twice
# it (validation), DMH's code lengths and seeds, the one-change variants, every method at
# every length (3 seeds at the longest), DMH's lam x mu on test.
VERDICT_GRIDS = ("plateau", "main", "ablation", "comparison", "sensitivity")
# Cut while only a CPU trains them: the unseen-people grids stay at the 1x budget. Within
# the verdict grids a CPU also cuts the seeds past the first at the shorter codes (main's).
CUT_ON_CPU = ("open", "cross")


def budget_lines(profile="paper") -> str:
    """Per dataset: the plateau profile's budget and DMH's validation ladder around it (the
    doubling into it and the one past it, where trained); where the one past it is not
    trained and the one into it added over 5%, the budget is a lower bound of the plateau."""
    df, one_x, out = budget_frame(profile), get_profile(profile).epochs, []
    for ds, f in PLATEAU_BUDGET.items():
        g = df[df["dataset"] == NAMES[ds]].set_index("x budget")
        gains = {x: g.loc[x, "gain over half"] if x in g.index else float("nan") for x in (f, 2 * f)}
        said = [f"{NAMES[ds]}: {f}x ({one_x[ds] * f} epochs)"]
        for x, what in ((f, "the doubling into it"), (2 * f, "the doubling past it")):
            if pd.notna(gains[x]):
                said.append(f"{what} added {gain_words(gains[x])} validation mAP"
                            + (" (under 5%: at the plateau)" if x == 2 * f and gains[x] < PLATEAU_GAIN else ""))
            else:
                said.append(f"{what} ({one_x[ds] * x} epochs) is not trained yet"
                            + (_price(ds, one_x[ds] * x, profile) if x == 2 * f else ""))
        if pd.isna(gains[2 * f]) and gains[f] >= PLATEAU_GAIN:
            said.append(f"until it is, {f}x is a lower bound of the plateau, and {NAMES[ds]}' results "
                        f"at this budget are short of convergence")
        out.append(said[0] + ": " + "; ".join(said[1:]) + ".")
    return "\n".join(textwrap.fill(s, 90) for s in out)


def _price(ds: str, epochs: int, profile) -> str:
    """` (about N CPU hours: it waits for a GPU)` for DMH's budget-grid run at `epochs`, from
    the CPU records' rates; empty where the grid has no such run."""
    p = get_profile(profile)
    runs = [c for c in GRIDS["budget"].items(ds, p) if c.epochs == epochs]
    s, unknown = estimate_seconds(runs, p.store)
    return f" (about {s / 3600:.1f} CPU hours for the one run: it waits for a GPU)" if runs and not unknown else ""


def plan_frame(profile="plateau") -> pd.DataFrame:
    """Per dataset and verdict grid of `profile`: runs, landed, left and one thread's CPU
    hours for what is left (a run two grids share is counted under the first), and the same
    for the runs a CPU keeps (`grid_estimates`)."""
    p = get_profile(profile)
    rows = []
    for r in grid_estimates([f"{k}-{ds}" for ds in p.datasets for k in VERDICT_GRIDS], p):
        kind, _, ds = r["grid"].partition("-")
        rows.append({"dataset": NAMES[ds], "grid": kind, "runs": r["runs"], "landed": r["stored"],
                     "landed (not counted before)": r["stored, not counted before"],
                     "left (not counted before)": r["to train"], "CPU hours left": r["cpu_s"] / 3600,
                     "left, CPU keeps": r["to train, CPU keeps"],
                     "CPU hours left, CPU keeps": r["cpu_s, CPU keeps"] / 3600,
                     "priced": "its tune runs (choices not made)" if r["needs_tune"] else "its runs"})
    return pd.DataFrame(rows)


def plan_line(plan: pd.DataFrame, rate: LendRate | None = None) -> str:
    """What landed of the distinct runs (a run two grids share counted once), what is left,
    what a CPU keeps of it and what it cuts; with `rate` (`lend_rate()`), what is left in
    GPU hours at the logged lends' throughput."""
    total, kept = plan["CPU hours left"].sum(), plan["CPU hours left, CPU keeps"].sum()
    landed, left = plan["landed (not counted before)"].sum(), plan["left (not counted before)"].sum()
    cut_rows = plan[plan["left (not counted before)"] > plan["left, CPU keeps"]]
    cut = int(left - plan["left, CPU keeps"].sum())
    later = (f"the {cut} runs of later seeds at the shorter codes ("
             + ", ".join(dict.fromkeys(f"{g}-<ds>" for g in cut_rows["grid"])) + "), and ") if cut else ""
    return textwrap.fill(
        f"The verdict grids at the plateau budget: {int(landed)} of {int(landed + left)} distinct "
        f"runs landed; about {total:.0f} CPU hours left on one thread "
        f"(~{total / 2:.0f} h on this project's 2-core machine), so they train on a GPU "
        f"(`scripts/device_grid.sh` with DMH_PROFILE=plateau)"
        + (f"; {lend_line(rate, total)}" if rate else "") + ". While only a CPU trains, it keeps "
        f"the cells the verdicts rest on (every seed at the longest code, the first seed at each "
        f"shorter one): about {kept:.0f} CPU hours (~{kept / 2:.0f} h on 2 cores). Cut: {later}"
        + ", ".join(f"{k}-<ds>" for k in CUT_ON_CPU) + " (the unseen-people chapter stays at 1x).", 90)
