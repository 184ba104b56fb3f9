"""A bf16 cell trained in float32, on a CPU where bfloat16 crawls.

The plateau profile trains its result runs under bfloat16 autocast for speed: 1.56x float32's
images/s on a CPU with AVX-512 BF16, at +0.3 seed std of DMH's validation mAP (grid
`precision-<ds>`; `bf16check-<ds>` for the baselines). A CPU without native bfloat16
(`provenance.slow_bf16`) runs it about 10x slower than float32, so there `dmh grid --fp32`
trains such a run's fp32 twin instead: the same config but for its precision, under a name
of its own. Once landed, the twin is the cell (`landed_cell`): the grids count it as trained
and read it, and no grid trains the bf16 run after it (one trained anyway, by `dmh train`,
takes its place). The chapters say which cells twins stand in (`report.stand_ins`).
"""
from __future__ import annotations

from dataclasses import replace

from ..core.config import TrainConfig
from ..run.store import Store

# Grids whose point is the precision itself: a twin there would be a duplicate, not a stand-in.
PRECISION_GRIDS = ("precision", "bf16check")


def fp32_twin(c: TrainConfig) -> TrainConfig:
    return replace(c, precision="fp32")


def landed_cell(c: TrainConfig, store: Store) -> TrainConfig:
    """`c`, or its fp32 twin where the twin is stored and `c` (bf16) is not."""
    if c.precision == "bf16" and not store.has_run(c) and store.has_run(twin := fp32_twin(c)):
        return twin
    return c


def like_for_like(a: TrainConfig, b: TrainConfig, store: Store) -> tuple[TrainConfig, TrainConfig]:
    """Two runs a comparison reads side by side (a budget and its doubling), in one precision:
    as landed (`landed_cell`) where both share one, else both fp32 twins (one landed as a twin,
    the other's to train). A doubling across precisions would mix the epochs' gain with the
    precisions' difference (DMH on LFW at 640 epochs, seed 0: bf16 0.698, fp32 0.672 val mAP)."""
    a, b = landed_cell(a, store), landed_cell(b, store)
    return (a, b) if a.precision == b.precision else (fp32_twin(a), fp32_twin(b))


def _but_epochs(c: TrainConfig) -> str:
    return replace(c, epochs=1).key()


def in_fp32(configs: list[TrainConfig], store: Store) -> list[TrainConfig]:
    """`configs` as `dmh grid --fp32` trains them: each bf16 run not stored becomes its fp32
    twin, and a stored bf16 run whose doubling or half among them becomes one gets its twin
    beside it, so that the two compare like with like (`like_for_like`)."""
    twinned = [c.precision == "bf16" and not store.has_run(c) for c in configs]
    new = {(_but_epochs(fp32_twin(c)), c.epochs) for c, t in zip(configs, twinned) if t}
    out = []
    for c, t in zip(configs, twinned):
        out.append(fp32_twin(c) if t else c)
        if not t and c.precision == "bf16" and \
                {(_but_epochs(fp32_twin(c)), e) for e in (2 * c.epochs, c.epochs / 2)} & new:
            out.append(fp32_twin(c))
    return out


def is_stand_in(c: TrainConfig, profile) -> bool:
    """A run in fp32 where `profile` trains the method in bf16: an fp32 twin standing in."""
    return c.precision == "fp32" and profile.precision_of(c.method) == "bf16"
