"""How far the networks' own pixels carry: dlib's face embedding of the 32x32 crops the
hashing networks read (grid `ceiling-<ds>`) beside its embedding of the photos (grid
`anchor-<ds>`) and DMH's networks at 1x and at the plateau budget, closed protocol, test
queries, longest code for the hashes. A reading, not a peer: dlib's network learned from
~3 million faces."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..experiments.anchor_specs import AnchorSpec, crop_anchor_specs
from ..experiments.profiles import Profile, get_profile
from . import frames as F
from .plateau_results import landed, plateau_of

COLUMNS = ["dataset", "reads", "method", "bits", "seeds", "mAP@all", "std", "P@10"]


def _row(ds: str, reads: str, method: str, bits: int, metrics: list[dict]) -> dict:
    maps = [m["map_all"] for m in metrics]
    return {"dataset": F.NAMES.get(ds, ds), "reads": reads, "method": method, "bits": bits,
            "seeds": len(maps), "mAP@all": float(np.mean(maps)),
            "std": float(np.std(maps, ddof=1)) if len(maps) > 1 else np.nan,
            "P@10": float(np.mean([m["precision_at_k"]["10"] for m in metrics]))}


def _anchors(p: Profile, specs: list[AnchorSpec]) -> list[dict]:
    return [p.store.load_anchor(s.name(), "").metrics for s in specs
            if p.store.anchor_path(s.name()).exists()]


def pixel_ceiling_frame(profile: str | Profile) -> pd.DataFrame:
    """Per dataset, the rows that landed: dlib on the photos and on the crops (float), a DMH
    hash layer on the crops' embedding (every seed), DMH at 1x and at the plateau budget
    (every seed landed; the plateau's own face crop)."""
    p = get_profile(profile)
    q = plateau_of(p)
    rows = []
    for ds in p.datasets:
        crop_specs = crop_anchor_specs(ds, p)
        crop = f"{crop_specs[0].pixels} crop, 32x32"
        for reads, method, bits, got in [
                ("photos", "dlib float", 0, _anchors(p, [AnchorSpec("float", ds, 0, 0)])),
                (crop, "dlib float", 0, _anchors(p, crop_specs[:1])),
                (crop, "dlib + DMH hash layer", p.longest, _anchors(p, crop_specs[1:]))]:
            if got:
                rows.append(_row(ds, reads, method, bits, got))
        for prof in (p, q) if q is not None else (p,):  # DMH at 1x, then at the plateau budget
            top = [r for r in landed(f"main-{ds}", prof) if r.config.bits == prof.longest]
            if top:
                c = top[0].config
                rows.append(_row(ds, f"{c.face_crop} crop, 32x32", f"DMH, {c.epochs} epochs", prof.longest,
                                 [r.metrics for r in top]))
    return pd.DataFrame(rows, columns=COLUMNS)


def pixel_ceiling_lines(df: pd.DataFrame) -> str:
    """Per dataset with both dlib float rows: how much of dlib's photo score its reading of
    the crops keeps, and how much of the hash layer on that reading (else of the reading)
    DMH's best landed network reaches."""
    out = []
    for ds, g in df.groupby("dataset", sort=False):
        dlib = g[g.method == "dlib float"].set_index("reads")["mAP@all"]
        nets, hashed = g[g.method.str.startswith("DMH,")], g[g.method == "dlib + DMH hash layer"]
        if len(dlib) < 2 or not len(nets):
            continue
        photo, crop = dlib["photos"], dlib.drop("photos").iloc[0]
        best = nets.loc[nets["mAP@all"].idxmax()]
        line = (f"{ds}: dlib's embedding of the networks' 32x32 crops scores mAP@all {crop:.3f} "
                f"({crop / photo:.0%} of its {photo:.3f} on the photos)")
        if len(hashed):
            h = hashed.iloc[0]
            line += (f", a {int(h.bits)}-bit hash layer on it trained with DMH's losses {h['mAP@all']:.3f}; "
                     f"DMH's best landed network ({best.method}) {best['mAP@all']:.3f}, "
                     f"{best['mAP@all'] / h['mAP@all']:.0%} of that hash.")
        else:
            line += (f"; DMH's best landed network ({best.method}) {best['mAP@all']:.3f}, "
                     f"{best['mAP@all'] / crop:.0%} of what dlib reads from the same pixels.")
        out.append(line)
    return "\n".join(out)


__all__ = ["pixel_ceiling_frame", "pixel_ceiling_lines"]
