"""The recipe study's trunk sizes (grid `trunk-<ds>`): DMH's dense trunk at other growth rates
and layers per block, each at the paper trunk's training FLOPs, on validation."""
from __future__ import annotations

import textwrap

import pandas as pd

from ..experiments.profiles import Profile, get_profile
from ..experiments.trunk_sizes import TRUNK_SIZES, train_mflops, trunk_configs, trunk_size_name
from .frames import NAMES
from .reading import grid_command
from .recipe import study_seed_std
from .spread import BEYOND, in_seed_std

PAPER_TRUNK = next(iter(TRUNK_SIZES))


def trunk_frame(profile: str | Profile) -> pd.DataFrame:
    """One row per trunk-size run that landed: its size, parameters, forward + backward MFLOP
    per image, epochs, compute relative to the paper trunk's run, its time relative to the
    paper trunk's by the one-sitting benchmark (`equal_flops_time`; the records' seconds swing
    with how busy the machine was), validation mAP@all (codes and float outputs), and its change from the paper trunk's in
    units of the study's seed std (`recipe.study_seed_std`)."""
    p = get_profile(profile)
    rows = []
    for ds in p.datasets:
        made_by = grid_command(f"trunk-{ds}", p)
        got = [(c, p.store.load_run(c, made_by)) for c in trunk_configs(ds, p) if p.store.has_run(c)]
        base = next((r for c, r in got if trunk_size_name(c) == PAPER_TRUNK), None)
        std, timing = study_seed_std(ds, p), equal_flops_time(p)
        for c, r in got:
            diff = r.metrics["map_all"] - base.metrics["map_all"] if base else float("nan")
            rows.append({"dataset": NAMES[ds], "trunk": trunk_size_name(c),
                         "params": r.n_parameters, "MFLOP/image": train_mflops(c),
                         "epochs": c.epochs,
                         "x compute": c.epochs * train_mflops(c) / (base.config.epochs * train_mflops(base.config))
                         if base else float("nan"),
                         "x time (bench)": timing.get(trunk_size_name(c), float("nan")),
                         "train_s": r.train_s,
                         "val mAP@all": r.metrics["map_all"],
                         "float val mAP@all": r.metrics["map_all_float"], "change": diff,
                         "in seed std": in_seed_std(diff, std)})
    return pd.DataFrame(rows)


def equal_flops_time(p: Profile) -> dict[str, float]:
    """Per trunk size, the time its equal-FLOPs epochs take relative to the paper trunk's, by
    the committed one-thread benchmark (small convolutions run further below the CPU's peak);
    empty when that benchmark has not been run."""
    path = p.store.grid_bench_path
    if not path.exists():
        return {}
    rows = p.store.load_json(path, f"python benchmarks/bench_train.py --json {path}")["rows"]
    out = {r["model"].removeprefix("DMH trunk "): r["time_at_equal_flops"]
           for r in rows if "time_at_equal_flops" in r}
    return {PAPER_TRUNK: 1.0, **out} if out else {}


def trunk_lines(df: pd.DataFrame) -> str:
    """Per dataset, the trunk size with the best validation mAP@all at equal compute, and
    whether it beats the paper trunk by more than two seed stds."""
    out = []
    for ds, g in df.groupby("dataset", sort=False):
        best = g.loc[g["val mAP@all"].idxmax()]
        if best.trunk == PAPER_TRUNK:
            out.append(f"{ds}: the paper trunk ({PAPER_TRUNK}) is the best of {len(g)} sizes at "
                       f"its compute ({best['val mAP@all']:.4f}).")
            continue
        ratio = best["in seed std"]
        verdict = ("no seed spread to judge by" if ratio != ratio else
                   f"{ratio:+.1f} seed std: " + ("beyond" if ratio > BEYOND else "within") + " two seed stds")
        out.append(f"{ds}: {best.trunk} is the best of {len(g)} sizes at equal compute, "
                   f"{best['val mAP@all']:.4f} ({best.change:+.4f} over the paper trunk, {verdict}; "
                   f"{best.epochs} epochs" + (f", {best['x time (bench)']:.2f}x the paper trunk's time "
                   f"by the benchmark" if best["x time (bench)"] == best["x time (bench)"] else "")
                   + ").")
    return "\n".join(textwrap.fill(s, 90) for s in out)
