"""Training and evaluation of one run: seeded, checkpointed every epoch, resumable, and
cached by config (a finished run's record is returned instead of retraining)."""
from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from .core.atomic import atomic_write, write_json
from .augment import flip_and_shift
from .codes import encode_signs
from .core.config import TrainConfig
from .data import load_protocol
from .data.faceset import FaceSet
from .metrics import evaluate_codes, mean_average_precision_float, precision_ks
from .methods import build_method
from .core.paths import REPO_ROOT, RESULTS_DIR
from .core.provenance import provenance


def runs_dir() -> Path:
    """Checkpoints (not committed): env `DMH_RUNS`, default `<repo>/runs`."""
    return Path(os.environ.get("DMH_RUNS", REPO_ROOT / "runs"))


def result_path(cfg: TrainConfig, results_dir: Path | None = None) -> Path:
    """Where a run's record lives: `results/runs/` (committed) unless `results_dir` says."""
    return Path(results_dir or RESULTS_DIR / "runs") / f"{cfg.name()}.json"


def train_eval_parts(cfg: TrainConfig) -> tuple[FaceSet, FaceSet, FaceSet, dict]:
    """(train, query, gallery, split): `val` tunes on training images only."""
    parts, split = load_protocol(cfg.dataset, seed=cfg.split_seed, size=cfg.image_size)
    if cfg.eval_split == "val":
        return parts["val_gallery"], parts["val_query"], parts["val_gallery"], split
    return parts["gallery"], parts["query"], parts["gallery"], split


class Normalizer:
    """uint8 (B, C, S, S) -> float, standardized with the training set's channel stats."""

    def __init__(self, mean: list[float], std: list[float]) -> None:
        self.mean = torch.tensor(mean).view(1, -1, 1, 1)
        self.std = torch.tensor(std).view(1, -1, 1, 1)

    @classmethod
    def fit(cls, images: np.ndarray) -> "Normalizer":
        x = images.astype(np.float64) / 255.0
        return cls(x.mean(axis=(0, 2, 3)).tolist(), x.std(axis=(0, 2, 3)).tolist())

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return (x.float() / 255.0 - self.mean.to(x.device)) / self.std.to(x.device)

    def state(self) -> dict:
        return {"mean": self.mean.flatten().tolist(), "std": self.std.flatten().tolist()}


def cosine_lr(base: float, step: int, total: int) -> float:
    return 0.5 * base * (1.0 + math.cos(math.pi * step / max(1, total)))


@torch.no_grad()
def encode(model: torch.nn.Module, images: np.ndarray, norm: Normalizer, *, batch_size: int = 1024,
           device: str = "cpu") -> np.ndarray:
    """Real-valued hash outputs h in (-1, 1) of uint8 images, (N, K) float32."""
    model.eval()
    out = []
    for i in range(0, len(images), batch_size):
        x = norm(torch.from_numpy(images[i:i + batch_size]).to(device))
        out.append(model.forward_head(model.forward_features(x)).float().cpu())
    return torch.cat(out).numpy()


def prepare_batch(images: torch.Tensor, labels: torch.Tensor, idx: torch.Tensor, norm: Normalizer,
                  generator: torch.Generator | None, device: str = "cpu"):
    """uint8 rows `idx` -> augmented (when a generator is given), standardized batch."""
    xb = images[idx]
    if generator is not None:
        xb = flip_and_shift(xb, generator)
    return norm(xb.to(device)), labels[idx].to(device)


def sgd_step(model: torch.nn.Module, criterion: torch.nn.Module, opt: torch.optim.Optimizer,
             xb: torch.Tensor, yb: torch.Tensor):
    """One optimizer step; center-style losses then move their centers (their own rule)."""
    h, logits = model(xb)
    loss, terms = criterion(h, logits, yb)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    if hasattr(criterion, "update_centers"):
        criterion.update_centers(h.detach(), yb)
    return loss, terms


def _save_checkpoint(path: Path, state: dict) -> None:
    atomic_write(path, lambda f: torch.save(state, f), mode="wb")


def train(cfg: TrainConfig, *, resume: bool = True, force: bool = False, progress: bool = True,
          device: str = "cpu", stop_after_epochs: int | None = None, write_result: bool = True,
          results_dir: Path | None = None) -> dict:
    """Train and evaluate `cfg`; return its result record (cached by config).

    `stop_after_epochs` ends early without evaluating, as an interruption would (tests).
    """
    rpath = result_path(cfg, results_dir)
    if rpath.exists() and not force:
        return json.loads(rpath.read_text())
    torch.set_num_threads(cfg.threads)
    t_load = time.perf_counter()
    train_fs, query_fs, gallery_fs, split = train_eval_parts(cfg)
    load_s = time.perf_counter() - t_load
    classes, y_train = np.unique(train_fs.labels, return_inverse=True)
    norm = Normalizer.fit(train_fs.images)
    torch.manual_seed(cfg.seed)
    model, criterion = build_method(cfg, n_classes=len(classes))
    model.to(device)
    criterion.to(device)
    params = list(model.parameters()) + list(criterion.parameters())
    opt = torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, nesterov=True,
                          weight_decay=cfg.weight_decay)
    images = torch.from_numpy(train_fs.images)
    labels = torch.from_numpy(y_train.astype(np.int64))
    n = len(images)
    steps_per_epoch = math.ceil(n / cfg.batch_size)
    total_steps = steps_per_epoch * cfg.epochs
    ckpt = runs_dir() / cfg.name() / "checkpoint.pt"
    start_epoch, history, train_s = 0, [], 0.0
    if resume and ckpt.exists() and not force:
        state = torch.load(ckpt, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        criterion.load_state_dict(state["criterion"])
        opt.load_state_dict(state["optimizer"])
        start_epoch, history, train_s = state["epoch"], state["history"], state["train_s"]
    for epoch in range(start_epoch, cfg.epochs):
        if stop_after_epochs is not None and epoch >= stop_after_epochs:
            return {"interrupted_after_epoch": epoch}
        t0 = time.perf_counter()
        # One generator per epoch, seeded from (seed, epoch): a resumed run replays the
        # same batches and augmentations without saving RNG state.
        gen = torch.Generator().manual_seed(cfg.seed * 100_003 + epoch)
        order = torch.randperm(n, generator=gen)
        model.train()
        sums: dict[str, float] = {}
        bar = tqdm(range(steps_per_epoch), desc=f"{cfg.name()} epoch {epoch + 1}/{cfg.epochs}",
                   disable=not progress, leave=False)
        for it in bar:
            idx = order[it * cfg.batch_size:(it + 1) * cfg.batch_size]
            xb, yb = prepare_batch(images, labels, idx, norm, gen if cfg.augment else None, device)
            step = epoch * steps_per_epoch + it
            for g in opt.param_groups:
                g["lr"] = cosine_lr(cfg.lr, step, total_steps)
            for m in (model, criterion):  # methods with a schedule of their own (HashNet)
                if hasattr(m, "set_progress"):
                    m.set_progress(step / total_steps)
            loss, terms = sgd_step(model, criterion, opt, xb, yb)
            for k, v in terms.items():
                sums[k] = sums.get(k, 0.0) + float(v) * len(idx)
            sums["total"] = sums.get("total", 0.0) + float(loss.detach()) * len(idx)
        train_s += time.perf_counter() - t0
        history.append({"epoch": epoch + 1, **{k: v / n for k, v in sums.items()},
                        "seconds": round(time.perf_counter() - t0, 2)})
        _save_checkpoint(ckpt, {"model": model.state_dict(), "criterion": criterion.state_dict(),
                                "optimizer": opt.state_dict(), "epoch": epoch + 1,
                                "history": history, "train_s": train_s, "config": cfg.to_dict(),
                                "normalizer": norm.state(), "classes": classes.tolist()})
    t_eval = time.perf_counter()
    hq = encode(model, query_fs.images, norm, device=device)
    hg = encode(model, gallery_fs.images, norm, device=device)
    ks = precision_ks(len(gallery_fs))
    metrics = evaluate_codes(encode_signs(hq), encode_signs(hg), query_fs.labels, gallery_fs.labels,
                             cfg.bits, ks=ks)
    # JSON object keys are strings: store them so in memory too, so a cached record reads the same
    metrics["precision_at_k"] = {str(k): v for k, v in metrics["precision_at_k"].items()}
    metrics["map_all_float"] = mean_average_precision_float(hq, hg, query_fs.labels, gallery_fs.labels)
    record = {
        "name": cfg.name(), "config": cfg.to_dict(), "config_key": cfg.key(),
        **provenance(cfg.threads, device),
        "split": {"dataset": split["dataset"], "split_checksum": split["split_checksum"],
                  "data_checksum": split["data_checksum"], "part": cfg.eval_split,
                  "n_train": n, "n_query": len(query_fs), "n_gallery": len(gallery_fs),
                  "n_classes": int(len(classes))},
        "n_parameters": int(sum(p.numel() for p in model.parameters())),
        "epochs": cfg.epochs, "train_s": round(train_s, 1), "data_load_s": round(load_s, 2),
        "eval_s": round(time.perf_counter() - t_eval, 1),
        "history": history, "metrics": metrics,
        "checkpoint": str(ckpt.relative_to(runs_dir().parent)) if ckpt.is_relative_to(runs_dir().parent) else str(ckpt),
    }
    if write_result:
        write_json(rpath, record)
    return record


def load_trained(name_or_ckpt: str, device: str = "cpu"):
    """(model, normalizer, config) from a run name or a checkpoint path."""
    path = Path(name_or_ckpt)
    if not path.is_file():
        path = runs_dir() / name_or_ckpt / "checkpoint.pt"
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {name_or_ckpt} or {path}; train it with `dmh train`")
    state = torch.load(path, map_location=device, weights_only=False)
    cfg = TrainConfig.from_dict(state["config"])
    model, _ = build_method(cfg, n_classes=len(state["classes"]))
    model.load_state_dict(state["model"])
    model.to(device).eval()
    return model, Normalizer(**state["normalizer"]), cfg
