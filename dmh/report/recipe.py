"""Training budget and recipe, all on validation: how far DMH is from its plateau (mAP against
epochs and training time), DMH's recipe trials (warmup, label smoothing, batch size), whether
the pairwise baselines learn at lower lrs or with identity-balanced batches, DDH and DCDH
with their papers' recipes, and the runs of the study that have not landed yet."""
from __future__ import annotations

import textwrap

import pandas as pd

from ..experiments import configs as C
from ..experiments.profiles import Profile, get_profile
from ..methods import label
from .frames import NAMES, machine_of
from .reading import floors_frame, grid_command, records, split_stored
from .spread import BEYOND, in_seed_std, largest_std, spread_words

# The plateau rule of the convergence issue: one more doubling of the budget adds under 5%
# relative validation mAP.
PLATEAU_GAIN = 0.05


def study_records(kind: str, profile: str | Profile) -> tuple[list, list[str]]:
    """(records that landed, names of runs not trained yet) of grid `<kind>-<ds>` for every
    dataset of the profile."""
    p = get_profile(profile)
    have, missing = [], []
    for ds in p.datasets:
        stored, absent = split_stored(f"{kind}-{ds}", p)
        have += records(f"{kind}-{ds}", p, stored)
        missing += [c.name() for c in absent]
    return have, missing


def budget_frame(profile: str | Profile) -> pd.DataFrame:
    """DMH's chosen config on validation at each multiple of the epoch budget: mAP@all of the
    codes and of the float outputs, training seconds and machine, and the relative gain over
    the run at half the epochs (the doubling before it)."""
    p = get_profile(profile)
    rows = []
    for r in study_records("budget", p)[0]:
        budget = p.epochs[r.dataset]
        rows.append({"dataset": NAMES[r.dataset], "epochs": r.config.epochs,
                     "x budget": r.config.epochs / budget, "val mAP@all": r.metrics["map_all"],
                     "float val mAP@all": r.metrics["map_all_float"], "train_s": r.train_s,
                     "machine": machine_of(r)})
    df = pd.DataFrame(rows).sort_values(["dataset", "epochs"]).reset_index(drop=True)
    df["gain over half"] = gain_over_half(df)
    return df


def gain_over_half(df: pd.DataFrame) -> pd.Series:
    """Each run's relative validation mAP gain over the run before it on its dataset's ladder
    (rows sorted by epochs, each double the one before); NaN for the first."""
    return df["val mAP@all"] / df.groupby("dataset")["val mAP@all"].shift() - 1


def plateau_from(gains: pd.Series) -> int | None:
    """Position in `gains` (per doubling, in order) from which every doubling added under
    PLATEAU_GAIN, or None when the last one did not (a flat step followed by a steep one is
    no plateau)."""
    steep = [i for i, g in enumerate(gains) if not g < PLATEAU_GAIN]
    start = steep[-1] + 1 if steep else 0
    return start if start < len(gains) else None


def gain_words(gain: float) -> str:
    """`+24.5%`; two decimals within 0.05 points of the plateau rule, where one would read as
    the threshold itself (`+5.03%`)."""
    return f"{gain:+.2%}" if abs(gain - PLATEAU_GAIN) < 0.0005 else f"{gain:+.1%}"


def plateau_lines(df: pd.DataFrame) -> str:
    """Per dataset: the budget from which every doubling added under `PLATEAU_GAIN`, or the
    gain of the last doubling when it did not."""
    out = []
    for ds, g in df.groupby("dataset", sort=False):
        g = g.dropna(subset=["gain over half"])
        at = plateau_from(g["gain over half"])
        flat = g.iloc[at:] if at is not None else g.iloc[:0]
        if len(flat):
            r = flat.iloc[0]
            out.append(f"{ds}: at its plateau by {int(r.epochs) // 2} epochs (doubling to "
                       f"{int(r.epochs)} added {gain_words(r['gain over half'])} validation mAP, under "
                       f"{PLATEAU_GAIN:.0%}).")
        elif len(g):
            r = g.iloc[-1]
            out.append(f"{ds}: not at its plateau: the last doubling, to {int(r.epochs)} epochs, "
                       f"still added {gain_words(r['gain over half'])} validation mAP.")
    return "\n".join(textwrap.fill(s, 90) for s in out)


def learned_nothing_line(p: Profile) -> pd.Series:
    """Per dataset: twice the random codes' test mAP@all at the longest code, the line under
    which a method learned nothing."""
    floors = floors_frame(p)
    return 2 * floors[(floors.method == "random") & (floors.bits == p.longest)].set_index("dataset").map_all


def pairwise_frame(profile: str | Profile) -> pd.DataFrame:
    """The pairwise baselines on validation: DSH and DPSH at every lr of the study, HashNet at
    its lr (`sampler-<ds>`), each with random and P x K batches; mAP@all beside twice the
    random codes' test mAP@all (the learned-nothing line)."""
    p = get_profile(profile)
    line = learned_nothing_line(p)
    runs = {r.config_key: r for kind in ("pairlr", "sampler") for r in study_records(kind, p)[0]}
    rows = [{"dataset": NAMES[r.dataset], "method": label(r.config.method),
             "batches": "P x K" if r.config.sampler != "random" else "random",
             "lr": r.config.lr, "val mAP@all": r.metrics["map_all"],
             "2x random codes": line[r.dataset]} for r in runs.values()]
    return pd.DataFrame(rows).sort_values(["dataset", "method", "batches", "lr"], ignore_index=True)


def pairwise_table(df: pd.DataFrame) -> pd.DataFrame:
    """The study as a grid: rows dataset x method x batches, columns lr."""
    return df.pivot_table(index=["dataset", "method", "batches"], columns="lr",
                          values="val mAP@all").sort_index(axis=1, ascending=False).round(4)


def pairwise_lines(df: pd.DataFrame) -> str:
    """Per dataset and method: its best cell, and whether any cell clears the learned-nothing
    line."""
    out = []
    for (ds, m), g in df.groupby(["dataset", "method"], sort=False):
        best = g.loc[g["val mAP@all"].idxmax()]
        verdict = ("learns" if best["val mAP@all"] >= best["2x random codes"]
                   else "learns nothing in any cell")
        out.append(f"{ds} {m}: best val mAP@all {best['val mAP@all']:.4f} at lr {best.lr:g}, "
                   f"{best.batches} batches; 2x random codes {best['2x random codes']:.4f}: {verdict}.")
    return "\n".join(textwrap.fill(s, 90) for s in out)


def landed_trials(kind: str, trials, p: Profile) -> list[tuple]:
    """(dataset, trial, record, its mAP@all change from the recipe as chosen, that change in
    the study's seed std) for every trial of grid `<kind>-<ds>` that landed, per dataset of
    `p`; `trials(ds, p)` maps names to configs, "recipe as chosen" among them (NaN changes
    while it has not landed)."""
    out = []
    for ds in p.datasets:
        std = study_seed_std(ds, p)
        got = {name: p.store.load_run(c, grid_command(f"{kind}-{ds}", p))
               for name, c in trials(ds, p).items() if p.store.has_run(c)}
        base = got.get("recipe as chosen")
        for name, r in got.items():
            diff = r.metrics["map_all"] - base.metrics["map_all"] if base else float("nan")
            out.append((ds, name, r, diff, in_seed_std(diff, std)))
    return out


def trial_frame(profile: str | Profile) -> pd.DataFrame:
    """DMH's recipe trials on validation that landed: mAP@all, its change from the recipe as
    chosen, and that change in units of the study's seed std (`study_seed_std`; NaN with
    one seed)."""
    return pd.DataFrame([{"dataset": NAMES[ds], "trial": name, "val mAP@all": r.metrics["map_all"],
                          "change": diff, "in seed std": z, "train_s": r.train_s}
                         for ds, name, r, diff, z in landed_trials("trials", C.trial_configs,
                                                                   get_profile(profile))])


def study_seed_std(dataset: str, p: Profile) -> float:
    """The unit the study's single-seed changes are read in: the larger of DMH's seed stds on
    test (its main runs at the longest code) and on validation (the precision grid's float32
    runs: the chosen config at every seed); NaN when neither has two seeds."""
    main = [c for c in C.main_configs(dataset, p) if c.bits == p.longest and p.store.has_run(c)]
    val = [c for c in split_stored(f"precision-{dataset}", p)[0] if c.precision == "fp32"]
    return largest_std(*(pd.Series([r.metrics["map_all"] for r in records(f"{grid}-{dataset}", p, cs)]).std()
                         for grid, cs in (("main", main), ("precision", val))))


def trial_lines(df: pd.DataFrame) -> str:
    """Per dataset, the trials that beat the recipe as chosen by more than two seed stds
    (what validation supports keeping), or that none did."""
    out = []
    for ds, g in df.groupby("dataset", sort=False):
        if g["in seed std"].isna().all():
            best = g.loc[g.change.idxmax()]
            out.append(f"{ds}: no seed spread to judge by (one main seed); the largest change is "
                       f"{best.trial}'s {best.change:+.4f}.")
            continue
        keep = g[(g["in seed std"] > BEYOND) & (g.trial != C.SPEED_TRIAL)]
        each = ", ".join(f"{r.trial} ({r.change:+.4f}, {r['in seed std']:+.1f} seed std)"
                         for _, r in keep.iterrows())
        line = (f"{ds}: {each} beat the recipe as chosen by more than two seed stds." if len(keep) else
                f"{ds}: no trial beats the recipe as chosen by more than two seed stds.")
        speed = g[g.trial == C.SPEED_TRIAL]
        if len(speed):  # a trial of speed: does it cost mAP?
            r = speed.iloc[0]
            line += (f" {C.SPEED_TRIAL}: {r.change:+.4f} ({r['in seed std']:+.1f} seed std), "
                     + ("a cost beyond two seed stds." if r["in seed std"] < -BEYOND else
                        "no cost beyond two seed stds."))
        out.append(line)
    return "\n".join(textwrap.fill(s, 90) for s in out)


def precision_frame(profile: str | Profile) -> pd.DataFrame:
    """Per dataset and precision (grid `precision-<ds>`): DMH's validation mAP@all over the
    seeds that landed (mean, sample std, n), and bf16's difference of means in seed stds
    (the larger of the two)."""
    p = get_profile(profile)
    rows = []
    for ds in p.datasets:
        name = f"precision-{ds}"
        got = records(name, p, split_stored(name, p)[0])
        by = {x: pd.Series([r.metrics["map_all"] for r in got if r.config.precision == x])
              for x in ("fp32", "bf16")}
        diff = by["bf16"].mean() - by["fp32"].mean()
        for x, v in by.items():
            rows.append({"dataset": NAMES[ds], "precision": x, "seeds": len(v),
                         "val mAP@all mean": v.mean(), "std": v.std(),
                         "bf16 - fp32 in seed std": in_seed_std(diff, by["fp32"].std(), by["bf16"].std())})
    return pd.DataFrame(rows)


def precision_lines(df: pd.DataFrame) -> str:
    """Per dataset: bfloat16's difference from float32 over seeds, and whether it is a cost
    beyond two seed stds."""
    out = []
    for ds, g in df.groupby("dataset", sort=False):
        g = g.set_index("precision")
        n = int(g["seeds"].min())
        if n < 2:
            out.append(f"{ds}: {n} seed(s) of each precision so far: no seed spread to judge by.")
            continue
        diff = g.loc["bf16", "val mAP@all mean"] - g.loc["fp32", "val mAP@all mean"]
        k = g.loc["bf16", "bf16 - fp32 in seed std"]
        seeds = f"{int(g.loc['fp32', 'seeds'])} and {int(g.loc['bf16', 'seeds'])} seeds"
        out.append(f"{ds}: bf16 - fp32 = {diff:+.4f} over {seeds} ({spread_words(k)}): "
                   + ("a cost." if k < -BEYOND else "no cost beyond two seed stds."))
    return "\n".join(textwrap.fill(s, 90) for s in out)


def published_frame(profile: str | Profile) -> pd.DataFrame:
    """DDH and DCDH on validation with the shared recipe and with their papers' (optimizer,
    lr, batch), and which reads better."""
    p = get_profile(profile)
    rows = [{"dataset": NAMES[r.dataset], "method": label(r.config.method),
             "recipe": "shared" if r.config.optimizer == "sgd" else "published",
             "optimizer": r.config.optimizer, "lr": r.config.lr, "batch": r.config.batch_size,
             "val mAP@all": r.metrics["map_all"], "train_s": r.train_s}
            for r in study_records("published", p)[0]]
    df = pd.DataFrame(rows)
    if len(df):
        best = df.groupby(["dataset", "method"])["val mAP@all"].transform("max")
        df["reads better"] = df["val mAP@all"] == best
    return df


def study_missing_line(profile: str | Profile,
                       kinds=("budget", "pairlr", "sampler", "trials", "published", "ladder",
                              "trunk", "search", "precision", "centersampler", "batchk", "dpshpairs")) -> str:
    """How many study runs have not landed yet, and the command that trains them."""
    p = get_profile(profile)
    missing = [c.name() for k in kinds for ds in p.datasets for c in split_stored(f"{k}-{ds}", p)[1]]
    if not missing:
        return "Every run of the study is in."
    grids = " ".join(f"{k}-{ds}" for k in kinds for ds in p.datasets)
    names = f": {', '.join(missing)}" if len(missing) <= 6 else ""
    return textwrap.fill(f"Not trained yet, {len(missing)} runs{names}. The tables show what "
                         f"landed; `{grid_command(grids, p)}` resumes the rest.", 90)


def finding(profile: str | Profile) -> str:
    """The intro's sentence on the training budget, the pairwise baselines and the recipe
    trials, from the chapter's records."""
    p = get_profile(profile)
    plateau = " ".join(plateau_lines(budget_frame(p)).split())
    pairs = pairwise_frame(p)
    best = pairs.groupby(["dataset", "method"], sort=False)[["val mAP@all", "2x random codes"]].max()
    learns = [f"{m} on {ds}" for (ds, m), r in best.iterrows() if r["val mAP@all"] >= r["2x random codes"]]
    return (f"**Training budget** ([chapter](recipe.html)), DMH's validation mAP@all at "
            f"{p.longest} bits as its epochs double: {plateau} The pairwise baselines (DSH and "
            f"DPSH across {pairs.lr.nunique()} lrs, HashNet at its lr), with random and P x K "
            f"batches, clear twice the random codes' mAP in {len(learns)} of {len(best)} "
            f"method-dataset pairs" + (f" ({', '.join(learns)})." if learns else ".")
            + " Recipe trials: " + " ".join(trial_lines(trial_frame(p)).split()))
