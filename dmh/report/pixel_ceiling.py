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
    """Per dataset, the rows that landed: dlib on the photos, and on each crop the profile and
    its plateau profile read (float; a DMH hash layer on that embedding, every seed), then DMH
    at 1x and at the plateau budget (every seed landed; each reads its profile's own crop)."""
    p = get_profile(profile)
    q = plateau_of(p)
    profiles = (p, q) if q is not None else (p,)
    rows = []
    for ds in p.datasets:
        rows += _dlib_rows(ds, p, profiles)
        for prof in profiles:  # DMH at 1x, then at the plateau budget
            top = [r for r in landed(f"main-{ds}", prof) if r.config.bits == prof.longest]
            if top:
                c = top[0].config
                rows.append(_row(ds, _reads(c.face_crop), f"DMH, {c.epochs} epochs", prof.longest,
                                 [r.metrics for r in top]))
    return pd.DataFrame(rows, columns=COLUMNS)


def _reads(crop: str) -> str:
    return f"{crop} crop, 32x32"


def _dlib_rows(ds: str, p: Profile, profiles) -> list[dict]:
    """dlib on the photos, then on each distinct crop of `profiles` (float, then hashed)."""
    rows = [_row(ds, "photos", "dlib float", 0, got)
            for got in [_anchors(p, [AnchorSpec("float", ds, 0, 0)])] if got]
    for crop, specs in {s[0].pixels: s for s in (crop_anchor_specs(ds, x) for x in profiles)}.items():
        for method, bits, got in [("dlib float", 0, _anchors(p, specs[:1])),
                                  (HASHED, p.longest, _anchors(p, specs[1:]))]:
            if got:
                rows.append(_row(ds, _reads(crop), method, bits, got))
    return rows


HASHED = "dlib + DMH hash layer"


def pixel_ceiling_lines(df: pd.DataFrame) -> str:
    """Per dataset with dlib's photo row and a DMH network: what dlib reads from each crop
    (its share of the photo score, and the hash layer on that reading), then DMH's best
    landed network against dlib on the same crop only: the hash layer, else the float
    reading, else a note that this crop's reading has not landed."""
    out = []
    for ds, g in df.groupby("dataset", sort=False):
        dlib = g[g.method == "dlib float"].set_index("reads")["mAP@all"]
        nets = g[g.method.str.startswith("DMH,")]
        if "photos" not in dlib.index or len(dlib) < 2 or not len(nets):
            continue
        photo, crops = dlib["photos"], dlib.drop("photos")
        said = []
        for reads, crop in crops.items():
            hashed = g[(g.method == HASHED) & (g.reads == reads)]
            said.append(f"{crop:.3f} on the {reads.split(',')[0]} ({crop / photo:.0%} of its {photo:.3f} on the photos)"
                        + (f", a {int(hashed.iloc[0].bits)}-bit hash layer on it trained with DMH's losses "
                           f"{hashed.iloc[0]['mAP@all']:.3f}" if len(hashed) else ""))
        best = nets.loc[nets["mAP@all"].idxmax()]
        line = (f"{ds}: dlib's embedding of the networks' 32x32 crops scores mAP@all " + "; ".join(said)
                + f". DMH's best landed network ({best.method}, {best.reads.split(',')[0]}) "
                  f"{best['mAP@all']:.3f}, ")
        own = g[(g.reads == best.reads) & (g.method == HASHED)]
        if len(own):
            line += f"{best['mAP@all'] / own.iloc[0]['mAP@all']:.0%} of that hash layer on the same crop."
        elif best.reads in crops.index:
            line += f"{best['mAP@all'] / crops[best.reads]:.0%} of what dlib reads from the same pixels."
        else:
            line += "and dlib's reading of that crop has not landed yet: no ratio across crops."
        out.append(line)
    return "\n".join(out)


__all__ = ["pixel_ceiling_frame", "pixel_ceiling_lines"]
