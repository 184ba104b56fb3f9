"""Commands that train, score and list runs: train, evaluate, floors."""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields, replace

from ..core.config import TrainConfig


def _table(rows: list[dict], cols: list[str]) -> str:
    fmt = lambda v: f"{v:.4f}" if isinstance(v, float) else str(v)  # noqa: E731
    cells = [[fmt(r[c]) for c in cols] for r in rows]
    widths = [max(len(c), *(len(x[i]) for x in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths))]
    lines += ["  ".join(x.ljust(w) for x, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def _metrics_line(m: dict) -> str:
    return (f"mAP@all {m['map_all']:.4f} (stable ties {m['map_all_stable']:.4f}, float "
            f"{m['map_all_float']:.4f}), P@R2 {m['p_at_r2']:.4f}, P@10 {m['precision_at_k']['10']:.4f}"
            + (f"; on its training images {m['map_all_train']:.4f}" if "map_all_train" in m else ""))


def cmd_floors(a) -> None:
    from ..core.atomic import write_json
    from ..experiments.jobs import floors
    from ..run.store import user_store

    out = floors(a.datasets, a.bits, a.seed)
    print(_table(out["rows"], ["dataset", "method", "bits", "n_identities", "n_queries", "n_gallery",
                               "map_all", "map_all_stable", "p_at_r2", "p_at_10"]))
    path = user_store().floors_path
    write_json(path, out)
    print(f"wrote {path} (the book's floors are `dmh grid floors`)")


def config_options(p: argparse.ArgumentParser) -> None:
    """One option per TrainConfig field, its default shown (`--help`); unset options take the
    recipe of the data (`dmh.experiments.recipes`), then TrainConfig's default."""
    from ..experiments.recipes import FOLDER_RECIPE

    for f in fields(TrainConfig):
        default = f.default_factory() if callable(f.default_factory) else f.default
        shown = ",".join(default) if isinstance(default, tuple) else default
        if f.name in FOLDER_RECIPE:
            shown = f"{FOLDER_RECIPE[f.name]} on a folder, the paper's on lfw/pins"
        kind = {bool: "true or false; ", tuple: "comma-separated; ", dict: "JSON object; "}.get(type(default), "")
        parse = {bool: lambda s: s.lower() in ("1", "true", "yes"), tuple: lambda s: tuple(s.split(",")),
                 dict: json.loads}.get(type(default), type(default))
        p.add_argument("--" + f.name.replace("_", "-"), type=parse, default=None,
                       help=f"{kind}default {shown}")


def _config_from_args(a) -> tuple[TrainConfig, str]:
    """The config of `dmh train`: explicit options, else the data's recipe, else defaults."""
    from ..experiments.recipes import recipe

    from ..data import DATASETS, load_dataset

    given = {f.name: getattr(a, f.name) for f in fields(TrainConfig) if getattr(a, f.name) is not None}
    base, source = recipe(given.get("dataset", TrainConfig.dataset), given.get("method", "dmh"))
    cfg = TrainConfig(**(base | given))
    if cfg.dataset not in DATASETS and not cfg.data_checksum:  # key the run by the content
        cfg = replace(cfg, data_checksum=load_dataset(cfg.dataset, size=cfg.image_size,
                                                              strict=a.strict).checksum)
    return cfg, source


def check_device(device: str) -> None:
    import torch

    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"--device {device}: this torch ({torch.__version__}) sees no CUDA GPU; "
                         f"use --device cpu")
    if not device.startswith(("cpu", "cuda")):
        raise ValueError(f"--device {device}: use cpu or cuda")


def cmd_train(a) -> None:
    from ..experiments.jobs import train_run, verdict
    from ..run.store import checkpoint_path, paper_store, user_store

    cfg, source = _config_from_args(a)
    check_device(a.device)
    print(f"{cfg.name()}: {cfg.method} on {cfg.dataset}, {cfg.bits} bits, {cfg.epochs} epochs, "
          f"lr {cfg.lr}, lam {cfg.lam}, mu {cfg.mu} (unset options: {source})", flush=True)
    store = user_store()
    cached = next((s for s in (store, paper_store()) if s.has_run(cfg)), None)
    if cached is not None and not a.force:
        ckpt = checkpoint_path(cfg)
        print(f"cached: {cached.run_path(cfg)} ({'committed' if cached.committed else 'yours'}); "
              f"checkpoint: {ckpt if ckpt.is_file() else 'none (rerun with --force to make one)'}")
        rec = cached.load_run(cfg)
    else:
        rec = train_run(cfg, store, resume=not (a.no_resume or a.force), force=a.force, device=a.device,
                        progress=sys.stderr.isatty(), log=lambda s: print(s, flush=True))
        print(f"record: {store.run_path(cfg)}; checkpoint: {checkpoint_path(cfg)}")
    print(f"{rec.name}: {_metrics_line(rec.metrics)}; train {rec.train_s} s, "
          f"{rec.n_parameters} parameters")
    print(verdict(rec))


def cmd_evaluate(a) -> None:
    from ..run.checkpoint import load_trained
    from ..run.evaluate import score_model
    from ..run.fit import protocol_parts
    from ..run.store import paper_store, user_store

    model, norm, cfg = load_trained(a.run, allow_partial=a.allow_partial)
    train, query, gallery, _ = protocol_parts(cfg)
    m = score_model(model, norm, query, gallery, cfg.bits, train=train)
    print(json.dumps({k: v for k, v in m.items() if k != "pr_curve"}, indent=1))
    stored = next((s for s in (user_store(), paper_store()) if s.has_run(cfg)), None)
    if stored is not None:  # on what the record holds: older records lack map_all_train
        kept = stored.load_run(cfg).metrics
        same = kept == {k: v for k, v in m.items() if k in kept}
        print(f"{'equals' if same else 'DIFFERS FROM'} the stored record {stored.run_path(cfg)}")


def train_command(cfg: TrainConfig) -> str:
    """The `dmh train` line that makes `cfg`'s checkpoint (every field spelled out: the
    folder recipe must not fill any), into the user's runs folder."""
    parts = ["dmh train"]
    for f in fields(TrainConfig):
        v = getattr(cfg, f.name)
        v = ",".join(v) if isinstance(v, tuple) else json.dumps(v) if isinstance(v, dict) else v
        parts.append(f"--{f.name.replace('_', '-')} {v if str(v) and ' ' not in str(v) else repr(str(v))}")
    return " ".join(parts + ["--force"])


def trained(run: str, allow_partial: bool = False):
    """`load_trained`, and when a run has a record but no weights, the command that makes them."""
    from ..run.checkpoint import load_trained
    from ..run.store import find_record

    try:
        return load_trained(run, allow_partial=allow_partial)
    except FileNotFoundError:
        found = find_record(run)
        if found is None:
            raise
        store, rec = found
        raise FileNotFoundError(f"run {run} has a record ({store.run_path(rec.config)}) but no weights "
                                f"here (checkpoints are not committed); make them with: "
                                f"{train_command(rec.config)}  (writes only to your runs folder)") from None


def cmd_runs(a) -> None:
    from ..run.checkpoint import checkpoint_state
    from ..run.store import paper_store, user_store

    stores = [user_store()] + ([paper_store()] if a.all else [])
    rows = []
    for store in stores:
        for rec in store.all_runs():
            m = rec.metrics
            rows.append({"run": rec.name, "where": "committed" if store.committed else "yours",
                         "dataset": rec.dataset, "bits": rec.config.bits, "part": rec.split["part"],
                         "mAP@all": m["map_all"], "P@10": m["precision_at_k"].get("10", float("nan")),
                         "checkpoint": checkpoint_state(rec.config)})
    if rows:
        print(_table(rows, list(rows[0])))
    print(f"{len(rows)} runs in {', '.join(str(s.root) for s in stores)}"
          + ("" if a.all else f"; committed paper runs: {len(paper_store().all_runs())} (--all lists them)"))
