"""Retrieval examples: a trained run's codes (read from its checkpoint) and top-k lists; and
the stored examples record of a run (`dmh.run.examples`), which the examples chapter reads
instead of the weights."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.config import TrainConfig
from ..experiments.profiles import Profile, get_profile
from ..run.checkpoint import load_trained
from ..run.encode import encode
from ..run.examples import PAIRS, read_examples, top_k_lists
from ..run.fit import protocol_parts
from ..run.store import MissingRecord, checkpoint_path
from .reading import grid_command


def trained_codes(cfg: TrainConfig, profile, grid: str) -> dict:
    """Codes of the test queries and gallery of a trained run (its checkpoint: `dmh grid`)."""
    if not checkpoint_path(cfg).is_file():
        raise MissingRecord(f"no weights for {cfg.name()}: run `{grid_command(grid, get_profile(profile))}`")
    model, norm, cfg = load_trained(str(checkpoint_path(cfg)))
    _, query, gallery, _ = protocol_parts(cfg)
    return {"query": query, "gallery": gallery,
            "qcodes": encode(model, query.images, norm).codes,
            "gcodes": encode(model, gallery.images, norm).codes}


def top_k_examples(c: dict, n_queries: int = 6, k: int = 10, seed: int = 0) -> dict:
    """Top-k gallery items of `n_queries` seeded random queries (one per identity)."""
    return top_k_lists(c["qcodes"], c["gcodes"], c["query"].labels, c["gallery"].labels, n_queries, k, seed)


def spread_frame(counts: dict[str, list[int]]) -> pd.DataFrame:
    """Share of each kind of pair at each Hamming distance, from counts per distance."""
    return pd.DataFrame([{"pair": name, "distance": d, "share": n / max(1, sum(counts[name]))}
                         for name in PAIRS for d, n in enumerate(counts[name])])


def stored_examples(cfg: TrainConfig, p: Profile, grid: str) -> dict:
    """The examples record of run `cfg` in the profile's store; a missing one names the
    command that makes it."""
    path = p.store.examples_path(cfg.name())
    if not path.is_file():
        raise MissingRecord(f"no retrieval examples of {cfg.name()} ({path}): run `{grid_command(grid, p)}`")
    return read_examples(path)


def crops_by_key(dataset: str, keys: list[str]) -> np.ndarray:
    """The dataset's own 32x32 crops (as loaded, without alignment) of the images `keys`."""
    from ..data.datasets import load_dataset

    fs = load_dataset(dataset)
    at = {k: i for i, k in enumerate(fs.keys)}
    missing = [k for k in keys if k not in at]
    if missing:
        raise MissingRecord(f"{dataset}: {len(missing)} example images not in the data now "
                            f"(first: {missing[0]}); rerun `dmh grid examples-{dataset}` on it")
    return fs.images[[at[k] for k in keys]]


__all__ = ["crops_by_key", "spread_frame", "stored_examples", "top_k_examples",
           "trained_codes"]
