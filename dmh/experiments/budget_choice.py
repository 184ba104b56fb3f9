"""Choices at the result budget: hyperparameters chosen at the 1x budget may not carry over
to 16x the epochs (issue 10: DPSH's and HashNet's test mAP fell there). One rule for every
method with a search space: its 1x choice trains at the result budget on validation; where
that scores below the 1x choice's own validation run, the `TOP` best candidates of its 1x
search train at the budget on validation and the best there becomes its choice at the budget
(`chosen-<profile>/<method>-<ds>-at-budget.json`), which every config at the budget reads
(`method_config(..., budget=True)`). Grid `rechoose-<ds>` trains them; the runner chooses."""
from __future__ import annotations

from ..core.atomic import write_json
from ..core.config import TrainConfig
from .configs import at_budget, method_config
from .profiles import Profile
from .tuning import at_budget_name, candidates

TOP = 3  # a third of a 9-trial search: the trials a budget re-choice retrains


def first_at_budget(method: str, dataset: str, p: Profile) -> TrainConfig:
    """`method`'s 1x choice as the result runs train, on validation (the plateau grid's run)."""
    return at_budget(method_config(method, dataset, p, bits=p.longest, eval_split="val"), p)


def got_worse(method: str, dataset: str, p: Profile) -> bool | None:
    """Whether the 1x choice scores lower on validation at the result budget than at 1x
    (None until its run at the budget has landed)."""
    c = first_at_budget(method, dataset, p)
    if not p.store.has_run(c):
        return None
    one_x = method_config(method, dataset, p, bits=p.longest, eval_split="val")
    return p.store.load_run(c).metrics["map_all"] < p.store.load_run(one_x).metrics["map_all"]


def top_1x(method: str, dataset: str, p: Profile) -> tuple[dict, list[dict]]:
    """(`method`'s 1x choice, the `TOP` best rows of its 1x search, best first; the first of
    equals on a tie, as `tuning.choose`)."""
    out = p.store.load_json(p.store.chosen_path(method, dataset), f"dmh grid tune-{dataset}")
    return out["chosen"], sorted(out["candidates"], key=lambda r: -r["val_map_all"])[:TOP]


def budget_candidates(method: str, dataset: str, p: Profile) -> list[TrainConfig]:
    """The `TOP` best of `method`'s 1x validation candidates, as the result runs train, on
    validation (best at 1x first)."""
    by_name = {c.name(): c for c in candidates(method, dataset, p)}
    return [at_budget(by_name[r["run"]], p) for r in top_1x(method, dataset, p)[1]]


def rechoose_configs(dataset: str, p: Profile) -> list[TrainConfig]:
    """The runs the rule needs now: first the candidates of every method whose 1x choice got
    worse at the budget, then the runs at the budget not landed yet that decide whether it did."""
    worse, undecided = [], []
    for m in p.search:
        w = got_worse(m, dataset, p)
        if w:
            worse += budget_candidates(m, dataset, p)
        elif w is None:
            undecided.append(first_at_budget(m, dataset, p))
    return worse + undecided


def trials_at_budget(method: str, dataset: str, p: Profile) -> tuple[bool | None, list[tuple]]:
    """(`got_worse`, the rule's trials at the budget: (config, its 1x search row, its validation
    mAP there or None until landed)): the 1x choice alone unless it got worse, else `TOP`."""
    worse = got_worse(method, dataset, p)
    cs = budget_candidates(method, dataset, p) if worse else [first_at_budget(method, dataset, p)]
    return worse, [(c, r, p.store.load_run(c).metrics["map_all"] if p.store.has_run(c) else None)
                   for c, r in zip(cs, top_1x(method, dataset, p)[1])]


def winner(scores: list[float | None]) -> int | None:
    """The index of the best score, the first of equals (the 1x order); None while any is missing."""
    return None if None in scores else max(range(len(scores)), key=lambda i: scores[i])


def choose_at_budget(method: str, dataset: str, p: Profile) -> dict | None:
    """Write and return `method`'s choice at the budget once its candidates there have landed
    (None where the rule does not re-choose it, or not yet)."""
    worse, trials = trials_at_budget(method, dataset, p)
    if not worse or (best := winner([t[2] for t in trials])) is None:
        return None
    space = p.search[method]
    rows = [{**{k: r[k] for k in space}, "val_map_all_1x": r["val_map_all"], "val_map_all": at,
             "run": c.name(), "epochs": c.epochs} for c, r, at in trials]
    out = {"dataset": dataset, "criterion": f"validation mAP@all (expected over ties), {p.longest} "
           f"bits, seed {p.seeds[0]}, at {trials[0][0].epochs} epochs",
           "chosen_at_1x": top_1x(method, dataset, p)[0],
           "chosen": {k: rows[best][k] for k in space}, "candidates": rows}
    write_json(p.store.chosen_path(method, at_budget_name(dataset)), out)
    return out
