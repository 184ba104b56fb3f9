"""Named grids of training runs, shared by the CLI, the background runner and the notebooks.

Every run is cached by config (`dmh.train.result_path`), so a grid that shares runs with
another does not retrain them and an interrupted grid resumes where it stopped.

Budgets: epochs per dataset are fixed for every method so comparisons are at equal
training cost (LFW's training set is 5x smaller than Pins', so it gets more epochs).
"""
from __future__ import annotations

import itertools
import json
from dataclasses import replace

from .config import TrainConfig
from .paths import RESULTS_DIR

BITS = (12, 24, 36, 48)
SEEDS = (0, 1, 2)
EPOCHS = {"lfw": 40, "pins": 10}
# Candidates for the validation sweep (48 bits, seed 0); the lr, lam and mu of the best
# validation mAP@all are used for every test run of that dataset.
SWEEP = {"lr": (0.1,), "lam": (0.001, 0.01, 0.1), "mu": (0.001, 0.01, 0.1)}
# Grids run as 2 single-thread workers: on 2 cores that trains ~1.45x more images/s than
# one 2-thread process (measured: 2 x 960 vs 1,330 img/s at batch 64).
THREADS = 1


def base_config(dataset: str, **kw) -> TrainConfig:
    return TrainConfig(dataset=dataset, epochs=EPOCHS.get(dataset, 20), threads=THREADS, **kw)


def sweep_configs(dataset: str) -> list[TrainConfig]:
    return [base_config(dataset, bits=48, eval_split="val", lr=lr, lam=lam, mu=mu)
            for lr, lam, mu in itertools.product(SWEEP["lr"], SWEEP["lam"], SWEEP["mu"])]


def chosen_path(dataset: str):
    return RESULTS_DIR / f"chosen-{dataset}.json"


def chosen_hyperparameters(dataset: str) -> dict:
    """lr/lam/mu picked on validation (`dmh grid sweep-<dataset>` then `dmh choose`)."""
    path = chosen_path(dataset)
    if not path.exists():
        raise FileNotFoundError(f"{path} missing: run `dmh grid sweep-{dataset}` and `dmh choose "
                                f"{dataset}` first (hyperparameters come from validation only)")
    return json.loads(path.read_text())["chosen"]


def main_configs(dataset: str, bits=BITS, seeds=SEEDS) -> list[TrainConfig]:
    hp = chosen_hyperparameters(dataset)
    return [base_config(dataset, bits=k, seed=s, **hp) for k in bits for s in seeds]


def ablation_configs(dataset: str, bits: int = 48, seeds=SEEDS) -> dict[str, list[TrainConfig]]:
    """Variants of the chosen DMH config that change one thing each."""
    hp = chosen_hyperparameters(dataset)
    variants = {
        "DMH (dense, conv-GAP, all losses)": {},
        "plain trunk": {"trunk": "plain"},
        "FC hash head": {"head": "fc"},
        "softmax only": {"losses": ("softmax",)},
        "softmax + center": {"losses": ("softmax", "center")},
        "softmax + quantization": {"losses": ("softmax", "quantization")},
    }
    return {name: [replace(base_config(dataset, bits=bits, seed=s, **hp), **v) for s in seeds]
            for name, v in variants.items()}


def choose(dataset: str) -> dict:
    """Pick lr/lam/mu with the best validation mAP@all of the sweep; write chosen-<ds>.json."""
    from .atomic import write_json
    from .train import result_path

    rows = []
    for cfg in sweep_configs(dataset):
        path = result_path(cfg)
        if not path.exists():
            raise FileNotFoundError(f"sweep run {cfg.name()} missing: run `dmh grid sweep-{dataset}`")
        rec = json.loads(path.read_text())
        rows.append({"lr": cfg.lr, "lam": cfg.lam, "mu": cfg.mu,
                     "val_map_all": rec["metrics"]["map_all"], "run": cfg.name()})
    best = max(rows, key=lambda r: r["val_map_all"])  # first of equals wins
    out = {"dataset": dataset, "criterion": "validation mAP@all (expected over ties), 48 bits, seed 0",
           "chosen": {k: best[k] for k in ("lr", "lam", "mu")}, "candidates": rows}
    write_json(chosen_path(dataset), out)
    return out


def budget_configs(dataset: str) -> list[TrainConfig]:
    """The chosen config on validation at half and double the epoch budget: what it costs."""
    hp = chosen_hyperparameters(dataset)
    e = EPOCHS.get(dataset, 20)
    return [base_config(dataset, bits=48, eval_split="val", **hp) if f == 1 else
            replace(base_config(dataset, bits=48, eval_split="val", **hp), epochs=int(e * f))
            for f in (0.5, 1, 2)]


def run_grid(configs: list[TrainConfig], workers: int = 2, log=print) -> list[dict]:
    """Train every config not cached yet, `workers` processes at a time; records in order."""
    from concurrent.futures import ProcessPoolExecutor
    import multiprocessing as mp

    from .train import result_path, train

    todo = [c for c in configs if not result_path(c).exists()]
    log(f"{len(configs)} runs, {len(configs) - len(todo)} cached, {len(todo)} to train")
    if todo:
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
            futures = [pool.submit(train, c, progress=False) for c in todo]
            for c, f in zip(todo, futures):
                rec = f.result()
                log(f"done {c.name()}: mAP@all {rec['metrics']['map_all']:.4f} in {rec['train_s']} s")
    return [train(c, progress=False) for c in configs]


def grid(name: str) -> list[TrainConfig]:
    """`sweep-<ds>`, `main-<ds>`, `ablation-<ds>`, `budget-<ds>` for ds in lfw/pins."""
    kind, _, ds = name.partition("-")
    if kind == "budget":
        return budget_configs(ds)
    if kind == "sweep":
        return sweep_configs(ds)
    if kind == "main":
        return main_configs(ds)
    if kind == "ablation":
        return [c for cs in ablation_configs(ds).values() for c in cs]
    raise ValueError(f"unknown grid {name!r}: sweep-<ds>, main-<ds> or ablation-<ds>")
