"""The intro's headline: mAP@all against code length for every method, and what the book
finds, each sentence computed from the records and linked to its chapter."""
from __future__ import annotations

import pandas as pd

from ..experiments.configs import FULL_DMH
from ..experiments.profiles import get_profile
from .ablations import ablation_frame, verdict_table
from .baseline_search import search_table
from .comparison import deep_frame, shallow_frame, winners
from .frames import NAMES
from .pixel_ceiling import pixel_ceiling_frame, pixel_ceiling_lines
from .plateau_results import plateau_finding, variants_at_plateau
from .reading import dataset_records, shallow_records
from .spread import BEYOND
from .fit import fit_frame, fit_summary
from .recipe import finding as recipe_finding
from .trunk_study import PAPER_TRUNK, trunk_frame, trunk_lines
from .unseen import finding as unseen_finding


def headline_frame(profile) -> pd.DataFrame:
    """One row per run: every deep method and every shallow method on pixels (the methods
    that stand on their own), dataset, bits, seed, mAP@all."""
    cols = ["dataset", "bits", "seed", "method", "map_all"]
    deep = deep_frame(dataset_records("comparison", profile))[cols]
    shallow = shallow_frame(shallow_records(profile))
    df = pd.concat([deep, shallow[shallow.method.str.endswith("(pixels)")][cols]], ignore_index=True)
    df["dataset"] = df["dataset"].map(NAMES)
    return df


def _against(df: pd.DataFrame, variant: str) -> str:
    """`plain trunk 0.2290 vs 0.3069 on LFW (-9.4 seed std), ...` and what it adds up to."""
    t = verdict_table(df, FULL_DMH)
    t = t[t.variant == variant]
    parts = [f"{r['variant mean']:.3f} vs {r['baseline mean']:.3f} on {r.dataset} "
             + ("(one seed)" if r["in seed std"] != r["in seed std"] else
                f"({r['in seed std']:+.1f} seed std)") for _, r in t.iterrows()]
    worse = (t["in seed std"] < -BEYOND).sum()
    better = (t["in seed std"] > BEYOND).sum()
    if t["in seed std"].isna().all():
        verdict = "one seed per variant: no seed spread to judge by"
    elif worse == len(t):
        verdict = "DMH's choice is better beyond seed noise on every dataset"
    elif better == len(t):
        verdict = "the variant is better beyond seed noise on every dataset"
    elif worse or better:
        verdict = (f"beyond seed noise on {worse + better} of {len(t)} datasets "
                   f"({'DMH' if worse else 'the variant'} ahead)")
    else:
        verdict = "no difference beyond seed noise"
    return f"{variant}: " + ", ".join(parts) + f"; {verdict}"


def _searched(search: pd.DataFrame, ds: str) -> str:
    """The baselines whose own validation search beats the choice the comparison trains them
    with by more than two seed stds on `ds` (their rows there understate them)."""
    if not len(search):
        return ""
    mine = search[search.dataset == ds]
    g = mine[mine["in seed std"] > BEYOND]
    landed = f"{mine.trials.sum()} of {mine['of'].sum()} validation trials landed"
    if not len(g):
        return (f" No baseline's own search ({landed}) beats the choice it trains with here by "
                f"more than two seed stds.")
    return (f" The baselines train here with the shared recipe (DSH's and DPSH's lr searched); "
            f"their own 9-trial search ({landed}) beats that on validation by more than two "
            f"seed stds for {', '.join(g.method)}, whose rows here understate them.")


def _verdicts(ab: pd.DataFrame, p, variants: tuple[str, ...]) -> str:
    """Each variant's verdict at 1x, then at the plateau budget where it landed there."""
    there = variants_at_plateau(p, list(variants))
    return "; ".join(_against(ab, v) + (f"; at the plateau budget: {there[v]}" if v in there else "")
                     for v in variants)


def findings(profile) -> list[str]:
    """Markdown bullets: (paper profile) DMH at the plateau budget as far as it landed, first;
    then the dense trunk, the hash head and each loss term at 1x, each followed by its verdict
    at the plateau budget where that landed; the comparison, the recipe and unseen people."""
    p = get_profile(profile)
    ab = ablation_frame(p, None)
    ab["dataset"] = ab["dataset"].map(NAMES)
    out = [f for f in (plateau_finding(p),) if f]
    out += [f"**Dense blocks** ([chapter](ablation_dense.html)), at 1x: {_verdicts(ab, p, ('plain trunk',))}.",
            f"**Conv + GAP hash head** ([chapter](ablation_head.html)), at 1x: "
            f"{_verdicts(ab, p, ('FC hash head',))}.",
            f"**Loss terms** ([chapter](ablation_losses.html)), each without a term against the full "
            f"loss, at 1x: {_verdicts(ab, p, ('softmax only', 'softmax + center', 'softmax + quantization'))}."]
    w = winners(headline_frame(p))
    search = search_table(p) if p.baseline_search else pd.DataFrame()
    for ds, g in w.groupby("dataset", sort=False):
        dmh = (g.winner == "DMH").sum()
        top = g[g.bits == g.bits.max()].iloc[0]
        out.append(f"**Against the baselines on {ds}** ([chapter](comparison.html)), at 1x: DMH is first "
                   f"at {dmh} of {len(g)} code lengths; at {int(top.bits)} bits {top.winner} "
                   f"{top.winner_map:.3f} leads {top.runner_up} {top.runner_up_map:.3f}"
                   + ("." if top.margin_over_std != top.margin_over_std else
                      f" by {top.margin_over_std:.1f} seed std.") + _searched(search, ds))
    fit, sizes = fit_frame(p), trunk_frame(p)
    trunks = " ".join(trunk_lines(sizes).split()) if (sizes.get("trunk", pd.Series()) != PAPER_TRUNK).any() else ""
    pixels = pixel_ceiling_lines(pixel_ceiling_frame(p)) if p.anchors else ""
    out.append(recipe_finding(p) + (f" Where the ceiling is: {fit_summary(fit)}." if len(fit) else "")
               + (f" What the 32x32 pixels hold: {' '.join(pixels.split())}" if pixels else "")
               + (f" Trunk sizes at the paper trunk's training FLOPs: {trunks}" if trunks else ""))
    out.append(unseen_finding(p))
    return out
