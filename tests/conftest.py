import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from dmh.core.paths import data_root


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    """Tests that build small datasets cache them in a throw-away folder; the real data
    sets keep the user's cache so CI does not decode them per test."""
    if "DMH_CACHE" not in os.environ:
        monkeypatch.setenv("DMH_CACHE", str(Path.home() / ".cache" / "dmh"))


def real_data_or_skip(name: str) -> Path:
    sub = {"lfw": "lfw/lfw", "pins": "pins"}[name]
    root = data_root() / sub
    if not root.is_dir():
        pytest.skip(f"{name} not found under DMH_DATA={data_root()} (see data/README.md)")
    return root


# A DMH trunk small enough to train in a second.
TINY = {"stem_channels": 8, "growth_rate": 4, "block_layers": [1, 1, 1]}


def write_easy_pickle(path: Path, n_ids: int = 8, per_id: int = 16) -> str:
    """A DDH-format pickle of `n_ids` identities: a class colour plus pixel noise."""
    rng = np.random.default_rng(0)
    protos = np.repeat(rng.integers(30, 226, size=(n_ids, 3)), 32 * 32, axis=1)
    y = np.repeat(np.arange(n_ids), per_id)
    x = np.clip(protos[y] + rng.normal(0, 40, size=(len(y), protos.shape[1])), 0, 255).astype(np.uint8)
    path.write_bytes(pickle.dumps((x, y), protocol=2))
    return str(path)


@pytest.fixture
def easy_pickle(tmp_path, monkeypatch):
    """8 identities x 16 images, with the cache and checkpoints in the test's folder."""
    monkeypatch.setenv("DMH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("DMH_RUNS", str(tmp_path / "runs"))
    return write_easy_pickle(tmp_path / "easy.pkl")
