"""Shallow hashing baselines on the closed protocol: fit on the gallery (= the training set),
encode queries and gallery, score through the one scoring path.

Inputs are the pixels (uint8 images flattened, / 255) or the globally average-pooled trunk
features of a trained DMH run, which separates what the trunk learned from what its hash
head adds."""
from __future__ import annotations

import time

import numpy as np
from threadpoolctl import threadpool_limits

from ..baselines import ITQ, LSH, PCAH, SDH, SH
from ..core.provenance import provenance
from ..data import load_protocol
from ..run.checkpoint import load_trained
from ..run.encode import pooled_trunk_features
from ..run.records import ShallowRecord
from ..run.store import Store
from .shallow_specs import ShallowSpec
from .jobs import ensure_checkpoint, fit_and_score

CLASSES = {"LSH": LSH, "PCAH": PCAH, "ITQ": ITQ, "SH": SH, "SDH": SDH}


def pixel_features(images: np.ndarray) -> np.ndarray:
    """uint8 (N, C, H, W) -> (N, C*H*W) float32 in [0, 1]."""
    return images.reshape(len(images), -1).astype(np.float32) / 255.0


def _params(model) -> dict:
    return {k: v for k, v in vars(model).items() if not k.startswith("_") and not k.endswith("_")}


def _config(spec: ShallowSpec, model) -> dict:
    crop = {} if spec.face_crop == "box" else {"face_crop": spec.face_crop}  # box: as recorded before
    return {"method": spec.method, "dataset": spec.dataset, "features": spec.features,
            "bits": int(spec.bits), "seed": int(spec.seed),
            "run": spec.trunk.name() if spec.trunk else None, "params": _params(model)} | crop


def shallow_run(spec: ShallowSpec, store: Store, *, threads: int | None = 1,
                force: bool = False) -> ShallowRecord:
    """The record of `spec`, fitted unless stored with the same config. One BLAS thread:
    much faster than two when the cores are busy with other jobs (spinning threads)."""
    model = CLASSES[spec.method](n_bits=spec.bits, seed=spec.seed)
    config = _config(spec, model)
    if store.shallow_path(spec.name()).exists() and not force:
        cached = store.load_shallow(spec.name(), "")
        if cached.config == config:
            return cached
    with threadpool_limits(threads):
        rec = _fit(spec, model, config, store, threads)
    store.save_shallow(rec)
    return rec


def _features(spec: ShallowSpec, store: Store, gallery: np.ndarray, query: np.ndarray):
    if spec.features == "pixels":
        return pixel_features(gallery), pixel_features(query), None
    model, norm, cfg = load_trained(str(ensure_checkpoint(spec.trunk, store)))
    both = pooled_trunk_features(model, np.concatenate([gallery, query]), norm)
    info = {"run": cfg.name(), "config_key": cfg.key(), "dataset": cfg.dataset, "bits": cfg.bits,
            "seed": cfg.seed, "eval_split": cfg.eval_split}
    return both[:len(gallery)], both[len(gallery):], info


def _fit(spec: ShallowSpec, model, config: dict, store: Store, threads) -> ShallowRecord:
    t = time.perf_counter()
    parts, split = load_protocol(spec.dataset, face_crop=spec.face_crop)
    gallery, query = parts["gallery"], parts["query"]
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    xg, xq, trunk = _features(spec, store, gallery.images, query.images)
    feature_s = time.perf_counter() - t
    metrics, fit_s, encode_s = fit_and_score(model, xg, xq, gallery.labels, query.labels, spec.bits)
    return ShallowRecord(
        name=spec.name(), config=config, **provenance(),
        supervised=bool(getattr(model, "supervised", False)),
        split={"dataset": split["dataset"], "split_checksum": split["split_checksum"],
               "data_checksum": split["data_checksum"], "part": "test",
               "n_train": len(gallery), "n_query": len(query), "n_gallery": len(gallery),
               "n_classes": int(len(np.unique(gallery.labels)))},
        feature_dim=int(xg.shape[1]), trunk=trunk, blas_threads=threads,
        data_load_s=round(load_s, 2), feature_s=round(feature_s, 2), fit_s=round(fit_s, 3),
        encode_s=round(encode_s, 3), metrics=metrics)
