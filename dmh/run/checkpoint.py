"""Checkpoints: written atomically after every epoch with a sha256 beside them
(`checkpoint.pt.sha256`), verified before use and read back as weights only (a checkpoint
holds tensors, numbers, strings, lists and dicts, so loading one never runs code)."""
from __future__ import annotations

import hashlib
import io
from pathlib import Path

import torch

from ..core.atomic import atomic_write
from ..core.config import TrainConfig
from ..methods import create_method
from .encode import Normalizer
from .store import checkpoint_file, checkpoint_path


def _sha_path(path: Path) -> Path:
    return Path(f"{path}.sha256")


def save_checkpoint(path: Path, state: dict) -> None:
    buf = io.BytesIO()
    torch.save(state, buf)
    data = buf.getvalue()
    # the digest first: a checkpoint is never there without the digest that vouches for it
    atomic_write(_sha_path(path), lambda f: f.write(hashlib.sha256(data).hexdigest() + "\n"))
    atomic_write(path, lambda f: f.write(data), mode="wb")


def read_checkpoint(path: Path, device: str = "cpu") -> dict:
    """The state of a checkpoint whose sha256 matches; a one-line error naming it otherwise."""
    path = Path(path)
    fix = "delete it and retrain the run (`dmh train --force` or its `dmh grid`)"
    try:
        data = path.read_bytes()
        digest = _sha_path(path).read_text().strip()
    except OSError as e:
        raise ValueError(f"{path}: cannot read the checkpoint or its .sha256 ({e.strerror}); {fix}") from None
    if hashlib.sha256(data).hexdigest() != digest:
        raise ValueError(f"{path}: checksum mismatch (damaged or edited); {fix}")
    try:
        return torch.load(io.BytesIO(data), map_location=device, weights_only=True)
    except Exception as e:  # torch raises several types for a foreign file
        raise ValueError(f"{path}: not a dmh checkpoint ({type(e).__name__}); {fix}") from None


def find_checkpoint(run: str) -> Path:
    """A checkpoint path, or the checkpoint of a run name under the runs folder."""
    path = Path(run)
    if path.is_file():
        return path
    path = checkpoint_file(run)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {run} or {path}: train the run with "
                                f"`dmh train` (or its grid with `dmh grid`)")
    return path


def load_trained(run: str, device: str = "cpu", *, allow_partial: bool = False):
    """(model, normalizer, config) of a run name or a checkpoint path. A checkpoint of an
    unfinished run is refused unless `allow_partial`."""
    path = find_checkpoint(run)
    state = read_checkpoint(path, device)
    cfg = TrainConfig.from_dict(state["config"])
    if state["epoch"] < cfg.epochs and not allow_partial:
        raise ValueError(f"{path}: the run stopped after epoch {state['epoch']} of {cfg.epochs}; "
                         f"finish it (`dmh train` with the same settings resumes) or pass --allow-partial")
    model, _ = create_method(cfg, n_classes=len(state["classes"]))
    model.load_state_dict(state["model"])
    model.to(device).eval()
    return model, Normalizer(**state["normalizer"]), cfg


def checkpoint_state(cfg: TrainConfig) -> str:
    """`finished`, `epoch 3 of 40`, `damaged` or `none`: what `dmh runs` shows."""
    path = checkpoint_path(cfg)
    if not path.is_file():
        return "none"
    try:
        epoch = read_checkpoint(path)["epoch"]
    except ValueError:
        return "damaged"
    return "finished" if epoch >= cfg.epochs else f"epoch {epoch} of {cfg.epochs}"


def unfinished_runs(runs_root: Path, store) -> list[tuple[Path, float]]:
    """(run folder, fraction of its epochs done) of every verified checkpoint under
    `runs_root` whose run has no record in `store` (cut off in training, or trained and cut
    off while scoring), furthest along first: what a time-limited machine hands on so that
    the next one resumes instead of restarting."""
    out = []
    for path in sorted(Path(runs_root).glob("*/checkpoint.pt")):
        try:
            state = read_checkpoint(path)
            cfg = TrainConfig.from_dict(state["config"])
        except (ValueError, KeyError, TypeError):
            continue  # damaged or foreign: nothing to resume
        if not store.has_run(cfg):
            out.append((path.parent, state["epoch"] / cfg.epochs))
    return sorted(out, key=lambda t: -t[1])
