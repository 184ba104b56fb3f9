"""The plateau cells trained in float32 where the plateau profile trains bfloat16: fp32 twins
(`experiments.fp32_twins`, `dmh grid --fp32`) standing in for bf16 runs not landed, on a CPU
without native bfloat16. A chapter names them under its plateau tables. Reads records only."""
from __future__ import annotations

from ..experiments.fp32_twins import is_stand_in
from ..methods import label
from . import frames as F
from . import plateau_results as PR

MARK = " †"


def stand_ins(profile, kind: str) -> list:
    """The landed records of the plateau grids `<kind>-<ds>` that are fp32 twins standing in."""
    q = PR.plateau_of(profile)
    return [r for ds in (q.datasets if q else ()) for r in PR.landed(f"{kind}-{ds}", q)
            if is_stand_in(r.config, q)]


def stand_in_line(profile, kind: str, bits: int | None = None) -> str:
    """One line naming grid `kind`'s stand-ins at the plateau budget (at `bits` only, where
    given; '' for none)."""
    recs = [r for r in stand_ins(profile, kind) if bits in (None, r.config.bits)]
    if not recs:
        return ""
    cells = ", ".join(f"{F.NAMES.get(r.dataset, r.dataset)} {label(r.config.method)} {r.config.bits} bits "
                      f"seed {r.config.seed}" for r in recs)
    return (f"{MARK.strip()} Trained in float32 where the plateau profile trains in bfloat16 autocast "
            f"({len(recs)} run{'s' * (len(recs) != 1)}: {cells}): the fp32 twin of the cell's run "
            f"(`dmh grid --fp32`), trained on a CPU without native bfloat16, where bf16 crawls; it "
            f"is the cell's run (a bf16 run, if one lands, takes its place). The chapter Training budget and recipe "
            f"measures what bf16 changes against fp32.")
