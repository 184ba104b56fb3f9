import os
from pathlib import Path

import pytest

from dmh.paths import data_root


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
