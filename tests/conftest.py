import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from dmh.core.config import TrainConfig
from dmh.core.paths import data_root
from dmh.run.records import RunRecord


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    """Tests that build small datasets cache them in a throw-away folder; the real data
    sets keep the user's cache so CI does not decode them per test."""
    if "DMH_CACHE" not in os.environ:
        monkeypatch.setenv("DMH_CACHE", str(Path.home() / ".cache" / "dmh"))


@pytest.fixture
def one_torch_thread():
    """The cores are shared with training runs: multi-threaded tiny ops only wait on each other."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def real_data_or_skip(name: str) -> Path:
    sub = {"lfw": "lfw/lfw", "pins": "pins"}[name]
    root = data_root() / sub
    if not root.is_dir():
        pytest.skip(f"{name} not found under DMH_DATA={data_root()} (see data/README.md)")
    return root


# A DMH trunk small enough to train in a second.
TINY = {"stem_channels": 8, "growth_rate": 4, "block_layers": [1, 1, 1]}


def run_record(cfg: TrainConfig | None = None, **fields) -> RunRecord:
    """A RunRecord of `cfg` (default: dataset `d`) with placeholder provenance, a 360-image
    training set and no metrics; `fields` replace any of them."""
    cfg = cfg or TrainConfig(dataset="d")
    base = dict(name=cfg.name(), config=cfg, config_key=cfg.key(), git_commit="test", python="3",
                versions={}, hardware={"cpu": "Some CPU", "device": "cpu", "torch_threads": 1},
                split={"dataset": cfg.dataset, "n_train": 360}, n_parameters=7, epochs=cfg.epochs,
                train_s=0.0, data_load_s=0.0, eval_s=0.0, history=[], metrics={}, checkpoint="")
    return RunRecord(**(base | fields))


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


def pytest_collection_finish(session):
    """nbval runs the chapter notebooks (notebooks/*.ipynb) with their quick defaults, and
    chapters only read records: the runner makes the grids they read first (cached between
    runs in runs/quick-results/). A hook here, not in notebooks/, because tests import this
    module as `conftest`."""
    if not any(item.path.suffix == ".ipynb" for item in session.items):
        return
    from dmh.book import chapter_stems
    from dmh.experiments.runner import run_grids
    from dmh.report.reading import chapter_grids

    names = chapter_grids(chapter_stems(), "quick")
    # channels_last: 1.3-1.5x faster CPU convolutions (benchmarks/bench_train.py); the quick
    # numbers differ in rounding only, and nbval ignores the cells that print them. Set for
    # the grid's workers alone: unit tests train in the default layout.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DMH_CHANNELS_LAST", "1")
        run_grids(names, "quick", workers=2, log=lambda s: print(f"quick grids: {s}", flush=True))
