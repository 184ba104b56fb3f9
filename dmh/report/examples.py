"""Retrieval examples as the chapters show them: the stored examples record of a run
(`dmh.run.examples`, read instead of the weights), its marks, and the faces it names."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.config import TrainConfig
from ..experiments.profiles import Profile
from ..run.examples import PAIRS, read_examples
from ..run.store import MissingRecord
from .reading import grid_command


def marks(ex: dict) -> np.ndarray:
    """Each retrieved item of an examples record: `same person`, `other query person` or
    `distractor` (a gallery person never queried, e.g. open-lfw's single-image people)."""
    same, queried = np.array(ex["top_correct"], bool), np.array(ex["top_queried"], bool)
    return np.where(same, "same person", np.where(queried, "other query person", "distractor"))


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


__all__ = ["crops_by_key", "marks", "spread_frame", "stored_examples"]
