"""Checkpoints: written atomically after every epoch, read back as weights only (a checkpoint
holds tensors, numbers, strings, lists and dicts, so loading one never runs code)."""
from __future__ import annotations

from pathlib import Path

import torch

from ..core.atomic import atomic_write
from ..core.config import TrainConfig
from ..methods import create_method
from .encode import Normalizer
from .store import checkpoint_path


def save_checkpoint(path: Path, state: dict) -> None:
    atomic_write(path, lambda f: torch.save(state, f), mode="wb")


def read_checkpoint(path: Path, device: str = "cpu") -> dict:
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except Exception as e:  # torch raises several types for a damaged or foreign file
        raise ValueError(f"{path}: not a readable dmh checkpoint ({type(e).__name__}); delete it "
                         f"and retrain the run") from None


def find_checkpoint(run: str) -> Path:
    """A checkpoint path, or the checkpoint of a run name under the runs folder."""
    path = Path(run)
    if path.is_file():
        return path
    from ..core.paths import runs_root

    path = runs_root() / run / "checkpoint.pt"
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {run} or {path}: train the run with "
                                f"`dmh train` (or its grid with `dmh grid`)")
    return path


def load_trained(run: str, device: str = "cpu"):
    """(model, normalizer, config, state) of a run name or a checkpoint path."""
    state = read_checkpoint(find_checkpoint(run), device)
    cfg = TrainConfig.from_dict(state["config"])
    model, _ = create_method(cfg, n_classes=len(state["classes"]))
    model.load_state_dict(state["model"])
    model.to(device).eval()
    return model, Normalizer(**state["normalizer"]), cfg


def has_checkpoint(cfg: TrainConfig) -> bool:
    return checkpoint_path(cfg).is_file()
