"""Where things live. The only code in dmh that reads environment variables.

| variable | what | default |
| --- | --- | --- |
| `DMH_DATA` | folder holding `lfw/` and `pins/` | `../shared/datasets` beside the repo |
| `DMH_CACHE` | decoded-array cache | `~/.cache/dmh` |
| `DMH_RUNS` | the user's runs: checkpoints, records of user commands and of non-paper profiles | `<repo>/runs` |
| `DMH_PACKS` | folder of dataset packs (`dmh pack`) to load instead of the images | unset |
| `DMH_GIT_COMMIT` | the commit to record where the copy has no `.git` (a device) | unset |
| `DMH_CHANNELS_LAST` | `1`: train in torch's channels_last memory format (`dmh grid --channels-last`) | unset |

Paths are built from this file's location, never from the working folder, so the CLI,
the tests and papermill-run notebooks agree wherever they are started.
"""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SPLITS_DIR = REPO_ROOT / "data" / "splits"
# The committed records of the paper profile: written only by the grid runner.
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


def runs_root() -> Path:
    """The user's folder (env `DMH_RUNS`, default `<repo>/runs`, never committed)."""
    env = os.environ.get("DMH_RUNS")
    return Path(env).expanduser() if env else REPO_ROOT / "runs"


def channels_last() -> bool:
    """Whether training lays tensors out channels_last (env `DMH_CHANNELS_LAST` = `1`; unset or
    `0`: torch's default): faster convolutions on the CPU, the same model and data with float
    sums in another order, so not bit-identical to a run without it (records say which)."""
    value = os.environ.get("DMH_CHANNELS_LAST", "")
    if value not in ("", "0", "1"):
        raise ValueError(f"DMH_CHANNELS_LAST={value!r}: set it to 1 (channels_last) or 0, or unset it")
    return value == "1"


def use_channels_last() -> None:
    """Train in channels_last from now on, in this process and the workers it starts."""
    os.environ["DMH_CHANNELS_LAST"] = "1"


def packs_root() -> Path | None:
    """The folder of dataset packs (env `DMH_PACKS`), or None when unset."""
    env = os.environ.get("DMH_PACKS")
    return Path(env).expanduser() if env else None


def git_commit_override() -> str | None:
    """`DMH_GIT_COMMIT`: the commit to record on a copy of the repo without `.git`."""
    return os.environ.get("DMH_GIT_COMMIT") or None


def pin_git_commit(commit: str) -> None:
    """Set `DMH_GIT_COMMIT` for this process and the workers it starts (unless already set):
    a grid's records name the commit its workers loaded, not whatever HEAD is when each lands."""
    if not os.environ.get("DMH_GIT_COMMIT"):
        os.environ["DMH_GIT_COMMIT"] = commit
