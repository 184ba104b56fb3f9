"""The plateau cells read from a twin in the other precision: bfloat16 runs standing in for
the float32 runs the plateau profile trains, until those land (`experiments.precision_twins`).
A chapter names them under its plateau tables and draws no verdict across precisions. Reads
records only."""
from __future__ import annotations

from ..experiments.precision_twins import is_stand_in
from . import frames as F
from . import plateau_results as PR
from .ladder import who

MARK = " ‡"


def stand_ins(profile, kind: str) -> list:
    """The landed records of the plateau grids `<kind>-<ds>` that are twins standing in."""
    q = PR.plateau_of(profile)
    return [r for ds in (q.datasets if q else ()) for r in PR.landed(f"{kind}-{ds}", q)
            if is_stand_in(r.config, q)]


def stand_in_line(profile, kind: str, bits: int | None = None) -> str:
    """One line naming grid `kind`'s stand-ins at the plateau budget (at `bits` only, where
    given; '' for none)."""
    recs = [r for r in stand_ins(profile, kind) if bits in (None, r.config.bits)]
    if not recs:
        return ""
    q = PR.plateau_of(profile)
    seeds = {}  # (dataset, bits, method or DMH variant) -> its seeds standing in
    for r in recs:
        seeds.setdefault((F.NAMES.get(r.dataset, r.dataset), r.config.bits, who(r.config)), []).append(r.config.seed)
    groups = {}  # (dataset, bits, seeds) -> methods, to name each group of cells once
    for (ds, bits, method), s in seeds.items():
        groups.setdefault((ds, bits, tuple(sorted(s))), []).append(method)
    cells = "; ".join(f"{ds} {bits} bits, seed{'s' * (len(s) > 1)} {', '.join(map(str, s))}: {', '.join(ms)}"
                      for (ds, bits, s), ms in groups.items())
    theirs, own = PR.PRECISIONS[recs[0].config.precision], PR.PRECISIONS[q.precision]
    return (f"{MARK.strip()} Trained in {theirs} where the plateau profile trains every method in "
            f"{own} ({len(recs)} run{'s' * (len(recs) != 1)}: {cells}): the twin "
            f"of the cell's run, standing in until that lands (`dmh grid` trains it). At this "
            f"budget the precision moves methods apart, some up and some down (chapter Training "
            f"budget and recipe), so no verdict is drawn between a {theirs} cell and a {own} one.")
