"""The runner: the only code that trains. It runs named grids (cached by config, so an
interrupted grid resumes and grids that share runs train them once), the validation
choices they depend on first, deep runs in a pool of single-thread workers."""
from __future__ import annotations

import os
import time
from contextlib import nullcontext
from functools import partial
from itertools import zip_longest

from ..core.atomic import write_json
from ..core.config import TrainConfig
from ..core.paths import pin_git_commit
from ..core.provenance import NATIVE_BF16_FLAGS, git_commit, slow_bf16
from ..run.examples import examples_record
from ..run.store import Store
from .anchor_jobs import anchor_run
from .budget_choice import choose_at_budget, rechoose_configs
from .configs import tune_configs
from .precision_twins import own_runs
from .grids import GRIDS, parse
from .jobs import ensure_checkpoint, floors, stack_groups, train_many, train_run
from .open_protocols import open_protocols
from .profiles import Profile, get_profile
from .shallow_jobs import shallow_run
from .tuning import choose
from .worker_pool import worker_pool


def _train_group(group: list[TrainConfig], store: Store, device: str) -> list:
    if len(group) == 1:  # alone: exactly `fit`'s run
        return [train_run(group[0], store, progress=False, device=device, other_threads="restart")]
    return train_many(group, store, device=device)


def bf16_warning(configs: list[TrainConfig], device: str) -> str | None:
    """A line for runs under bfloat16 autocast on a CPU without native bfloat16, where they
    crawl (the profile's speed and `--estimate`'s rates assume it); None otherwise."""
    n = sum(c.precision == "bf16" for c in configs)
    if not n or not slow_bf16(device):
        return None
    return (f"warning: {n} of these runs train under bfloat16 autocast, and this CPU has no native "
            f"bfloat16 (none of {', '.join(sorted(NATIVE_BF16_FLAGS))} in /proc/cpuinfo): they train "
            f"several times slower here than in float32; a CPU with AVX-512 BF16 or AMX, or a GPU "
            f"(--device cuda), trains them at the profile's speed")


def train_pool(configs: list[TrainConfig], store: Store, *, workers: int = 2,
               device: str = "cpu", stack: int = 1, log=print) -> None:
    """Train every config not stored yet, `workers` processes at a time; with `stack` > 1,
    runs that differ only in seed, lr or loss weights train up to `stack` at a time as one model."""
    unique = {c.name(): c for c in configs}
    todo = [c for c in unique.values() if not store.has_run(c)]
    log(f"{len(unique)} runs, {len(unique) - len(todo)} cached, {len(todo)} to train"
        + (f" (stacked up to {stack} a model)" if stack > 1 and todo else ""))
    if not todo:
        return
    if warning := bf16_warning(todo, device):
        log(warning)
    groups = stack_groups(todo, max(1, stack))
    run = partial(_train_group, store=store, device=device)
    pool = worker_pool(workers) if workers > 1 else None
    with pool or nullcontext():
        for group, recs in zip(groups, pool.map(run, groups) if pool else map(run, groups)):
            for c, rec in zip(group, recs):
                log(f"done {c.name()}: mAP@all {rec.metrics['map_all']:.4f} in {rec.train_s} s"
                    + (f" ({len(group)} stacked)" if len(group) > 1 else ""))


def _choose_all(ds: str, p: Profile, workers: int, device: str, stack: int, log) -> None:
    train_pool(tune_configs(ds, p), p.store, workers=workers, device=device, stack=stack, log=log)
    for method in p.search:
        out = choose(method, ds, p)
        log(f"chose for {method} on {ds}: {out['chosen']}")


def _rechoose(ds: str, p: Profile, workers: int, device: str, stack: int, log) -> None:
    """Train what `budget_choice`'s rule needs until it needs nothing more (its first round
    decides which methods it re-chooses), then write those choices. It reads a twin standing
    in where one landed (`precision_twins`): a choice is a decision, not a verdict."""
    while todo := [c for c in rechoose_configs(ds, p) if not p.store.has_run(c)]:
        train_pool(todo, p.store, workers=workers, device=device, stack=stack, log=log)
    for method in p.search:
        if out := choose_at_budget(method, ds, p):
            log(f"chose for {method} on {ds} at the budget: {out['chosen']} (at 1x: {out['chosen_at_1x']})")


def run_grids(names: list[str], profile: str | Profile = "paper", *, workers: int = 2,
              device: str = "cpu", stack: int = 1, only: tuple[str, ...] = (), log=print) -> None:
    """Run the named grids of a profile in order: the validation choices they need, then all
    deep runs in one pool, then examples (with the weights they read), shallow fits and floors.
    With `only` (run-name prefixes), just the deep runs and examples so named: the same
    records, the grids' other runs left for later. Each cell trains its own run, in the
    profile's precision, where a twin in the other precision stands in (`precision_twins`)."""
    p = get_profile(profile)
    only = tuple(only)
    keep = lambda cs: [c for c in cs if not only or c.name().startswith(only)]  # noqa: E731
    pin_git_commit(git_commit())  # the code the workers load now, whatever HEAD is later
    # never more torch threads than cores: oversubscribed OpenMP threads spin and crawl
    workers = max(1, min(workers, (os.cpu_count() or 1) // p.threads))
    parsed = [(n, *parse(n, p)) for n in names]
    for ds in dict.fromkeys(t for _, g, ds in parsed if g.chosen or g is GRIDS["tune"]
                            for t in ((ds,) if g is GRIDS["tune"] else g.trains_on(ds))):
        _choose_all(ds, p, workers, device, stack, log)
    for ds in dict.fromkeys(ds for _, g, ds in parsed if g is GRIDS["rechoose"]):
        _rechoose(ds, p, workers, device, stack, log)  # before the configs that read its choices
    # the runs each grid names, listed once, after the choices they read
    own = own_runs(p)
    items = {n: g.items(ds, own) for n, g, ds in parsed if g.job in ("deep", "examples")}
    if only:
        _check_only(items, p, only)
    # several grids interleave run by run, so that each grid's first (headline) cells land
    # before any grid's last ones
    lists = [items[n] for n, g, _ in parsed if g.job == "deep" and g is not GRIDS["rechoose"]]
    deep = keep([c for row in zip_longest(*lists) for c in row if c is not None])
    train_pool(deep, p.store, workers=workers, device=device, stack=stack, log=log)
    for name, g, ds in parsed:
        t = time.perf_counter()
        if only and g.job not in ("deep", "examples"):
            continue
        if g.job == "examples":
            for c in keep(items[name]):
                path = p.store.examples_path(c.name())
                cached = path.exists()
                if not cached:  # the record (trained if missing), then its finished weights
                    train_pool([c], p.store, workers=1, device=device, log=log)
                    ensure_checkpoint(c, p.store, device)
                    write_json(path, examples_record(c))
                log(f"examples of {c.name()}: {path}{' (cached)' if cached else ''}")
        elif g.job == "shallow":
            n, new = _make_each(g.items(ds, own), p.store.shallow_path, partial(shallow_run, store=p.store),
                                workers)
            log(f"{name}: {n} shallow records, {n - new} cached, {new} fitted "
                f"({time.perf_counter() - t:.1f} s)")
        elif g.job == "anchor":
            n, new = _make_each(g.items(ds, p), p.store.anchor_path, lambda s: anchor_run(s, p, p.store))
            log(f"{name}: {n} anchor records, {n - new} cached, {new} made "
                f"({time.perf_counter() - t:.1f} s)")
        elif g.job == "floors":
            _floors(p, log)


def _check_only(items: dict[str, list], p: Profile, only: tuple[str, ...]) -> None:
    """Every prefix names at least one run of the grids, `items` (grid name: its configs): a
    typo trains nothing, said so."""
    runs = [c.name() for cs in items.values() for c in cs]
    if unknown := [x for x in only if not any(r.startswith(x) for r in runs)]:
        raise ValueError(f"--only {' '.join(unknown)}: no run of {' '.join(items)} ({p.name}) is named "
                         f"so; run names look like {runs[0] if runs else 'dmh-lfw-48b-s0-test-<key>'}")


def _make_each(specs, path_of, make, workers: int = 1) -> tuple[int, int]:
    """`make` every spec (each reuses its stored record), those not stored in a pool of
    `workers` processes (`make` picklable); (specs, how many were not stored)."""
    todo = [s for s in specs if not path_of(s.name()).exists()]
    pooled = todo if workers > 1 and len(todo) > 1 else []
    if pooled:
        with worker_pool(workers) as pool:
            list(pool.map(make, pooled))
    for s in specs:  # the rest here: each stored one is read (a stale config fitted again)
        if s not in pooled:
            make(s)
    return len(specs), len(todo)


def _floors(p: Profile, log) -> None:
    path = p.store.floors_path
    if path.exists():
        rows = p.store.load_json(path, "dmh grid floors")["rows"]
        need = {(d, k) for d in p.datasets for k in p.bits} | {(pr, p.longest) for pr in open_protocols(p)}
        if {(r["dataset"], r["bits"]) for r in rows} >= need:
            log(f"floors: cached in {path}")
            return
    write_json(path, floors(p.datasets, p.bits, protocols=open_protocols(p)))
    log(f"floors: wrote {path}")
