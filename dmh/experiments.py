"""Named grids of training runs, shared by the CLI, the background runner and the notebooks.

Every run is cached by config (`dmh.train.result_path`), so a grid that shares runs with
another does not retrain them and an interrupted grid resumes where it stopped.

Two profiles: `paper` (what the committed book shows: both datasets, 12/24/36/48 bits,
3 seeds, hyperparameters chosen on validation, records committed in `results/runs/`) and
`quick` (CI and a first look: LFW, 2 epochs, default hyperparameters, records in
`runs/quick-results/`, not committed).

Budgets: epochs per dataset are fixed for every method so comparisons are at equal
training cost (LFW's training set is 5x smaller than Pins', so it gets more epochs).
"""
from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, replace
from pathlib import Path

from .core.config import TrainConfig
from .core.paths import RESULTS_DIR

BITS = (12, 24, 36, 48)
SEEDS = (0, 1, 2)
EPOCHS = {"lfw": 40, "pins": 10}
# Candidates for the validation sweep (48 bits, seed 0); the lr, lam and mu of the best
# validation mAP@all are used for every test run of that dataset.
SWEEP = {"lr": (0.1,), "lam": (0.001, 0.01, 0.1), "mu": (0.001, 0.01, 0.1)}
# Grids run as 2 single-thread workers: on 2 cores that trains ~1.45x more images/s than
# one 2-thread process (measured: 2 x 960 vs 1,330 img/s at batch 64).
THREADS = 1


@dataclass(frozen=True)
class Profile:
    """Args:
        datasets, bits, seeds: the grid.
        epochs: per dataset.
        threads: torch threads per run.
        tuned: use the hyperparameters chosen on validation (else TrainConfig's defaults).
        results: folder of the run records (None: the committed `results/runs/`).
        ablation_seeds: seeds of the ablation variants (fewer than `seeds` where the CPU
            budget demands it; the chapters say how many).
    """

    name: str
    datasets: tuple[str, ...]
    bits: tuple[int, ...]
    seeds: tuple[int, ...]
    epochs: dict
    threads: int
    tuned: bool
    results: str | None
    ablation_seeds: tuple[int, ...] = (0,)

    @property
    def results_dir(self) -> Path:
        from .train import runs_dir

        return runs_dir() / self.results if self.results else RESULTS_DIR / "runs"


PROFILES = {
    "paper": Profile("paper", ("lfw", "pins"), BITS, SEEDS, EPOCHS, THREADS, True, None,
                     ablation_seeds=SEEDS),
    "quick": Profile("quick", ("lfw",), (12, 48), (0,), {"lfw": 2, "pins": 1}, 2, False,
                     "quick-results"),
}


def profile(name: str) -> Profile:
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}: use one of {sorted(PROFILES)}")
    return PROFILES[name]


def base_config(dataset: str, prof: str = "paper", **kw) -> TrainConfig:
    p = profile(prof)
    return TrainConfig(dataset=dataset, epochs=p.epochs.get(dataset, 20), threads=p.threads, **kw)


def chosen_path(dataset: str) -> Path:
    return RESULTS_DIR / f"chosen-{dataset}.json"


def chosen_hyperparameters(dataset: str) -> dict:
    """lr/lam/mu picked on validation (`dmh grid sweep-<dataset> choose-<dataset>`)."""
    path = chosen_path(dataset)
    if not path.exists():
        raise FileNotFoundError(f"{path} missing: run `dmh grid sweep-{dataset} choose-{dataset}` "
                                f"first (hyperparameters come from validation only)")
    return json.loads(path.read_text())["chosen"]


def hyperparameters(dataset: str, prof: str = "paper") -> dict:
    return chosen_hyperparameters(dataset) if profile(prof).tuned else {}


def sweep_configs(dataset: str, prof: str = "paper") -> list[TrainConfig]:
    p = profile(prof)
    grid = SWEEP if p.tuned else {"lr": (0.1,), "lam": (0.01, 0.1), "mu": (0.01, 0.1)}
    return [base_config(dataset, prof, bits=max(p.bits), eval_split="val", lr=lr, lam=lam, mu=mu)
            for lr, lam, mu in itertools.product(grid["lr"], grid["lam"], grid["mu"])]


def main_configs(dataset: str, prof: str = "paper") -> list[TrainConfig]:
    p, hp = profile(prof), hyperparameters(dataset, prof)
    return [base_config(dataset, prof, bits=k, seed=s, **hp) for k in p.bits for s in p.seeds]


def sensitivity_configs(dataset: str, prof: str = "paper") -> list[TrainConfig]:
    """The validation sweep's candidates scored on test: how much the lam/mu choice matters.

    Shown next to the validation sweep, never used to choose (that is `choose`)."""
    return [replace(c, eval_split="test") for c in sweep_configs(dataset, prof)]


ABLATIONS = {
    "DMH (dense, conv-GAP, all losses)": {},
    "plain trunk": {"trunk": "plain"},
    "FC hash head": {"head": "fc"},
    "softmax only": {"losses": ("softmax",)},
    "softmax + center": {"losses": ("softmax", "center")},
    "softmax + quantization": {"losses": ("softmax", "quantization")},
}


def ablation_configs(dataset: str, prof: str = "paper", variants=None) -> dict[str, list[TrainConfig]]:
    """Variants of the chosen DMH config at the longest code, each changing one thing."""
    p, hp = profile(prof), hyperparameters(dataset, prof)
    names = variants or list(ABLATIONS)
    return {name: [replace(base_config(dataset, prof, bits=max(p.bits), seed=s, **hp),
                           **ABLATIONS[name]) for s in p.ablation_seeds] for name in names}


def budget_configs(dataset: str, prof: str = "paper") -> list[TrainConfig]:
    """The chosen config on validation at half, one and two times the epoch budget."""
    hp = hyperparameters(dataset, prof)
    base = base_config(dataset, prof, bits=max(profile(prof).bits), eval_split="val", **hp)
    return [replace(base, epochs=max(1, int(base.epochs * f))) for f in (0.5, 1, 2)]


def cached_record(cfg: TrainConfig, grid_name: str, results_dir: Path | None = None) -> dict:
    """The stored record of `cfg`; a missing one names the grid that makes it (no training)."""
    from .train import result_path

    path = result_path(cfg, results_dir)
    if not path.exists():
        raise FileNotFoundError(f"run {cfg.name()} missing: run `dmh grid {grid_name}`")
    return json.loads(path.read_text())


def choose(dataset: str) -> dict:
    """Pick lr/lam/mu with the best validation mAP@all of the sweep; write chosen-<ds>.json."""
    from .core.atomic import write_json

    rows = []
    for cfg in sweep_configs(dataset):
        rec = cached_record(cfg, f"sweep-{dataset}")
        rows.append({"lr": cfg.lr, "lam": cfg.lam, "mu": cfg.mu,
                     "val_map_all": rec["metrics"]["map_all"], "run": cfg.name()})
    best = max(rows, key=lambda r: r["val_map_all"])  # first of equals wins
    out = {"dataset": dataset, "criterion": "validation mAP@all (expected over ties), 48 bits, seed 0",
           "chosen": {k: best[k] for k in ("lr", "lam", "mu")}, "candidates": rows}
    write_json(chosen_path(dataset), out)
    return out


def run_grid(configs: list[TrainConfig], workers: int = 2, log=print,
             results_dir: Path | None = None, device: str = "cpu") -> list[dict]:
    """Train every config not cached yet, `workers` processes at a time; records in order."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    from .train import result_path, train

    todo = [c for c in configs if not result_path(c, results_dir).exists()]
    log(f"{len(configs)} runs, {len(configs) - len(todo)} cached, {len(todo)} to train")
    if todo and workers > 1:
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
            futures = [pool.submit(train, c, progress=False, results_dir=results_dir,
                                   device=device) for c in todo]
            for c, f in zip(todo, futures):
                rec = f.result()
                log(f"done {c.name()}: mAP@all {rec['metrics']['map_all']:.4f} in {rec['train_s']} s")
    return [train(c, progress=False, results_dir=results_dir, device=device) for c in configs]


def grid(name: str, prof: str = "paper") -> list[TrainConfig]:
    """`sweep-<ds>`, `sensitivity-<ds>`, `main-<ds>`, `ablation-<ds>`, `budget-<ds>`,
    `comparison-<ds>`, `tuning-<ds>` (ds: lfw, pins)."""
    kind, _, ds = name.partition("-")
    if kind == "budget":
        return budget_configs(ds, prof)
    if kind == "sweep":
        return sweep_configs(ds, prof)
    if kind == "sensitivity":
        return sensitivity_configs(ds, prof)
    if kind == "main":
        return main_configs(ds, prof)
    if kind == "ablation":
        return [c for cs in ablation_configs(ds, prof).values() for c in cs]
    if kind == "tuning":
        from .comparison import tuning_configs

        return tuning_configs(ds, prof)
    if kind == "comparison":
        from .comparison import comparison_configs

        return comparison_configs(ds, prof)
    raise ValueError(f"unknown grid {name!r}: sweep-<ds>, sensitivity-<ds>, main-<ds>, "
                     f"ablation-<ds>, budget-<ds>, comparison-<ds> or tuning-<ds>")
