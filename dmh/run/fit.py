"""The training loop: seeded, checkpointed every epoch and resumable to the same weights."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
from tqdm import tqdm

from ..augment import flip_and_shift
from ..core.config import TrainConfig
from ..core.paths import channels_last
from ..data import load_protocol
from ..data.faceset import FaceSet
from ..methods import create_method
from .checkpoint import read_checkpoint, save_checkpoint
from .batches import epoch_batches
from .encode import Normalizer
from .store import checkpoint_path


def protocol_parts(cfg: TrainConfig) -> tuple[FaceSet, FaceSet, FaceSet, dict]:
    """(train, query, gallery, split): `val` tunes on training images only; an open or cross
    protocol trains on its people and retrieves among others; every part in the config's
    face crop (the closed protocol loads it, an open one swaps it in: `with_face_crop`)."""
    train, query, gallery, split = _parts(cfg)
    if cfg.protocol == "closed":
        return train, query, gallery, split
    return (*with_face_crop(cfg.face_crop, train, query, gallery), split)


def with_face_crop(face_crop: str, *parts: FaceSet) -> tuple[FaceSet, ...]:
    """The parts in `face_crop`: `box` as loaded, `aligned` with every image swapped for its
    dlib-aligned crop, `tight` for a tighter cut of it (same images, same split)."""
    if face_crop == "aligned":
        from ..data.dlib_faces import with_aligned_faces

        return with_aligned_faces(*parts)
    if face_crop == "tight":
        from ..data.datasets import with_tighter_crops

        return with_tighter_crops(*parts)
    return parts


def _parts(cfg: TrainConfig) -> tuple[FaceSet, FaceSet, FaceSet, dict]:
    if cfg.protocol != "closed":
        from ..data.open_splits import load_open_protocol

        parts, split = load_open_protocol(cfg.protocol, size=cfg.image_size, seed=cfg.split_seed)
        record = {"dataset": cfg.protocol, "split_checksum": split["split_checksum"],
                  "data_checksum": split["views"]["gallery"]["data_checksum"]}
        return parts["train"], parts["query"], parts["gallery"], record
    parts, split = load_protocol(cfg.dataset, seed=cfg.split_seed, size=cfg.image_size,
                                 face_crop=cfg.face_crop)
    if cfg.data_checksum and cfg.data_checksum != split["data_checksum"]:
        raise ValueError(f"{cfg.dataset}: its images changed since run {cfg.name()} was configured "
                         f"(content {split['data_checksum'][:12]}, not {cfg.data_checksum[:12]}); "
                         f"`dmh train` again makes the run of the new content")
    if cfg.eval_split == "val":
        return parts["val_gallery"], parts["val_query"], parts["val_gallery"], split
    return parts["gallery"], parts["query"], parts["gallery"], split


def cosine_lr(base: float, step: int, total: int, warmup: int = 0) -> float:
    """The lr at `step` of `total`: linear from 0 over `warmup` steps, then a cosine decay
    from `base` over the rest."""
    if step < warmup:
        return base * step / warmup
    return 0.5 * base * (1.0 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))


def make_optimizer(cfg: TrainConfig, params: list) -> torch.optim.Optimizer:
    """SGD with Nesterov momentum (the shared recipe), or Adam / AMSGrad (published recipes)."""
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, nesterov=True,
                               weight_decay=cfg.weight_decay)
    return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay,
                            amsgrad=cfg.optimizer == "amsgrad")


def prepare_batch(images: torch.Tensor, labels: torch.Tensor, idx: torch.Tensor, norm: Normalizer,
                  generator: torch.Generator | None, device: str = "cpu"):
    """uint8 rows `idx` -> augmented (when a generator is given), standardized batch."""
    xb = images[idx]
    if generator is not None:
        xb = flip_and_shift(xb, generator)
    return norm(xb.to(device)), labels[idx].to(device)


def autocast(precision: str, device: str):
    """The training forward's precision: bfloat16 autocast for `bf16`, none for `fp32`."""
    return torch.autocast(device.split(":")[0], dtype=torch.bfloat16, enabled=precision == "bf16")


def sgd_step(model: torch.nn.Module, criterion: torch.nn.Module, opt: torch.optim.Optimizer,
             xb: torch.Tensor, yb: torch.Tensor, precision: str = "fp32"):
    """One optimizer step; center-style losses then move their centers (their own rule)."""
    with autocast(precision, str(xb.device)):
        h, logits = model(xb)
        loss, terms = criterion(h, logits, yb)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    if hasattr(criterion, "update_centers"):
        criterion.update_centers(h.detach(), yb)
    return loss, terms


def epoch_line(h: dict, epochs: int, n: int, train_s: float) -> str:
    """`epoch 3/40: loss 2.1 (softmax 1.9, center 0.2), 1,600 img/s, 12 s, ETA 2 min`."""
    terms = ", ".join(f"{k} {v:.4g}" for k, v in h.items() if k not in ("epoch", "total", "seconds"))
    eta = train_s / h["epoch"] * (epochs - h["epoch"])
    return (f"epoch {h['epoch']}/{epochs}: loss {h['total']:.4g} ({terms}), "
            f"{n / max(h['seconds'], 1e-9):,.0f} img/s, {train_s:.0f} s, ETA {eta:.0f} s")


def check_finite(cfg: TrainConfig, h: dict, checkpoint) -> None:
    """Stop a run whose epoch loss is NaN or infinite: it would train to its last epoch for
    nothing and fail only when scored. Raised before the epoch's checkpoint is saved, so the
    last one on disk is finite."""
    if not math.isfinite(h["total"]):
        # a first epoch that diverges leaves no checkpoint: say so rather than name an epoch 0
        kept = (f"{checkpoint} holds epoch {h['epoch'] - 1}" if h["epoch"] > 1
                else "no checkpoint was saved")
        raise ValueError(f"{cfg.name()}: training diverged at epoch {h['epoch']} (loss {h['total']}) "
                         f"with lr {cfg.lr}: train it with a lower lr; {kept}")


@dataclass
class Fitted:
    """A trained model with what scoring and the record need."""

    model: torch.nn.Module
    norm: Normalizer
    classes: np.ndarray
    history: list
    train_s: float
    n_train: int


def fit(cfg: TrainConfig, train_fs: FaceSet, *, resume: bool = True, progress: bool = True,
        device: str = "cpu", stop_after_epochs: int | None = None, log=None,
        other_threads: str = "refuse") -> Fitted | None:
    """Train `cfg` on `train_fs`, saving a checkpoint after every epoch; None when stopped
    early by `stop_after_epochs` (as an interruption would, for tests). `log`, if given, gets
    one line per epoch (losses, images/s, elapsed, ETA). A checkpoint made with another thread
    count is refused (`other_threads="refuse"`) or trained over from scratch ("restart")."""
    torch.set_num_threads(cfg.threads)
    classes, y_train = np.unique(train_fs.labels, return_inverse=True)
    norm = Normalizer.fit(train_fs.images)
    torch.manual_seed(cfg.seed)
    model, criterion = create_method(cfg, n_classes=len(classes))
    layout = {"memory_format": torch.channels_last} if channels_last() else {}  # else: untouched
    model.to(device, **layout)
    criterion.to(device)
    params = list(model.parameters()) + list(criterion.parameters())
    opt = make_optimizer(cfg, params)
    images = torch.from_numpy(train_fs.images)
    labels = torch.from_numpy(y_train.astype(np.int64))
    n = len(images)
    steps_per_epoch = math.ceil(n / cfg.batch_size)
    total_steps = steps_per_epoch * cfg.epochs
    warmup_steps = steps_per_epoch * cfg.warmup_epochs
    if hasattr(criterion, "bind_training_set"):  # a loss that keeps each image's output (DPSH)
        criterion.bind_training_set(labels, cfg.bits)
    ckpt = checkpoint_path(cfg)
    start_epoch, history, train_s = 0, [], 0.0
    state = read_checkpoint(ckpt, device) if resume and ckpt.exists() else None
    if state is not None and state["config"]["threads"] != cfg.threads and other_threads == "restart":
        state = None
    if state is not None:
        if state.get("channels_last", False) != bool(layout):  # a record names one layout
            was = "with" if state.get("channels_last", False) else "without"
            raise ValueError(f"{ckpt} was trained {was} channels_last: resume {was} it (dmh grid "
                             f"--channels-last; env DMH_CHANNELS_LAST), or start over with --no-resume")
        if state["config"]["threads"] != cfg.threads:
            # a run continued with another thread count is not the run its record would name
            raise ValueError(f"{ckpt} was trained with {state['config']['threads']} threads: resume "
                             f"with --threads {state['config']['threads']}, or start over with --no-resume")
        model.load_state_dict(state["model"])
        criterion.load_state_dict(state["criterion"])
        opt.load_state_dict(state["optimizer"])
        start_epoch, history, train_s = state["epoch"], state["history"], state["train_s"]
    for epoch in range(start_epoch, cfg.epochs):
        if stop_after_epochs is not None and epoch >= stop_after_epochs:
            return None
        t0 = time.perf_counter()
        # One generator per epoch, seeded from (seed, epoch): a resumed run replays the
        # same batches and augmentations without saving RNG state.
        gen = torch.Generator().manual_seed(cfg.seed * 100_003 + epoch)
        batches = epoch_batches(cfg.sampler, labels, cfg.batch_size, gen)
        model.train()
        sums: dict[str, float] = {}
        bar = tqdm(range(len(batches)), desc=f"{cfg.name()} epoch {epoch + 1}/{cfg.epochs}",
                   disable=not progress, leave=False)
        for it in bar:
            idx = batches[it]
            xb, yb = prepare_batch(images, labels, idx, norm, gen if cfg.augment else None, device)
            xb = xb.contiguous(**layout)
            step = epoch * steps_per_epoch + it
            for g in opt.param_groups:
                g["lr"] = cosine_lr(cfg.lr, step, total_steps, warmup_steps)
            for m in (model, criterion):  # methods with a schedule of their own (HashNet)
                if hasattr(m, "set_progress"):
                    m.set_progress(step / total_steps)
            if hasattr(criterion, "set_batch_index"):
                criterion.set_batch_index(idx)
            loss, terms = sgd_step(model, criterion, opt, xb, yb, cfg.precision)
            for k, v in terms.items():
                sums[k] = sums.get(k, 0.0) + float(v) * len(idx)
            sums["total"] = sums.get("total", 0.0) + float(loss.detach()) * len(idx)
        train_s += time.perf_counter() - t0
        history.append({"epoch": epoch + 1, **{k: v / n for k, v in sums.items()},
                        "seconds": round(time.perf_counter() - t0, 2)})
        check_finite(cfg, history[-1], ckpt)
        save_checkpoint(ckpt, {"model": model.state_dict(), "criterion": criterion.state_dict(),
                               "optimizer": opt.state_dict(), "epoch": epoch + 1,
                               "history": history, "train_s": train_s, "config": cfg.to_dict(),
                               "normalizer": norm.state(), "classes": classes.tolist(),
                               **({"channels_last": True} if layout else {})})
        if log is not None:
            log(epoch_line(history[-1], cfg.epochs, n, train_s))
    return Fitted(model, norm, classes, history, train_s, n)
