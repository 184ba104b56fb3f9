"""Every method's budget ladder, on validation (grid `ladder-<ds>`): each deep method and each
one-change variant of DMH at 0.5x to 8x the epoch budget, its gain per doubling, and whether
it has reached its plateau (one more doubling adds under recipe.PLATEAU_GAIN). DMH's own
ladder is the budget grid's runs (the same configs)."""
from __future__ import annotations

import pandas as pd

from ..core.config import TrainConfig
from ..experiments import configs as C
from ..experiments.profiles import Profile, get_profile
from ..methods import label
from .frames import NAMES
from .recipe import PLATEAU_GAIN, plateau_from, study_records


def who(config: TrainConfig) -> str:
    """A ladder's name: the method's label, or "DMH: <variant>" for a one-change variant."""
    if config.method != "dmh":
        return label(config.method)
    for name, change in C.ABLATIONS.items():
        if name != C.FULL_DMH and all(getattr(config, k) == v for k, v in change.items()):
            return f"DMH: {name}"
    return label("dmh")


def ladder_frame(profile: str | Profile) -> pd.DataFrame:
    """One row per ladder run that landed: dataset, method, epochs, multiple of the budget,
    validation mAP@all (codes, float outputs), training seconds, and the relative gain over
    the same method at half the epochs (NaN where that run has not landed)."""
    p = get_profile(profile)
    rows = [{"dataset": NAMES[r.dataset], "method": who(r.config), "epochs": r.config.epochs,
             "x budget": r.config.epochs / p.epochs[r.dataset], "val mAP@all": r.metrics["map_all"],
             "float val mAP@all": r.metrics["map_all_float"], "train_s": r.train_s}
            for r in study_records("ladder", p)[0]]
    if not rows:
        return pd.DataFrame(columns=["dataset", "method", "epochs", "x budget", "val mAP@all",
                                     "float val mAP@all", "train_s", "gain over half"])
    return with_gains(pd.DataFrame(rows))


def with_gains(df: pd.DataFrame) -> pd.DataFrame:
    """Sorted by dataset, method, epochs, with `gain over half`: val mAP@all over the same
    method's at half the epochs, minus 1 (NaN where that run is missing)."""
    df = df.sort_values(["dataset", "method", "epochs"]).reset_index(drop=True)
    half = df.set_index(["dataset", "method", "epochs"])["val mAP@all"]
    prev = [half.get((d, m, e // 2)) if e % 2 == 0 else None
            for d, m, e in zip(df.dataset, df.method, df.epochs)]
    df["gain over half"] = df["val mAP@all"] / pd.Series(prev, dtype=float) - 1
    return df


def plateau_table(df: pd.DataFrame) -> pd.DataFrame:
    """Per dataset and method: the longest budget trained, the gain of its last doubling,
    and the budget from which every further doubling added under PLATEAU_GAIN ("not yet":
    the last one did not; "-": no doubling landed)."""
    out = []
    for (ds, m), g in df.groupby(["dataset", "method"], sort=False):
        g, last = g.dropna(subset=["gain over half"]), g.iloc[-1]
        at = plateau_from(g["gain over half"])
        flat = g.iloc[at:] if at is not None else g.iloc[:0]
        out.append({"dataset": ds, "method": m, "longest run (epochs)": int(last.epochs),
                    "its val mAP@all": last["val mAP@all"],
                    "last doubling's gain": g["gain over half"].iloc[-1] if len(g) else float("nan"),
                    "plateau by (epochs)": str(int(flat.epochs.iloc[0]) // 2) if len(flat)
                    else ("not yet" if len(g) else "-")})
    return pd.DataFrame(out)


def plateau_summary(table: pd.DataFrame) -> str:
    """One sentence per dataset: how many methods reached their plateau, and by what budget."""
    lines = []
    for ds, g in table.groupby("dataset", sort=False):
        by = g["plateau by (epochs)"]
        done = [f"{m} by {e} epochs" for m, e in zip(g.method, by) if e not in ("not yet", "-")]
        still = int((by == "not yet").sum())
        lines.append(f"{ds}: {len(done)} of {len(g)} at their plateau"
                     + (f" ({', '.join(done)})" if done else "")
                     + (f"; {still} still gaining {PLATEAU_GAIN:.0%} or more at their last doubling"
                        if still else "") + ".")
    return "\n".join(lines)
