"""A cell's run in the other precision (its twin), standing in until the cell's own lands.

Every profile trains its result runs in `Profile.precision`, one precision for every method:
float32. The plateau profile first trained them under bfloat16 autocast (1.56x float32's
images/s on a CPU with AVX-512 BF16, at +0.3 DMH seed std at 1x: grid `precision-<ds>`), but at
its budget bf16 moved the methods apart: LFW validation, 640 epochs, seed 0, bf16 - fp32 was
+3.8% for DMH, -3.6% for DDH, -6.3% for DSH. So a comparison in bf16 is not the methods' own.

A twin is the same config but for its precision, a record of its own. Where a cell's run has
not landed and its twin has, the chapters read the twin (`landed_cell`), mark it and draw no
verdict across precisions; the grids train the cell's own run all the same (a profile with
`stand_ins` off, `own_runs`).
"""
from __future__ import annotations

from dataclasses import replace

from ..core.config import TrainConfig
from ..run.store import Store

OTHER = {"fp32": "bf16", "bf16": "fp32"}


def twin(c: TrainConfig) -> TrainConfig:
    return replace(c, precision=OTHER[c.precision])


def landed_cell(c: TrainConfig, store: Store) -> TrainConfig:
    """`c`, or its twin where the twin is stored and `c` is not."""
    if not store.has_run(c) and store.has_run(t := twin(c)):
        return t
    return c


def like_for_like(a: TrainConfig, b: TrainConfig, store: Store) -> tuple[TrainConfig, TrainConfig]:
    """Two runs a comparison reads side by side (a budget and its doubling), in one precision:
    as landed (`landed_cell`) where both share one, else both in their own. A doubling across
    precisions would mix the epochs' gain with the precisions' difference."""
    la, lb = landed_cell(a, store), landed_cell(b, store)
    return (la, lb) if la.precision == lb.precision else (a, b)


def own_runs(p):
    """Profile `p` as the runner reads it: each cell its own run, no twin standing in."""
    return replace(p, stand_ins=False)


def preferring_twins(p):
    """Profile `p` with every cell read in the other precision where that landed (its own run
    where not): the view a verdict falls back to, and each cell's twin beside its own run."""
    return replace(p, precision=OTHER[p.precision])


def is_stand_in(c: TrainConfig, profile) -> bool:
    """A result run in a precision other than `profile`'s: a twin standing in."""
    return c.precision != profile.precision
