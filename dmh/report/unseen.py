"""Unseen people: every method on the open and cross protocols (mean ± std over seeds), the
untrained floors and the dlib anchors in the same table, precision@k curves, and retrieval
examples with the distractors marked."""
from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd

from ..experiments import configs as C
from ..experiments.anchor_specs import anchor_specs
from ..experiments.open_protocols import OPEN, open_kinds, open_protocols, trained_on
from ..experiments.profiles import Profile, get_profile
from ..methods import label
from .reading import floors_frame, grid_command, records, split_stored
from .spread import BEYOND, in_seed_std

# Loss variants of DMH by their losses (as `configs.ABLATIONS` names them).
_VARIANT = {tuple(ch["losses"]): name for name, ch in C.ABLATIONS.items() if "losses" in ch}
ANCHOR_LABELS = {"float": "dlib float (anchor)", "LSH": "dlib + LSH (anchor)",
                 "ITQ": "dlib + ITQ (anchor)", "DMH-head": "dlib + DMH losses (anchor)"}
FLOOR_LABELS = {"random": "random codes (floor)", "lsh_pixels": "LSH of pixels (floor)"}


def method_name(cfg) -> str:
    """`DMH`, `DMH: softmax only`, ..., or a baseline's label."""
    if cfg.method == "dmh" and tuple(cfg.losses) in _VARIANT:
        return f"DMH: {_VARIANT[tuple(cfg.losses)]}"
    return label(cfg.method)


def landed(grid: str, profile: str | Profile) -> tuple[list, list[str]]:
    """(records, names of the runs not trained yet) of an open or cross grid: its first seed
    of every method comes first, so a grid still running shows every method once."""
    p = get_profile(profile)
    have, missing = split_stored(grid, p)
    return records(grid, p, have), [c.name() for c in missing]


def left_out_line(p: Profile) -> str:
    """` The quick profile leaves out cross-pins-lfw: ...` for each protocol that trains on a
    dataset outside the profile's (`open_kinds`); empty where it has every one."""
    left = [OPEN[k][ds] for ds in p.datasets for k in OPEN if k not in open_kinds(ds, p)]
    return "".join(f" The {p.name} profile leaves out {proto}: it trains on {on}, not one of the "
                   f"profile's datasets ({', '.join(p.datasets)})." for on, proto in left)


def missing_line(profile: str | Profile) -> str:
    """How many runs of each open/cross grid are not in the store yet (named when few), and
    the command that makes them; the protocols the profile leaves out (`open_kinds`)."""
    p = get_profile(profile)
    grids = [f"{kind}-{ds}" for ds in p.datasets for kind in open_kinds(ds, p)]
    out = left_out_line(p)
    split = {g: split_stored(g, p) for g in grids}
    n = sum(len(missing) for _, missing in split.values())
    if not n:
        return textwrap.fill("Every run of the open and cross grids is in." + out, 90)
    each = ", ".join(f"{g} {len(m)} of {len(h) + len(m)}" for g, (h, m) in split.items())
    names = ": " + ", ".join(c.name() for _, m in split.values() for c in m) if n <= 10 else ""
    return textwrap.fill(f"Not trained yet, {n} runs ({each}){names}. The tables show the seeds "
                         f"that landed (– where none has); `{grid_command(' '.join(grids), p)}` "
                         f"resumes the rest." + out, 90)


def _row(protocol: str, method: str, kind: str, seed: int, m: dict) -> dict:
    pk = m["precision_at_k"]
    return {"protocol": protocol, "method": method, "kind": kind, "seed": seed,
            "map_all": m["map_all"], "p_at_1": pk.get("1", np.nan), "p_at_10": pk.get("10", np.nan)}


def unseen_frame(profile: str | Profile, anchors: bool = True) -> pd.DataFrame:
    """One row per run at the longest code on every open and cross protocol: the networks
    (`dmh grid open-<ds> cross-<ds>`), the floors and (`anchors`) the dlib anchors."""
    p = get_profile(profile)
    rows = []
    for ds in p.datasets:
        for kind in open_kinds(ds, p):
            for r in landed(f"{kind}-{ds}", p)[0]:
                rows.append(_row(r.dataset, method_name(r.config), "network", r.config.seed, r.metrics))
        if anchors:
            cmd = grid_command(f"anchor-{ds}", p)
            for s in anchor_specs(ds, p):
                if s.protocol != ds and s.bits in (0, p.longest):
                    r = p.store.load_anchor(s.name(), cmd)
                    rows.append(_row(s.protocol, ANCHOR_LABELS[s.method], "anchor", s.seed, r.metrics))
    rows += ceiling_rows(p)
    fl = floors_frame(p, protocols=True)
    fl = fl[fl.bits == p.longest]
    rows += [{"protocol": f.dataset, "method": FLOOR_LABELS[f.method], "kind": "floor",
              "seed": f.seed, "map_all": f.map_all, "p_at_1": f.p_at_1, "p_at_10": f.p_at_10}
             for f in fl.itertuples()]
    return pd.DataFrame(rows)


def ceiling_rows(p: Profile) -> list[dict]:
    """A perfect ranking's scores on each protocol: mAP@all 1, P@k = mean over queries of
    min(k, R) / k for R same-person gallery images (open-lfw's queries have 1-8)."""
    from ..core.config import TrainConfig
    from ..run.fit import protocol_parts

    rows = []
    for proto in open_protocols(p):
        _, query, gallery, _ = protocol_parts(TrainConfig(dataset=trained_on(proto), protocol=proto))
        counts = dict(zip(*np.unique(gallery.labels, return_counts=True)))
        r = np.array([counts.get(y, 0) for y in query.labels])
        rows.append({"protocol": proto, "method": "perfect ranking (ceiling)", "kind": "ceiling",
                     "seed": 0, "map_all": 1.0, "p_at_1": float(np.mean(r >= 1)),
                     "p_at_10": float(np.mean(np.minimum(10, r) / 10))})
    return rows


def unseen_table(df: pd.DataFrame, value: str = "map_all", digits: int = 3) -> pd.DataFrame:
    """Methods x protocols of `mean ± std` over seeds (one seed: the mean alone), in the
    order the frame lists methods; protocols ordered open, then cross."""
    g = df.groupby(["method", "protocol"], sort=False)[value].agg(["mean", "std", "count"])
    cell = [f"{m:.{digits}f} ± {s:.{digits}f}" if n > 1 else f"{m:.{digits}f}"
            for m, s, n in zip(g["mean"], g["std"].fillna(0.0), g["count"])]
    t = pd.Series(cell, index=g.index).unstack("protocol").fillna("–")  # not trained yet
    t = t.reindex(index=list(dict.fromkeys(df.method)))
    return t[[c for c in sorted(t.columns, key=lambda c: (not c.startswith("open"), c))]]


def seeds_line(df: pd.DataFrame) -> str:
    """How many seeds the networks' cells have, in words."""
    n = df[df.kind == "network"].groupby(["method", "protocol"]).seed.nunique()
    lo, hi = int(n.min()), int(n.max())
    return f"Networks: {lo}-{hi} seeds per cell." if lo != hi else \
        f"Networks: {lo} seed{'s' * (lo != 1)} per cell."


def learned_nothing(df: pd.DataFrame) -> str:
    """The networks whose mean mAP@all on a protocol is under 2x the random codes' (the rule
    of the end-of-run verdict): they learned nothing there, and the line says so."""
    mean = df.groupby(["protocol", "method"], sort=False).map_all.mean()
    nets = df[df.kind == "network"].drop_duplicates(["protocol", "method"])
    low = [f"{r.method} on {r.protocol}" for r in nets.itertuples()
           if mean[r.protocol, r.method] < 2 * mean.get((r.protocol, FLOOR_LABELS["random"]), 0)]
    if not low:
        return "Every network beats 2x the random codes' mAP@all on every protocol."
    return textwrap.fill("Under 2x the random codes' mAP@all, so learned nothing there: "
                         + ", ".join(low) + ".", 90)


def gap_table(df: pd.DataFrame) -> pd.DataFrame:
    """Per protocol: DMH's mean mAP@all and P@10, the best baseline network (DMH's loss
    variants aside) by mean mAP@all, the dlib anchors' mAP@all (float; hashed by LSH, ITQ,
    DMH's losses) and DMH's share of the best hashed one."""
    kind = df.drop_duplicates("method").set_index("method").kind
    mean = df.groupby(["protocol", "method"])[["map_all", "p_at_10"]].mean()
    rows = []
    for proto in sorted(df.protocol.unique(), key=lambda c: (not c.startswith("open"), c)):
        m = mean.loc[proto]
        others = m.loc[[i for i in m.index if kind[i] == "network" and not i.startswith("DMH")],
                       "map_all"]
        row = {"protocol": proto, "DMH mAP": m.map_all.get("DMH", np.nan),
               "DMH P@10": m.p_at_10.get("DMH", np.nan),
               "best baseline": others.idxmax() if len(others) else "",
               "its mAP": others.max() if len(others) else np.nan}
        hashed = []
        for a in ("float", "LSH", "ITQ", "DMH-head"):
            if ANCHOR_LABELS[a] in m.index:
                row[f"dlib {a}"] = m.map_all[ANCHOR_LABELS[a]]
                hashed += [row[f"dlib {a}"]] if a != "float" else []
        if hashed:
            row["DMH / best hashed dlib"] = row["DMH mAP"] / max(hashed)
        rows.append(row)
    return pd.DataFrame(rows).set_index("protocol").round(3)


def finding(profile: str | Profile) -> str:
    """The intro's sentence on unseen people, from the same records as the chapter."""
    p = get_profile(profile)
    g = gap_table(unseen_frame(p, anchors=p.anchors))
    parts = []
    for proto, r in g.iterrows():
        s = f"{proto} DMH {r['DMH mAP']:.3f} (best baseline {r['best baseline']} {r['its mAP']:.3f}"
        if "DMH / best hashed dlib" in r:
            s += f"; dlib float {r['dlib float']:.3f}, its best {p.longest}-bit hash " \
                 f"{max(r[f'dlib {a}'] for a in ('LSH', 'ITQ', 'DMH-head')):.3f}"
        parts.append(s + ")")
    return (f"**People never trained on** ([chapter](unseen.html)), mAP@all at {p.longest} "
            f"bits: " + "; ".join(parts) + ".")


def loss_verdicts(df: pd.DataFrame) -> pd.DataFrame:
    """Per protocol and loss variant: full DMH's mean mAP@all minus the variant's, in units of
    the larger seed std (`report.spread`; beyond 2: more than the seeds alone make): does
    each loss term help people never seen?"""
    rows = []
    for proto, g in df[df.kind == "network"].groupby("protocol", sort=False):
        full = g[g.method == "DMH"].map_all
        for name in _VARIANT.values():
            v = g[g.method == f"DMH: {name}"].map_all
            if not len(v) or not len(full):
                continue
            diff = full.mean() - v.mean()
            ratio = in_seed_std(diff, full.std(), v.std())
            rows.append({"protocol": proto, "variant": name, "DMH": round(full.mean(), 3),
                         "variant mAP": round(v.mean(), 3), "DMH - variant": round(diff, 4),
                         "in seed std": round(ratio, 1), "beyond 2 std": abs(ratio) > BEYOND,
                         "seeds (DMH, variant)": f"{len(full)}, {len(v)}"})
    return pd.DataFrame(rows).set_index(["protocol", "variant"]) if rows else pd.DataFrame()


def protocol_counts(profile: str | Profile) -> pd.DataFrame:
    """Each open and cross protocol: what it trains on, its training images and people, its
    queries and gallery (from the first DMH record of each)."""
    p = get_profile(profile)
    rows = []
    for ds in p.datasets:
        for kind in open_kinds(ds, p):
            r = records(f"{kind}-{ds}", p, C.open_configs(kind, ds, p)[:1])[0]
            s = r.split
            rows.append({"protocol": r.dataset, "trained on": r.config.dataset,
                         "training images": s["n_train"], "training people": s["n_classes"],
                         "queries": s["n_query"], "gallery": s["n_gallery"]})
    return pd.DataFrame(rows).set_index("protocol")


def precision_frame(profile: str | Profile, protocol: str, methods: list[str],
                    anchors: tuple[str, ...] = ()) -> pd.DataFrame:
    """Precision@k curves (mean over seeds) on `protocol` of the networks `methods` and of
    the dlib anchors `anchors` (keys of `ANCHOR_LABELS`) at the longest code."""
    p = get_profile(profile)
    ds = protocol.split("-")[-1]
    kind = "open" if protocol.startswith("open") else "cross"
    runs = [(method_name(r.config), r.metrics) for r in landed(f"{kind}-{ds}", p)[0]
            if method_name(r.config) in methods]
    runs += [(ANCHOR_LABELS[s.method], p.store.load_anchor(s.name(), grid_command(f"anchor-{ds}", p)).metrics)
             for s in anchor_specs(ds, p) if s.protocol == protocol and s.method in anchors
             and s.bits in (0, p.longest)]
    rows = [{"method": name, "k": int(k), "precision": v}
            for name, m in runs for k, v in m["precision_at_k"].items()]
    return pd.DataFrame(rows).groupby(["method", "k"], as_index=False, sort=False).precision.mean()


def detected_table(profile: str | Profile) -> pd.DataFrame:
    """Share of images where dlib's HOG detector found the face (the rest were described
    from the dataset's crop box), per protocol and part (the float anchor's records)."""
    p = get_profile(profile)
    rows = []
    for ds in p.datasets:
        for s in anchor_specs(ds, p):
            if s.method == "float":
                r = p.store.load_anchor(s.name(), grid_command(f"anchor-{ds}", p))
                rows.append({"protocol": s.protocol} | r.trunk["detected"])
    return pd.DataFrame(rows).set_index("protocol")


CROPS = {"box": "fixed crop", "tight": "tighter crop", "aligned": "aligned"}


def input_table(profile: str | Profile) -> pd.DataFrame:
    """Per dataset: DMH's validation mAP@all (chosen config, longest code, first seed) on the
    fixed crop, a tighter cut of it and dlib-aligned crops (`dmh grid input-<ds>`; NaN where
    not landed), each one's change from the fixed crop, and which one reads best."""
    p = get_profile(profile)
    rows = []
    for ds in p.datasets:
        name = f"input-{ds}"
        got = {r.config.face_crop: r.metrics["map_all"] for r in records(name, p, split_stored(name, p)[0])}
        row = {"dataset": ds} | {f"{name} (val mAP)": got.get(k, np.nan) for k, name in CROPS.items()}
        for k in ("tight", "aligned"):
            row[f"{CROPS[k]} - fixed"] = got.get(k, np.nan) - got.get("box", np.nan)
        row["reads better"] = CROPS[max(got, key=got.get)] if got else "none landed"
        rows.append(row)
    return pd.DataFrame(rows).set_index("dataset")
