"""Profile `plateau`'s grids as far as they have landed (issue 10): DMH's main cells, its
one-change variants and the deep baselines against it, each method's plateau evidence and
the code-float gap per mu. A chapter at the 1x budget shows them in a section of its own,
beside the same cells at 1x: never inside a 1x table, so no table mixes budgets. Reads
records only: the book never trains these (a CPU takes sittings; see the recipe chapter)."""
from __future__ import annotations

import textwrap

import pandas as pd

from ..experiments.configs import FULL_DMH, ablation_configs, plateau_pairs
from ..experiments.precision_twins import OTHER, own_runs, preferring_twins
from ..experiments.profiles import PLATEAU_BUDGET, Profile, get_profile
from ..methods import METHODS, label
from . import frames as F
from .cost import estimate_seconds
from .one_precision import ACROSS, against, in_one_precision
from .plateau_plan import budget_lines
from .reading import grid_command, split_stored
from .spread import BEYOND, spread_words

# The goal for DMH at the longest code (closed protocol, test queries, 3 seeds).
GOAL_MAP = {"lfw": 0.70, "pins": 0.50}
GOAL_P_AT_10 = {"pins": 0.60}
GOAL_FLOAT_GAP = 0.03  # binary codes within 3 points of the same model's float outputs


def plateau_of(profile: str | Profile) -> Profile | None:
    """The profile whose result grids are `profile`'s at the plateau budget: `plateau` for
    `paper`, none for the others (the quick profile has no plateau runs)."""
    return get_profile("plateau") if get_profile(profile).name == "paper" else None


def _cells(df: pd.DataFrame, value: str) -> pd.DataFrame:
    return F.mean_std(df, ["dataset", "bits"], value).set_index(["dataset", "bits"])


def main_at_plateau(profile: str | Profile) -> pd.DataFrame:
    """Per dataset, code length and precision with a landed plateau run (float32 first, then
    the bf16 runs standing in: `in_each_precision`, never one mean over both): its epochs, the
    seeds landed, test mAP@all (mean ± std) beside the 1x main runs', the binary - float gap
    and precision@10 (means over the landed seeds). Empty where none landed."""
    p, q = get_profile(profile), plateau_of(profile)
    if q is None:
        return pd.DataFrame()
    rows, keys = [], ["dataset", "bits", "precision"]
    for ds in q.datasets:
        runs = in_each_precision(f"main-{ds}", q)
        if not runs:
            continue
        at = F.records_frame(runs)
        one = landed(f"main-{ds}", p)
        mine = F.mean_std(at, keys, "map_all").set_index(keys)
        before = _cells(F.records_frame(one), "map_all") if one else pd.DataFrame()
        means = at.groupby(keys)[["map_all", "map_all_float", "p_at_10", "epochs"]].mean()
        for key in mine.index:
            rows.append({"dataset": F.NAMES.get(ds, ds), "bits": key[1], "epochs": int(means.loc[key, "epochs"]),
                         "precision": key[2], "seeds": int(mine.loc[key, "seeds"]),
                         "test mAP@all": mine.loc[key, "map_all"],
                         "at 1x": before.loc[key[:2], "map_all"] if key[:2] in before.index else "",
                         "binary - float": means.loc[key, "map_all"] - means.loc[key, "map_all_float"],
                         "P@10": means.loc[key, "p_at_10"]})
    return pd.DataFrame(rows)


def in_each_precision(name: str, q: Profile) -> list:
    """The records of grid `name` of plateau profile `q` in its own precision, then those of
    the cells read in the other precision where that landed (the twins standing in, and those
    beside a cell's own run): each cell once per precision."""
    return [r for v in (q, preferring_twins(q)) for r in landed(name, v) if r.config.precision == v.precision]


def ablation_at_plateau(profile: str | Profile, variants: list[str]) -> pd.DataFrame:
    """The named ablation variants against full DMH at the plateau budget, as far as both
    landed (test, longest code): `ablations.verdict_table` rows (the difference in units of
    the larger seed std; DMH's own where a variant has one seed) with the seeds landed, each
    drawn in one precision (`one_precision`)."""
    return in_one_precision(lambda v: against(
        [F.records_frame(recs, variant=name) for _, name, recs in landed_variants(v, variants)], FULL_DMH),
        plateau_of(profile))


def landed_variants(q: Profile | None, variants: list[str]) -> list[tuple]:
    """(dataset, variant, its landed records) for full DMH and each named variant of profile
    `q`'s ablation grid, per dataset (none for no profile)."""
    return [(ds, name, [q.store.load_run(c) for c in cfgs if q.store.has_run(c)])
            for ds in (q.datasets if q else ())
            for name, cfgs in ablation_configs(ds, q, [FULL_DMH, *variants]).items()]


def comparison_at_plateau(profile: str | Profile) -> pd.DataFrame:
    """Each deep baseline against DMH at the plateau budget and the longest code, as far as
    both landed (test): `verdict_table` rows with the seeds landed, each drawn in one precision
    (`one_precision`)."""
    q = plateau_of(profile)
    out = in_one_precision(lambda v: against(
        [F.records_frame([r], variant=label(r.config.method)) for ds in (v.datasets if v else ())
         for r in landed(f"comparison-{ds}", v) if r.config.bits == v.longest], label("dmh")), q)
    if not len(out):
        return out
    p = get_profile(profile)  # each method's 1x mean at the same cell: did the budget help it?
    at_1x = pd.DataFrame([{"dataset": F.NAMES[ds], "variant": label(r.config.method),
                           "map": r.metrics["map_all"]} for ds in q.datasets
                          for r in landed(f"comparison-{ds}", p) if r.config.bits == p.longest])
    at_1x = at_1x.groupby(["dataset", "variant"])["map"].mean().rename("at 1x").reset_index() \
        if len(at_1x) else pd.DataFrame(columns=["dataset", "variant", "at 1x"])
    return out.merge(at_1x, on=["dataset", "variant"], how="left")


def comparison_plateau_lines(df: pd.DataFrame) -> str:
    """The baselines that retrieve worse at the plateau budget than at 1x: their 1x-chosen
    hyperparameters do not carry over to the longer budget (not a plateau to compare at)."""
    worse = df[df["variant mean"] < df["at 1x"].fillna(float("-inf"))] if len(df) else df
    return "\n".join(textwrap.fill(
        f"{r.dataset} {r.variant}: test mAP@all {r['at 1x']:.4f} at 1x, {r['variant mean']:.4f} "
        f"at the plateau budget: worse with more epochs, so its recipe chosen at 1x does not "
        f"carry over; this row is not the method at its best (its choice at the budget: below).", 90)
        for _, r in worse.iterrows())


def comparison_plateau_missing(profile: str | Profile) -> str:
    """Per dataset where DMH's first seed landed at the plateau budget, the deep baselines with
    no run there at the longest code yet (their rows are absent from the table, not lost)."""
    q = plateau_of(profile)
    out = []
    for ds in (q.datasets if q else ()):
        have = {r.config.method for r in landed(f"comparison-{ds}", q) if r.config.bits == q.longest}
        if "dmh" in have and (missing := [label(m) for m in METHODS if m not in have]):
            out.append(f"{F.NAMES[ds]}: no run at the plateau budget yet for {', '.join(missing)} "
                       f"(`{grid_command(f'comparison-{ds}', q)}`).")
    return "\n".join(out)


def main_plateau_lines(profile: str | Profile) -> str:
    """Per dataset: how many of the plateau main grid's runs landed, the command that trains
    the rest and its CPU hours at the CPU records' rates; then the issue's goal."""
    q = plateau_of(profile)
    if q is None:
        return f"The {get_profile(profile).name} profile has no plateau runs (profile `paper` does)."
    budgets = ", ".join(f"{F.NAMES.get(d, d)} {f}x ({q.epochs[d] * f} epochs, "
                        f"{q.face_crop.get(d, 'box')} crop)" for d, f in q.budget.items())
    out = [f"Profile `{q.name}`: {budgets}, {q.precision}; test queries, seeds {list(q.seeds)}."]
    if q.budget == PLATEAU_BUDGET:  # the budgets DMH's validation ladder was read for
        out.append(budget_lines(profile))
    for ds in q.datasets:  # a twin standing in is not the cell's run: left to train
        stored, left = split_stored(f"main-{ds}", own_runs(q))
        standing = len(split_stored(f"main-{ds}", q)[0]) - len(stored)
        s, unknown = estimate_seconds(left, q.store)
        hours = f", about {s / 3600:.1f} CPU hours" if not unknown else ""
        rest = f"; the rest: `{grid_command(f'main-{ds}', q)}`{hours}" if left else ""
        twins = f" ({standing} more in {PRECISIONS[OTHER[q.precision]]} standing in)" if standing else ""
        out.append(f"{F.NAMES.get(ds, ds)}: {len(stored)} of {len(stored) + len(left)} runs "
                   f"landed in {PRECISIONS[q.precision]}{twins}{rest}.")
    goals = ", ".join(f"{F.NAMES[d]} >= {v:.2f}" for d, v in GOAL_MAP.items())
    p10 = ", ".join(f"{F.NAMES[d]} precision@10 >= {v:.2f}" for d, v in GOAL_P_AT_10.items())
    out.append(f"The issue's goal at {q.longest} bits: mAP@all {goals}; {p10}; binary codes "
               f"within {GOAL_FLOAT_GAP * 100:.0f} points of the float outputs.")
    return "\n".join(out)


def plateau_finding(profile: str | Profile) -> str:
    """The intro's bullet: DMH at the longest code at the plateau budget where it landed,
    beside 1x, and against the deep baselines there; the datasets still to train. Empty for
    a profile without plateau runs (the variants' verdicts there: `variant_at_plateau`)."""
    q = plateau_of(profile)
    if q is None:
        return ""
    t = main_at_plateau(profile)
    top = t[t["bits"] == q.longest] if len(t) else t
    said = [f"{r.dataset} {r.epochs} epochs ({r.precision}): test mAP@all {r['test mAP@all']} "
            f"over {r.seeds} seed{'s' * (r.seeds != 1)} (1x: {r['at 1x']}), precision@10 "
            f"{r['P@10']:.3f}, binary - float {r['binary - float']:+.3f}" for _, r in top.iterrows()]
    todo = [F.NAMES.get(ds, ds) for ds in q.datasets if F.NAMES.get(ds, ds) not in set(top.get("dataset", []))]
    said += [f"not trained yet: {', '.join(todo)}"] if todo else []
    return (f"**At the plateau budget** ([chapter](main_results.html)), DMH at {q.longest} bits: "
            + "; ".join(said) + "." + _baselines_said(profile))


def variant_at_plateau(profile: str | Profile, variant: str) -> str:
    """`LFW plain trunk 0.7408 (3 seeds, bf16) vs 0.7036 (+4.3 seed std, beyond two seed stds)`:
    one ablation variant against full DMH at the plateau budget, per dataset where both
    landed, in the precision the verdict was drawn in; empty where none did (or the profile
    has no plateau runs)."""
    return variants_at_plateau(profile, [variant]).get(variant, "")


def variants_at_plateau(profile: str | Profile, variants: list[str]) -> dict[str, str]:
    """`variant_at_plateau` for each named variant that landed, reading the records once."""
    if plateau_of(profile) is None:
        return {}
    rows = ablation_at_plateau(profile, variants)
    return {v: "; ".join(f"{r.dataset} {r.variant} {r['variant mean']:.4f} ({r.seeds} seed{'s' * (r.seeds != 1)}"
                         + ("" if r.verdict == ACROSS else f", {r.precision}") + ") "
                         f"vs {r['baseline mean']:.4f} ("
                         + (f"{r.precision} vs {r[f'{FULL_DMH} precision']}: {ACROSS}" if r.verdict == ACROSS
                            else spread_words(r['in seed std'])) + ")"
                         for _, r in g.iterrows())
            for v, g in (rows.groupby("variant", sort=False) if len(rows) else ())}


def _baselines_said(profile) -> str:
    """` Against the deep baselines there ...`: per dataset, how many landed baselines DMH
    leads beyond two seed stds, and the strongest one; empty where none landed."""
    df, said = comparison_at_plateau(profile), []
    for ds, everyone in (df.groupby("dataset", sort=False) if len(df) else ()):
        g, across = everyone[everyone.verdict != ACROSS], everyone[everyone.verdict == ACROSS]
        if not len(g):
            continue
        best = g.loc[g["variant mean"].idxmax()]
        behind, ahead = int((g["in seed std"] < -BEYOND).sum()), g[g["in seed std"] > BEYOND]
        precision = " and ".join(sorted(set(g.precision)))  # the precision(s) its verdicts were drawn in
        said.append(f"{ds}, in {precision}: DMH {best['baseline mean']:.4f} leads {behind} of {len(g)} landed baselines "
                    f"beyond two seed stds" + (f" and trails {len(ahead)} beyond them ({', '.join(ahead.variant)})"
                                               if len(ahead) else "")
                    + f"; the strongest, {best.variant}, {best['variant mean']:.4f} "
                    f"({int(best.seeds)} seed{'s' * int(best.seeds != 1)}; {spread_words(best['in seed std'])})"
                    + (f"; in another precision than DMH's, no verdict: {', '.join(across.variant)}"
                       if len(across) else ""))
    return (" Against the deep baselines there ([comparison](comparison.html)): " + "; ".join(said)
            + ".") if said else ""


PRECISIONS = {"fp32": "float32", "bf16": "bfloat16"}


def plateau_evidence(profile: str | Profile) -> pd.DataFrame:
    """The plateau grid as far as it landed (validation, longest code, seed 0): per dataset
    and method or DMH variant, its mAP at the budget and at twice it, both in the precision
    named (`configs.plateau_pairs`: never one of each), the gain of that doubling and whether
    it is under `recipe.PLATEAU_GAIN` (the evidence that the result runs are at their plateau)."""
    from .ladder import who
    from .recipe import PLATEAU_GAIN

    q = plateau_of(profile)
    out = []
    for ds in (q.datasets if q else ()):
        for a, b in plateau_pairs(ds, q):
            at, twice = (q.store.load_run(c).metrics["map_all"] if q.store.has_run(c) else float("nan")
                         for c in (a, b))
            if at == at or twice == twice:
                gain = twice / at - 1
                out.append({"dataset": F.NAMES[ds], "method": who(a), "budget epochs": a.epochs,
                            "precision": PRECISIONS[a.precision], "at the budget": at,
                            "at twice it": twice, "gain": gain, "at its plateau": "" if gain != gain
                            else ("yes" if gain < PLATEAU_GAIN else "no")})
    return pd.DataFrame(out)


def quantization_table(profile: str | Profile) -> pd.DataFrame:
    """The quantization grid as far as it landed: per dataset and mu, validation mAP@all of
    the codes and of the float outputs, and the gap (issue 10's goal: within 3 points)."""
    q = plateau_of(profile)
    rows = [{"dataset": F.NAMES[r.dataset], "mu": r.config.mu, "epochs": r.config.epochs,
             "codes val mAP@all": r.metrics["map_all"], "float val mAP@all": r.metrics["map_all_float"],
             "codes - float": r.metrics["map_all"] - r.metrics["map_all_float"]}
            for ds in (q.datasets if q else ()) for r in landed(f"quantization-{ds}", q)]
    return pd.DataFrame(rows)


def landed(name: str, p: Profile) -> list:
    """The stored records of grid `name` of profile `p`, in grid order."""
    return [p.store.load_run(c) for c in split_stored(name, p)[0]]
