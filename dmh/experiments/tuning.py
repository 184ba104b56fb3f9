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


# Fields every config of a method starts from, so they are part of its key: corrections found
# after earlier runs, which ran with TrainConfig's and the code's defaults and keep them (their
# records stay true). DSH and DPSH learned nothing (random-code mAP) with tanh outputs and
# DPSH's eta = 0.1: tanh saturated under DSH's margin (93% of units beyond 0.99), and 0.1 is
# 50x the paper's per-pair weight (eta 10 over n = 5000 samples); both papers' outputs are
# linear. LFW val, P x K batches, 1000 steps at lr 0.1: DSH 0.021 -> 0.047 with linear
# outputs; DPSH 0.012 -> 0.059 with eta 0.002 (0.060 linear). The three pairwise losses see
# same-person pairs only in identity-balanced batches (16 people x 4 photos; 3.45% of LFW's
# random-batch pairs, 0.99% of Pins'): HashNet 0.054 -> 0.219 on LFW val (sampler grid).
METHOD_DEFAULTS = {
    "dsh": {"sampler": "pk4", "method_kwargs": {"outputs": "linear"}},
    "dpsh": {"sampler": "pk4", "method_kwargs": {"outputs": "linear", "eta": 0.002}},
    "hashnet": {"sampler": "pk4"},
}


def method_defaults(method: str) -> dict:
    """The TrainConfig fields a config of `method` starts from (copies)."""
    return {k: (dict(v) if isinstance(v, dict) else v) for k, v in METHOD_DEFAULTS.get(method, {}).items()}


def at_budget_name(dataset: str) -> str:
    """The name a choice at the result budget is stored under (`<method>-<dataset>-at-budget.json`)."""
    return f"{dataset}-at-budget"


# A search-space key `method_kwargs.<name>` is one of the method's own kwargs (a loss weight).
OWN = "method_kwargs."


def as_fields(values: dict, method_kwargs: dict | None = None) -> dict:
    """Search-space values as TrainConfig fields: `method_kwargs.<name>` keys merge into
    `method_kwargs` (the method's own kwargs it starts from)."""
    top = {k: v for k, v in values.items() if not k.startswith(OWN)}
    own = {k[len(OWN):]: v for k, v in values.items() if k.startswith(OWN)}
    return top | ({"method_kwargs": {**(method_kwargs or {}), **own}} if own else {})


def value_of(config: TrainConfig, key: str):
    """A search-space key's value in `config`."""
    return config.method_kwargs.get(key[len(OWN):]) if key.startswith(OWN) else getattr(config, key)


def candidates(method: str, dataset: str, p: Profile, space: dict | None = None) -> list[TrainConfig]:
    """Every combination of `space` (default: the method's in `p.search`), one validation run
    each: longest code, first seed, the profile's epochs."""
    space = p.search[method] if space is None else space
    kw = method_defaults(method)
    base = TrainConfig(dataset=dataset, epochs=p.epochs.get(dataset, 20), threads=p.threads,
                       bits=p.longest, seed=p.seeds[0], eval_split="val",
                       **kw, **({} if method == "dmh" else {"method": method}))
    return [replace(base, **as_fields(dict(zip(space, values)), kw.get("method_kwargs")))
            for values in itertools.product(*space.values())]


def choose(method: str, dataset: str, p: Profile) -> dict:
    """Pick `method`'s hyperparameters from its validation records; write and return the choice."""
    space, store = p.search[method], p.store
    rows = [{**{k: value_of(c, k) for k in space},
             "val_map_all": store.load_run(c, f"dmh grid tune-{dataset}").metrics["map_all"],
             "run": c.name()} for c in candidates(method, dataset, p)]
    best = max(rows, key=lambda r: r["val_map_all"])  # first of equals wins
    out = {"dataset": dataset,
           "criterion": f"validation mAP@all (expected over ties), {p.longest} bits, seed {p.seeds[0]}",
           "chosen": {k: best[k] for k in space}, "candidates": rows}
    write_json(store.chosen_path(method, dataset), out)
    return out


def hyperparameters(method: str, dataset: str, p: Profile, budget: bool = False) -> dict:
    """The validation choice of `method` (empty for a method without a search space); with
    `budget`, its choice at the result budget where one was made (`budget_choice`)."""
    if method not in p.search:
        return {}
    if budget and (at := p.store.chosen_path(method, at_budget_name(dataset))).exists():
        return p.store.load_json(at, f"dmh grid rechoose-{dataset}")["chosen"]
    path = p.store.chosen_path(method, dataset)
    if not path.exists():
        raise MissingRecord(f"{path} missing: run `dmh grid tune-{dataset}` (hyperparameters "
                            f"come from validation only)")
    return p.store.load_json(path, f"dmh grid tune-{dataset}")["chosen"]
