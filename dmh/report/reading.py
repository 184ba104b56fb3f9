"""What chapters read: the records of named grids of a profile, and the grids each chapter
needs (`dmh book` runs those first)."""
from __future__ import annotations

import pandas as pd

from ..experiments.grids import parse
from ..experiments.open_protocols import open_protocols
from ..experiments.profiles import Profile, get_profile
from ..experiments.shallow_specs import shallow_specs
from ..run.records import RunRecord, ShallowRecord
from ..run.store import MissingRecord, paper_store

# Grids each chapter reads, `{ds}` for every dataset of the profile, `{first}`/`{last}` for
# its first/last; grids that need dlib (`anchor-`, `input-`, `ceiling-`) only where the
# profile shows them (`Profile.anchors`), and only grids that train on the profile's own
# datasets (the quick profile, LFW alone, has no cross-lfw: it trains on Pins).
CHAPTER_GRIDS = {
    "intro": ["comparison-{ds}", "tune-{ds}", "shallow-{ds}", "ablation-{ds}", "floors",
              "budget-{ds}", "trials-{ds}", "trunk-{ds}", "pairlr-{ds}", "sampler-{ds}", "open-{ds}", "cross-{ds}",
              "anchor-{ds}", "ceiling-{ds}"],
    "data": ["floors"],
    "main_results": ["floors", "main-{ds}", "budget-{ds}"],
    "ablation_dense": ["ablation-{ds}"],
    "ablation_head": ["ablation-{ds}"],
    "ablation_losses": ["ablation-{ds}", "tune-{ds}", "sensitivity-{ds}"],
    "retrieval_examples": ["examples-{last}"],
    "comparison": ["comparison-{ds}", "tune-{ds}", "shallow-{ds}", "search-{ds}"],
    "recipe": ["floors", "main-{ds}", "budget-{ds}", "trials-{ds}", "gap-{ds}", "trunk-{ds}",
               "pairlr-{ds}", "sampler-{ds}", "batchk-{ds}", "dpshpairs-{ds}", "published-{ds}", "input-{ds}",
               "ladder-{ds}", "search-{ds}", "precision-{ds}", "centersampler-{ds}", "anchor-{ds}", "ceiling-{ds}"],
    "scale": [],
    "unseen": ["floors", "open-{ds}", "cross-{ds}", "anchor-{ds}", "input-{ds}",
               "openexamples-{first}"],
}


def _trains_on_own(name: str, p: Profile) -> bool:
    grid, ds = parse(name, p)
    return set(grid.trains_on(ds)) <= set(p.datasets)


def chapter_grids(stems: list[str], profile: str | Profile) -> list[str]:
    """The grid names the chapters `stems` read, in order, without repeats."""
    p = get_profile(profile)
    out = []
    for stem in stems:
        for pattern in CHAPTER_GRIDS.get(stem, []):
            if pattern.startswith(("anchor-", "input-", "ceiling-")) and not p.anchors:
                continue
            if "{ds}" in pattern:
                out += [n for n in (pattern.format(ds=ds) for ds in p.datasets) if _trains_on_own(n, p)]
            else:
                out.append(pattern.format(first=p.datasets[0], last=p.datasets[-1]))
    return list(dict.fromkeys(out))


def book_grids(stems: list[str], profile: str | Profile) -> list[str]:
    """The grids `dmh book` runs before executing the chapters `stems`: all they read for a
    profile whose records live in runs/ (quick), none for one whose records are committed
    (paper, plateau): its chapters read the committed records (the retrieval examples too),
    and a grid still landing shows what landed (`dmh grid NAME` trains the rest)."""
    p = get_profile(profile)
    return [] if p.store.committed else chapter_grids(stems, p)


def landed_records(kind: str, profile: str | Profile) -> list[RunRecord]:
    """Stored records of grid `<kind>-<ds>` for every dataset of the profile, in grid order
    (a grid still running shows what landed)."""
    p = get_profile(profile)
    return [p.store.load_run(c) for ds in p.datasets for c in split_stored(f"{kind}-{ds}", p)[0]]


def grid_command(name: str, p: Profile) -> str:
    return f"dmh grid {name}" + ("" if p.name == "paper" else f" --profile {p.name}")


def records(name: str, profile: str | Profile, configs=None) -> list[RunRecord]:
    """Stored records of grid `name` (or of `configs`, which that grid makes)."""
    p = get_profile(profile)
    grid, ds = parse(name, p)
    cmd = grid_command(name, p)
    try:
        items = configs if configs is not None else grid.items(ds, p)
    except MissingRecord as e:  # the validation choice the configs need
        raise MissingRecord(f"{e}; or `{cmd}`, which makes it") from None
    return [p.store.load_run(c, cmd) for c in items]


def split_stored(name: str, profile: str | Profile) -> tuple[list, list]:
    """(configs stored, configs not trained yet) of grid `name`, in the grid's order: a
    chapter on a grid still running shows what landed."""
    p = get_profile(profile)
    grid, ds = parse(name, p)
    configs = grid.items(ds, p)
    stored = [p.store.has_run(c) for c in configs]
    return ([c for c, s in zip(configs, stored) if s], [c for c, s in zip(configs, stored) if not s])


def dataset_records(kind: str, profile: str | Profile) -> list[RunRecord]:
    """Records of grid `<kind>-<ds>` for every dataset of the profile."""
    p = get_profile(profile)
    return [r for ds in p.datasets for r in records(f"{kind}-{ds}", p)]


def shallow_records(profile: str | Profile) -> list[ShallowRecord]:
    p = get_profile(profile)
    return [p.store.load_shallow(s.name(), grid_command(f"shallow-{ds}", p))
            for ds in p.datasets for s in shallow_specs(ds, p)]


def floors_frame(profile: str | Profile, protocols: bool = False) -> pd.DataFrame:
    """The untrained floors of the profile (`dmh grid floors`), one row per dataset, method
    and code length: the closed protocol of each dataset, or (`protocols`) the profile's open
    and cross protocols (`open_protocols`; a floors file may hold more)."""
    p = get_profile(profile)
    df = pd.DataFrame(p.store.load_json(p.store.floors_path, grid_command("floors", p))["rows"])
    is_open = df.dataset.str.startswith(("open-", "cross-"))
    return df[df.dataset.isin(open_protocols(p)) if protocols else ~is_open].reset_index(drop=True)


def bench_rows() -> list[dict]:
    """This machine's committed CPU throughput table (`benchmarks/bench_train.py --json`)."""
    store = paper_store()
    path = store.bench_path
    return store.load_json(path, f"python benchmarks/bench_train.py --json {path}")["rows"]
