"""How much CPU work a lent GPU did per second of its wall time, from the logged lends
(`results/device-logs/*.log`, written by `scripts/device_grid.sh`): each log's `done <run>`
lines priced at the CPU records' rates (`cost.estimate_seconds`), over its `wall N s` line.
It turns a grid's CPU hours into GPU hours, at the throughput a lend has shown so far."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..core.paths import RESULTS_DIR
from ..run.records import RunRecord
from ..run.store import Store, paper_store, read_json
from .cost import estimate_seconds, training_rates

DEVICE_LOGS = RESULTS_DIR / "device-logs"
DONE = re.compile(r": done (\S+): mAP@all")
WALL = re.compile(r"^wall (\d+(?:\.\d+)?) s$", re.M)


@dataclass(frozen=True)
class LendRate:
    lends: int
    runs: int
    cpu_s: float  # one CPU thread's seconds for the lends' runs, at the CPU records' rates
    wall_s: float  # the lends' wall seconds, start to end of their grids
    gpus: tuple[str, ...]

    @property
    def cpu_s_per_s(self) -> float:
        return self.cpu_s / self.wall_s

    def gpu_hours(self, cpu_hours: float) -> float:
        return cpu_hours / self.cpu_s_per_s


def lend_rate(store: Store | None = None, logs: Path = DEVICE_LOGS) -> LendRate | None:
    """The logged lends' rate; None without a finished lend (a log without its `wall` line
    was cut off, and its wall is unknown) or with a run the CPU records cannot price."""
    store = store or paper_store()
    lends, wall, records = 0, 0.0, []
    for log in sorted(Path(logs).glob("*.log")):
        text = log.read_text()
        walls = WALL.findall(text)
        if not walls:
            continue
        lends, wall = lends + 1, wall + float(walls[-1])
        for name in DONE.findall(text):
            path = store.root / "runs" / f"{name}.json"
            if path.exists():
                records.append(RunRecord.from_dict(read_json(path), str(path)))
    if not records:
        return None
    cpu_s, unknown = estimate_seconds([r.config for r in records], rates=training_rates(store))
    if unknown:
        return None
    gpus = tuple(sorted({str(r.hardware.get("gpu", r.hardware.get("device"))) for r in records}))
    return LendRate(lends, len(records), cpu_s, wall, gpus)


def lend_line(rate: LendRate | None, cpu_hours: float, lend_minutes: float = 10) -> str:
    """`cpu_hours` of runs in GPU hours and lends of `lend_minutes`, at `rate` (the lends'
    runs were short, 1x-budget ones: their start-up weighs more than in longer runs)."""
    if rate is None:
        return "no GPU lend is logged yet to price them on a GPU"
    gpu_h = rate.gpu_hours(cpu_hours)
    return (f"at the rate of the GPU lends logged so far ({rate.lends} on {', '.join(rate.gpus)}, "
            f"{rate.runs} short runs, one model each: about {rate.cpu_s / 3600:.1f} CPU hours of runs in "
            f"{rate.wall_s:.0f} s, {rate.cpu_s_per_s:.0f} CPU seconds a second), that is about "
            f"{gpu_h:.1f} GPU hours, {gpu_h * 60 / lend_minutes:.0f} lends of {lend_minutes:.0f} "
            f"minutes; stacking runs in one model (`--stack`) is not yet measured on a GPU")
