"""The units of work the runner schedules: one deep run, its weights, the floors."""
from __future__ import annotations

import time

import numpy as np

from ..baselines import LSH, RandomCodes
from ..codes import encode_signs
from ..core.config import TrainConfig
from ..core.provenance import provenance
from ..run.checkpoint import read_checkpoint
from ..run.evaluate import score_codes, score_model
from ..run.fit import fit, protocol_parts
from ..run.fit_many import fit_many, keeps_image_memory, stack_key
from ..run.records import RunRecord
from ..run.store import Store, checkpoint_label, checkpoint_path


def train_run(cfg: TrainConfig, store: Store, *, resume: bool = True, force: bool = False,
              progress: bool = True, device: str = "cpu", stop_after_epochs: int | None = None,
              save: bool = True, log=None, other_threads: str = "refuse") -> RunRecord | None:
    """Train and score `cfg`, or return its stored record (cached by config; `force` ignores
    it); `resume` continues from the run's checkpoint; None when stopped early by
    `stop_after_epochs`."""
    if store.has_run(cfg) and not force:
        return store.load_run(cfg)
    t_load = time.perf_counter()
    train_fs, query_fs, gallery_fs, split = protocol_parts(cfg)
    load_s = time.perf_counter() - t_load
    fitted = fit(cfg, train_fs, resume=resume, progress=progress, device=device,
                 stop_after_epochs=stop_after_epochs, log=log, other_threads=other_threads)
    if fitted is None:
        return None
    rec = _scored(cfg, fitted, train_fs, query_fs, gallery_fs, split, load_s, device)
    if save:
        store.save_run(rec)
    return rec


def stack_groups(configs: list[TrainConfig], size: int) -> list[list[TrainConfig]]:
    """The configs in order, those that may train stacked (differing only in seed, lr or loss
    weights: `stack_key`; never bf16) gathered up to `size` at a time; a group sits where its
    first was."""
    groups, filling = [], {}
    for c in configs:
        # vmap drops autocast (`fit_many.StackedRuns`): bf16 trains alone, as does a loss
        # with a memory of each training image
        if c.precision == "bf16" or keeps_image_memory(c):
            groups.append([c])
            continue
        g = filling.get(key := stack_key(c))
        if g is None or len(g) == size:
            groups.append(g := [])
            filling[key] = g
        g.append(c)
    return groups


def train_many(cfgs: list[TrainConfig], store: Store, *, device: str = "cpu") -> list[RunRecord]:
    """Train configs that differ only in seed, lr or loss weights as one stacked model
    (`dmh.run.fit_many`), score and store each; a record's hardware says how many runs
    trained together and its `train_s` is its share of their wall time."""
    t_load = time.perf_counter()
    train_fs, query_fs, gallery_fs, split = protocol_parts(cfgs[0])
    load_s = time.perf_counter() - t_load
    out = []
    for cfg, fitted in zip(cfgs, fit_many(cfgs, train_fs, device=device)):
        rec = _scored(cfg, fitted, train_fs, query_fs, gallery_fs, split, load_s, device)
        rec.hardware["stacked"] = len(cfgs)
        store.save_run(rec)
        out.append(rec)
    return out


def _scored(cfg, fitted, train_fs, query_fs, gallery_fs, split, load_s, device) -> RunRecord:
    t_eval = time.perf_counter()
    metrics = score_model(fitted.model, fitted.norm, query_fs, gallery_fs, cfg.bits, device=device,
                          train=train_fs)
    return RunRecord(
        name=cfg.name(), config=cfg, config_key=cfg.key(), **provenance(cfg.threads, device),
        split={"dataset": split["dataset"], "split_checksum": split["split_checksum"],
               "data_checksum": split["data_checksum"], "part": cfg.eval_split,
               "n_train": fitted.n_train, "n_query": len(query_fs), "n_gallery": len(gallery_fs),
               "n_classes": int(len(fitted.classes))},
        n_parameters=int(sum(p.numel() for p in fitted.model.parameters())),
        epochs=cfg.epochs, train_s=round(fitted.train_s, 1), data_load_s=round(load_s, 2),
        eval_s=round(time.perf_counter() - t_eval, 1), history=fitted.history, metrics=metrics,
        checkpoint=checkpoint_label(checkpoint_path(cfg)))


def ensure_checkpoint(cfg: TrainConfig, store: Store, device: str = "cpu", log=print):
    """The run's finished checkpoint. Checkpoints are not committed: a fresh clone retrains
    the run's weights (same seed and thread count give the same weights; an unfinished
    checkpoint resumes; one that fails its check is retrained from scratch, and said so),
    leaving its record alone."""
    path, resume = checkpoint_path(cfg), True
    if path.is_file():
        try:
            state = read_checkpoint(path)
            if state["epoch"] == cfg.epochs and state["config"]["threads"] == cfg.threads:
                return path
        except ValueError as e:
            log(f"retraining from scratch: {e}")
            resume = False
    train_run(cfg, store, force=True, resume=resume, save=False, progress=False, device=device,
              other_threads="restart")
    return path


def fit_and_score(method, xg: np.ndarray, xq: np.ndarray, gallery_labels: np.ndarray,
                  query_labels: np.ndarray, bits: int) -> tuple[dict, float, float]:
    """Fit a projection hash on gallery features, score query vs gallery codes:
    (metrics, fit seconds, encode seconds)."""
    t = time.perf_counter()
    if getattr(method, "supervised", False):
        method.fit(xg, gallery_labels)
    else:
        method.fit(xg)
    fit_s = time.perf_counter() - t
    t = time.perf_counter()
    gcodes, qcodes = encode_signs(method.project(xg)), encode_signs(method.project(xq))
    encode_s = time.perf_counter() - t
    return score_codes(qcodes, gcodes, query_labels, gallery_labels, bits), fit_s, encode_s


def floor_metrics(gallery, query, bits: int, seed: int) -> dict[str, dict]:
    """The metrics of codes that learned nothing on these faces: `random` bits and
    `lsh_pixels` (random hyperplanes through the pixels)."""
    xg, xq = gallery.images.astype(np.float32), query.images.astype(np.float32)
    return {name: fit_and_score(cls(n_bits=bits, seed=seed), xg, xq, gallery.labels,
                                query.labels, bits)[0]
            for name, cls in (("random", RandomCodes), ("lsh_pixels", LSH))}


def floors(datasets, bits, seed: int = 0, protocols=()) -> dict:
    """Codes that learned nothing (random bits, LSH of the pixels) scored on the closed
    protocol of each dataset at every length, and on each open/cross protocol at the longest:
    the floor every learned method must beat."""
    from .open_protocols import trained_on

    t0 = time.perf_counter()
    rows = []
    cases = [(ds, TrainConfig(dataset=ds), bits) for ds in datasets] + \
            [(pr, TrainConfig(dataset=trained_on(pr), protocol=pr), (max(bits),)) for pr in protocols]
    for name, cfg, lengths in cases:
        t = time.perf_counter()
        _, query, gallery, split = protocol_parts(cfg)
        load_s = time.perf_counter() - t
        for k in lengths:
            for method, m in floor_metrics(gallery, query, k, seed).items():
                rows.append({"dataset": name, "method": method, "bits": k, "seed": seed,
                             "n_identities": int(len(np.unique(gallery.labels))),
                             "n_queries": len(query), "n_gallery": len(gallery),
                             "split_checksum": split["split_checksum"],
                             "data_load_s": round(load_s, 2), "map_all": m["map_all"],
                             "map_all_stable": m["map_all_stable"], "p_at_r2": m["p_at_r2"],
                             "p_at_1": m["precision_at_k"]["1"], "p_at_10": m["precision_at_k"]["10"]})
    return {"rows": rows, **provenance(), "wall_s": round(time.perf_counter() - t0, 1)}


def verdict(rec: RunRecord) -> str:
    """One line comparing a run with the floors on the same queries and gallery (random codes,
    LSH of the pixels), saying plainly when it learned nothing (mAP under 2x the random
    floor, or fewer distinct gallery codes than identities)."""
    from ..run.checkpoint import load_trained
    from ..run.encode import encode

    cfg = rec.config
    _, query, gallery, _ = protocol_parts(cfg)
    floor, lsh = (m["map_all"] for m in floor_metrics(gallery, query, cfg.bits, cfg.seed).values())
    n_ids = len(np.unique(gallery.labels))
    mean_ap = rec.metrics["map_all"]
    line = (f"{rec.split['part']} mAP@all {mean_ap:.4f} = {mean_ap / floor:.1f}x random codes "
            f"({floor:.4f}), {mean_ap / lsh:.1f}x LSH of the pixels ({lsh:.4f})")
    distinct = None
    if checkpoint_path(cfg).is_file():
        model, norm, _ = load_trained(str(checkpoint_path(cfg)), allow_partial=True)
        distinct = len(np.unique(encode(model, gallery.images, norm).codes, axis=0))
        line += f"; {distinct} distinct codes for {n_ids} identities"
    if mean_ap < 2 * floor or (distinct is not None and distinct < n_ids):
        return f"LEARNED NOTHING: {line}. Try more epochs or a lower mu (see `dmh train --help`)."
    return f"learned: {line}"
