"""The practitioner's anchor on every protocol that retrieves on a dataset: dlib's 128-d face
embedding (`data/dlib_faces.py`) ranked by float Euclidean distance; hashed to K bits by
LSH and by ITQ fitted on the training people; and DMH's losses (softmax + center +
quantization, DMH's chosen weights for the training dataset) training a hash layer on the
frozen embedding. Upper anchors, not peers: dlib's network was trained on ~3 million faces
that may include LFW's people. Records: `ShallowRecord`s in the store's `anchors/`."""
from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from ..baselines import ITQ, LSH
from ..codes import encode_signs
from ..core.config import TrainConfig
from ..core.provenance import provenance
from ..data.dlib_crops import UPSAMPLE_TO, crop_descriptors
from ..data.dlib_faces import DESCRIPTOR_MODEL, dataset_faces
from ..metrics import evaluate_float, precision_ks
from ..models import EmbeddingHashNet
from ..run.batches import epoch_batches
from ..run.evaluate import score_codes
from ..run.fit import cosine_lr, make_optimizer, protocol_parts, sgd_step
from ..run.records import ShallowRecord
from ..run.store import Store
from .anchor_specs import AnchorSpec
from .configs import method_config
from .profiles import Profile

# The hash layer on the frozen embedding: epochs over the training people (a linear layer
# on 128-d vectors converges in a few seconds; the budget is not binding).
HEAD_EPOCHS = 50


def _config(spec: AnchorSpec, p: Profile) -> TrainConfig:
    closed = spec.protocol in ("lfw", "pins")
    cfg = method_config("dmh", spec.train_on, p, bits=max(spec.bits, 1), seed=spec.seed,
                        **({} if closed else {"protocol": spec.protocol}))
    return cfg if spec.pixels == "photo" else replace(cfg, face_crop=spec.pixels)


def _embeddings(parts, pixels: str = "photo") -> tuple[list[np.ndarray], dict]:
    """Each part's descriptors: of its photos (the dlib pass; with the share where dlib
    found the face) or of the crops the networks read (`crop_descriptors`)."""
    out, detected = [], {}
    for part_name, fs in zip(("train", "query", "gallery"), parts):
        if pixels != "photo":
            out.append(crop_descriptors(fs.images, f"{fs.name}-{pixels}").astype(np.float64))
            continue
        faces = dataset_faces(fs.name)
        rows = faces.rows(fs.keys)
        out.append(faces.descriptors[rows].astype(np.float64))
        detected[part_name] = round(float(faces.found[rows].mean()), 4)
    return out, detected


def train_head(x: np.ndarray, y: np.ndarray, cfg: TrainConfig, epochs: int = HEAD_EPOCHS
               ) -> EmbeddingHashNet:
    """DMH's loss (cfg's lam, mu, alpha, lr, momentum, weight decay, batch size; cosine
    schedule) training `EmbeddingHashNet` on standardized embeddings `x` of identities `y`."""
    from ..methods import create_method

    torch.manual_seed(cfg.seed)
    classes, yi = np.unique(y, return_inverse=True)
    _, criterion = create_method(cfg, n_classes=len(classes))
    model = EmbeddingHashNet(x.shape[1], cfg.bits, len(classes))
    opt = make_optimizer(cfg, list(model.parameters()) + list(criterion.parameters()))
    xt, yt = torch.from_numpy(x.astype(np.float32)), torch.from_numpy(yi.astype(np.int64))
    steps = math.ceil(len(x) / cfg.batch_size)
    gen = torch.Generator().manual_seed(cfg.seed)
    for epoch in range(epochs):
        for it, idx in enumerate(epoch_batches("random", yt, cfg.batch_size, gen)):
            for g in opt.param_groups:
                g["lr"] = cosine_lr(cfg.lr, epoch * steps + it, epochs * steps)
            sgd_step(model, criterion, opt, xt[idx], yt[idx])
    return model.eval()


def _fit_and_score(spec: AnchorSpec, cfg: TrainConfig, xs, ys) -> tuple[dict, dict, float, float]:
    (xtr, xq, xg), (ytr, yq, yg) = xs, ys
    ks = precision_ks(len(yg))
    if spec.method == "float":
        t = time.perf_counter()
        m = evaluate_float(xq, xg, yq, yg, ks=ks)
        return m | {"precision_at_k": {str(k): v for k, v in m["precision_at_k"].items()}}, {}, \
            0.0, time.perf_counter() - t
    t = time.perf_counter()
    if spec.method == "DMH-head":
        mean, std = xtr.mean(0), xtr.std(0) + 1e-8
        model = train_head((xtr - mean) / std, ytr, cfg)
        fit_s, t = time.perf_counter() - t, time.perf_counter()
        with torch.no_grad():
            hq, hg = (model(torch.from_numpy(((x - mean) / std).astype(np.float32)))[0].numpy()
                      for x in (xq, xg))
        params = {k: getattr(cfg, k) for k in ("lr", "lam", "mu", "alpha", "momentum",
                                               "weight_decay", "batch_size")} | {"epochs": HEAD_EPOCHS}
        metrics = score_codes(encode_signs(hq), encode_signs(hg), yq, yg, spec.bits,
                              qfeatures=hq, gfeatures=hg)
        return metrics, params, fit_s, time.perf_counter() - t
    model = (LSH if spec.method == "LSH" else ITQ)(n_bits=spec.bits, seed=spec.seed).fit(xtr)
    fit_s, t = time.perf_counter() - t, time.perf_counter()
    qc, gc = encode_signs(model.project(xq)), encode_signs(model.project(xg))
    return score_codes(qc, gc, yq, yg, spec.bits), {}, fit_s, time.perf_counter() - t


def anchor_run(spec: AnchorSpec, p: Profile, store: Store) -> ShallowRecord:
    """The record of `spec`, computed unless stored (the dlib pass is cached by content)."""
    path = store.anchor_path(spec.name())
    if path.exists():
        return store.load_anchor(spec.name(), "")
    cfg = replace(_config(spec, p), threads=1)
    t = time.perf_counter()
    train, query, gallery, split = protocol_parts(cfg)
    parts = (train, query, gallery)
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    xs, detected = _embeddings(parts, spec.pixels)
    feature_s = time.perf_counter() - t
    torch.set_num_threads(1)
    with threadpool_limits(1):
        metrics, params, fit_s, encode_s = _fit_and_score(spec, cfg, xs, [fs.labels for fs in parts])
    rec = ShallowRecord(
        name=spec.name(), **provenance(threads=1),
        config={"method": f"dlib-{spec.method}", "dataset": spec.protocol,
                "features": "dlib128" if spec.pixels == "photo" else f"dlib128-{spec.pixels}-crop",
                "bits": spec.bits, "seed": spec.seed, "run": None, "params": params},
        supervised=spec.method == "DMH-head",
        split={"dataset": split["dataset"], "split_checksum": split["split_checksum"],
               "data_checksum": split["data_checksum"], "part": "test", "n_train": len(train),
               "n_query": len(query), "n_gallery": len(gallery),
               "n_classes": int(len(np.unique(train.labels)))},
        feature_dim=128, trunk={"model": DESCRIPTOR_MODEL, "detected": detected} | (
            {} if spec.pixels == "photo" else {"input": f"{spec.pixels} crop {train.images.shape[-1]}px, "
                                                         f"upsampled to {UPSAMPLE_TO}px"}),
        blas_threads=1, data_load_s=round(load_s, 2), feature_s=round(feature_s, 2),
        fit_s=round(fit_s, 3), encode_s=round(encode_s, 3), metrics=metrics)
    store.save_anchor(rec)
    return rec
