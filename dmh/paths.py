"""Where things live: the data root, the decoded-array cache and the repo's own folders.

Paths are built from this file's location, never from the working folder, so the CLI,
the tests and papermill-run notebooks agree wherever they are started.
"""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SPLITS_DIR = REPO_ROOT / "data" / "splits"
RESULTS_DIR = REPO_ROOT / "results"


def data_root() -> Path:
    """The folder holding `lfw/` and `pins/` (env `DMH_DATA`; default `../shared/datasets`)."""
    env = os.environ.get("DMH_DATA")
    if env:
        return Path(env).expanduser().resolve()
    return (REPO_ROOT.parent / "shared" / "datasets").resolve()


def cache_root() -> Path:
    """Decoded arrays live here, outside the repo (env `DMH_CACHE`; default ~/.cache/dmh)."""
    env = os.environ.get("DMH_CACHE")
    root = Path(env).expanduser() if env else Path.home() / ".cache" / "dmh"
    root.mkdir(parents=True, exist_ok=True)
    return root
