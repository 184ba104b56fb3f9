"""One validation rule for every method: each combination of the method's search space is a
run on the validation split (longest code, first seed); the best validation mAP@all wins,
the first of equals (the search space's first values) on a tie. The choice is written to the
profile's store (`chosen/<method>-<dataset>.json`) and read by every config that uses it."""
from __future__ import annotations

import itertools
from dataclasses import replace

from ..core.atomic import write_json
from ..core.config import TrainConfig
from ..run.store import MissingRecord
from .profiles import Profile


def candidates(method: str, dataset: str, p: Profile) -> list[TrainConfig]:
    space = p.search[method]
    base = TrainConfig(dataset=dataset, epochs=p.epochs.get(dataset, 20), threads=p.threads,
                       bits=p.longest, seed=p.seeds[0], eval_split="val",
                       **({} if method == "dmh" else {"method": method}))
    return [replace(base, **dict(zip(space, values))) for values in itertools.product(*space.values())]


def choose(method: str, dataset: str, p: Profile) -> dict:
    """Pick `method`'s hyperparameters from its validation records; write and return the choice."""
    space, store = p.search[method], p.store
    rows = [{**{k: getattr(c, k) for k in space},
             "val_map_all": store.load_run(c, f"dmh grid tune-{dataset}").metrics["map_all"],
             "run": c.name()} for c in candidates(method, dataset, p)]
    best = max(rows, key=lambda r: r["val_map_all"])  # first of equals wins
    out = {"dataset": dataset,
           "criterion": f"validation mAP@all (expected over ties), {p.longest} bits, seed {p.seeds[0]}",
           "chosen": {k: best[k] for k in space}, "candidates": rows}
    write_json(store.chosen_path(method, dataset), out)
    return out


def hyperparameters(method: str, dataset: str, p: Profile) -> dict:
    """The validation choice of `method` (empty for a method without a search space)."""
    if method not in p.search:
        return {}
    path = p.store.chosen_path(method, dataset)
    if not path.exists():
        raise MissingRecord(f"{path} missing: run `dmh grid tune-{dataset}` (hyperparameters "
                            f"come from validation only)")
    return p.store.load_json(path, f"dmh grid tune-{dataset}")["chosen"]
