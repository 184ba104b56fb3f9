"""Shallow (non-deep) hashing baselines on the closed protocol: fit on the gallery (= the
training set), encode queries and gallery, score with the same metrics as the deep runs.

Inputs are either the pixels (uint8 images flattened, / 255) or the globally average-pooled
trunk features of a trained DMH model (`features="dmh_trunk"`, `run=` its name or checkpoint),
which separates what the trunk learned from what its hash head adds.
Records are cached as JSON in `results/shallow/<method>-<dataset>-<features>-<bits>b-s<seed>.json`.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from .core.atomic import write_json
from .baselines import ITQ, LSH, PCAH, SDH, SH
from .codes import encode_signs
from .data import DATASETS, load_protocol
from .metrics import evaluate_codes, precision_ks
from .core.paths import RESULTS_DIR
from .core.provenance import provenance

SHALLOW_METHODS = {"LSH": LSH, "PCAH": PCAH, "ITQ": ITQ, "SH": SH, "SDH": SDH}
FEATURES = ("pixels", "dmh_trunk")


def shallow_dir() -> Path:
    return RESULTS_DIR / "shallow"


def dataset_tag(dataset: str) -> str:
    """`lfw`/`pins` as they are; a path by its file stem."""
    return dataset if dataset in DATASETS else Path(dataset).stem


def record_name(method: str, dataset: str, bits: int, seed: int = 0, features: str = "pixels") -> str:
    return f"{method}-{dataset_tag(dataset)}-{features}-{bits}b-s{seed}"


def pixel_features(images: np.ndarray) -> np.ndarray:
    """uint8 (N, C, H, W) -> (N, C*H*W) float32 in [0, 1]."""
    return images.reshape(len(images), -1).astype(np.float32) / 255.0


def _pooled(model, norm, images: np.ndarray, batch_size: int, device: str) -> np.ndarray:
    import torch

    out = []
    with torch.no_grad():
        for i in range(0, len(images), batch_size):
            x = norm(torch.from_numpy(images[i:i + batch_size]).to(device))
            out.append(model.forward_features(x).mean(dim=(2, 3)).float().cpu())
    return torch.cat(out).numpy()


def trunk_features(run_name_or_ckpt: str, images: np.ndarray, *, batch_size: int = 256,
                   device: str = "cpu") -> np.ndarray:
    """Globally average-pooled trunk output of a trained model, (N, C) float32.

    Images are normalised with the run's own training statistics. Raises FileNotFoundError
    (naming `dmh train`) when the run has no checkpoint.
    """
    from .train import load_trained

    model, norm, _ = load_trained(run_name_or_ckpt, device=device)
    return _pooled(model, norm, images, batch_size, device)


def _features(features: str, run: str | None, dataset: str, gallery: np.ndarray,
              query: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict | None]:
    if features == "pixels":
        return pixel_features(gallery), pixel_features(query), None
    from .train import load_trained

    model, norm, cfg = load_trained(run)
    if cfg.dataset != dataset:
        raise ValueError(f"run {run} was trained on {cfg.dataset!r}, not on {dataset!r}")
    both = _pooled(model, norm, np.concatenate([gallery, query]), 256, "cpu")
    info = {"run": run, "config_key": cfg.key(), "dataset": cfg.dataset, "bits": cfg.bits,
            "seed": cfg.seed, "eval_split": cfg.eval_split}
    return both[:len(gallery)], both[len(gallery):], info


def _params(model) -> dict:
    return {k: v for k, v in vars(model).items() if not k.startswith("_") and not k.endswith("_")}


def evaluate_shallow(method: str, dataset: str, bits: int, seed: int = 0, features: str = "pixels",
                     *, run: str | None = None, force: bool = False,
                     results_dir: Path | None = None, threads: int | None = None,
                     **method_kwargs) -> dict:
    """Fit `method` on the gallery of `dataset`'s closed protocol and score its codes.

    Args:
        method: a key of SHALLOW_METHODS (supervised ones get the gallery labels).
        dataset: `lfw`, `pins` or a DDH pickle.
        bits, seed: code length and the method's seed.
        features: `pixels` or `dmh_trunk` (then `run` names the trained DMH run or checkpoint).
        force: recompute even if the cached record exists.
        results_dir: where records go (default `results/shallow/`).
        threads: BLAS threads for numpy/scipy (None: the library default). One thread is much
            faster than two when the cores are busy with other jobs (spinning BLAS threads).
        method_kwargs: hyperparameters passed to the method (recorded).

    Returns the record; a cached record is returned if its config matches.
    """
    if method not in SHALLOW_METHODS:
        raise ValueError(f"unknown method {method!r}; known: {sorted(SHALLOW_METHODS)}")
    if features not in FEATURES:
        raise ValueError(f"features must be one of {FEATURES}, got {features!r}")
    if features == "dmh_trunk" and run is None:
        raise ValueError("features='dmh_trunk' needs run= (a trained DMH run name or checkpoint)")
    if features == "pixels" and run is not None:
        raise ValueError("run= is only used with features='dmh_trunk'")
    cls = SHALLOW_METHODS[method]
    model = cls(n_bits=bits, seed=seed, **method_kwargs)
    config = {"method": method, "dataset": dataset, "features": features, "bits": int(bits),
              "seed": int(seed), "run": run, "params": _params(model)}
    name = record_name(method, dataset, bits, seed, features)
    path = Path(results_dir or shallow_dir()) / f"{name}.json"
    if path.exists() and not force:
        cached = json.loads(path.read_text())
        if cached.get("config") == config:
            return cached

    with threadpool_limits(threads):
        return _evaluate(model, cls, config, name, path, dataset, features, run, bits, threads)


def _evaluate(model, cls, config, name, path, dataset, features, run, bits, threads) -> dict:
    t = time.perf_counter()
    parts, split = load_protocol(dataset)
    gallery, query = parts["gallery"], parts["query"]
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    xg, xq, trunk = _features(features, run, dataset, gallery.images, query.images)
    feature_s = time.perf_counter() - t

    t = time.perf_counter()
    if getattr(cls, "supervised", False):
        model.fit(xg, gallery.labels)
    else:
        model.fit(xg)
    fit_s = time.perf_counter() - t
    t = time.perf_counter()
    gcodes, qcodes = encode_signs(model.project(xg)), encode_signs(model.project(xq))
    encode_s = time.perf_counter() - t

    ks = precision_ks(len(gallery))
    metrics = evaluate_codes(qcodes, gcodes, query.labels, gallery.labels, bits, ks=ks)
    metrics["precision_at_k"] = {str(k): v for k, v in metrics["precision_at_k"].items()}
    record = {
        "name": name, "config": config, **provenance(),
        "supervised": bool(getattr(cls, "supervised", False)),
        "split": {"dataset": split["dataset"], "split_checksum": split["split_checksum"],
                  "data_checksum": split["data_checksum"], "part": "test",
                  "n_train": len(gallery), "n_query": len(query), "n_gallery": len(gallery),
                  "n_classes": int(len(np.unique(gallery.labels)))},
        "feature_dim": int(xg.shape[1]), "trunk": trunk, "blas_threads": threads,
        "data_load_s": round(load_s, 2), "feature_s": round(feature_s, 2),
        "fit_s": round(fit_s, 3), "encode_s": round(encode_s, 3),
        "metrics": metrics,
    }
    write_json(path, record)
    return record
