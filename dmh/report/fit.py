"""Where DMH's ceiling comes from, read from the budget runs' own training logs: at each
multiple of the epoch budget, the last epoch's loss terms (softmax cross-entropy, center,
quantization; averaged over the epoch's augmented batches) next to the validation mAP. A
network whose training softmax loss is still high underfits its training identities; one
that fits them and still gains is compacting its codes."""
from __future__ import annotations

import textwrap

import pandas as pd

from ..experiments.profiles import Profile, get_profile
from .frames import NAMES
from .recipe import PLATEAU_GAIN, gain_over_half, gain_words, study_records

# Training cross-entropy under which the network is read as fitting its training identities
# (a softmax loss of 0.2 is a mean probability of about 0.82 on the true identity).
FITS_CE = 0.2


def fit_frame(profile: str | Profile) -> pd.DataFrame:
    """One row per budget run: dataset, epochs, the last epoch's training loss terms, the
    validation mAP@all of the codes and of the float outputs, and precision@10."""
    p = get_profile(profile)
    rows = [{"dataset": NAMES[r.dataset], "epochs": r.config.epochs,
             "train softmax CE": r.history[-1]["ce"], "train center": r.history[-1]["center"],
             "train quantization": r.history[-1]["quant"], "val mAP@all": r.metrics["map_all"],
             "float val mAP@all": r.metrics["map_all_float"],
             "val P@10": r.metrics["precision_at_k"].get("10", float("nan"))}
            for r in study_records("budget", p)[0] if r.history and "ce" in r.history[-1]]
    return (pd.DataFrame(rows).sort_values(["dataset", "epochs"]).reset_index(drop=True)
            if rows else pd.DataFrame(rows))


def fit_lines(df: pd.DataFrame) -> str:
    """Per dataset: from the shortest to the longest run, how the training softmax loss and the
    center term moved, and what that says beside the last doubling's validation gain
    (underfits / fits its identities; still gains / has stopped gaining from epochs)."""
    out = []
    for ds, g in df.groupby("dataset", sort=False):
        a, b = g.iloc[0], g.iloc[-1]
        moved = (f"from {int(a.epochs)} to {int(b.epochs)} epochs the training softmax loss went "
                 f"{a['train softmax CE']:.2f} -> {b['train softmax CE']:.2f}, the center term "
                 f"{a['train center']:.2f} -> {b['train center']:.2f}, validation mAP@all "
                 f"{a['val mAP@all']:.3f} -> {b['val mAP@all']:.3f}")
        gain = gain_over_half(g).iloc[-1]  # the last doubling's (NaN for a single run)
        flat = gain < PLATEAU_GAIN
        last = (f"its last doubling added {gain_words(gain)} validation mAP (under "
                f"{PLATEAU_GAIN:.0%})") if flat else ""
        if b["train softmax CE"] > FITS_CE and flat:  # more epochs fit it better, not its codes
            verdict = (f"at {int(b.epochs)} epochs it does not yet fit its training identities "
                       f"(softmax loss above {FITS_CE}), yet {last}: longer training has little "
                       f"left to give this trunk (each doubling buys less than the plateau rule asks), so a "
                       f"larger trunk or a better input is the lever")
        elif b["train softmax CE"] > FITS_CE:
            verdict = (f"at {int(b.epochs)} epochs it does not yet fit its training identities "
                       f"(softmax loss above {FITS_CE}): it underfits, so the ceiling is not yet in "
                       f"sight; longer training or a larger trunk is the lever")
        elif flat:
            verdict = (f"it fits its training identities (softmax loss under {FITS_CE}) and {last}: "
                       f"its codes have stopped gaining from epochs")
        else:
            verdict = (f"it fits its training identities (softmax loss under {FITS_CE}) and still "
                       f"gains while its center term falls: each identity's codes are still being "
                       f"drawn together")
        out.append(f"{ds}: {moved}; {verdict}.")
    return "\n".join(textwrap.fill(s, 90) for s in out)


def fit_summary(df: pd.DataFrame) -> str:
    """One clause per dataset for the intro: at its longest budget run, whether DMH fits its
    training identities."""
    parts = []
    for ds, g in df.groupby("dataset", sort=False):
        b = g.iloc[-1]
        fits = b["train softmax CE"] <= FITS_CE
        parts.append(f"{ds} {'fits' if fits else 'does not yet fit'} its training identities at "
                     f"{int(b.epochs)} epochs (training softmax loss {b['train softmax CE']:.2f}"
                     + ("" if fits else ": it underfits") + ")")
    return "; ".join(parts)
