"""`dmh` command line: splits, floors, training, scoring, encoding, search, grids and the book."""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import fields
from pathlib import Path

from .core.config import TrainConfig

DESCRIPTION = """Deep Metric Hashing for face retrieval.

Typical session:
  dmh split pins                         # (committed already) the closed-protocol split
  dmh floors                             # mAP of random codes and pixel LSH: the floor
  dmh train --dataset pins --bits 48     # train DMH, evaluate on the test queries
  dmh evaluate RUN_NAME                  # re-score a trained run
  dmh encode RUN_NAME FOLDER --out c.npz # binary codes of a folder of faces
  dmh search RUN_NAME FOLDER PHOTO.jpg   # rank a folder of faces by a query photo
  dmh grid main-pins                     # a named grid of the paper (records in results/)
Data come from $DMH_DATA (see data/README.md); your own runs go to $DMH_RUNS (default runs/)."""


def _table(rows: list[dict], cols: list[str]) -> str:
    fmt = lambda v: f"{v:.4f}" if isinstance(v, float) else str(v)  # noqa: E731
    cells = [[fmt(r[c]) for c in cols] for r in rows]
    widths = [max(len(c), *(len(x[i]) for x in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths))]
    lines += ["  ".join(x.ljust(w) for x, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def _metrics_line(m: dict) -> str:
    return (f"mAP@all {m['map_all']:.4f} (stable ties {m['map_all_stable']:.4f}, float "
            f"{m['map_all_float']:.4f}), P@R2 {m['p_at_r2']:.4f}, P@10 {m['precision_at_k']['10']:.4f}")


def cmd_split(a) -> None:
    from .data import load_protocol

    t = time.perf_counter()
    parts, split = load_protocol(a.dataset, seed=a.seed)
    print(f"{a.dataset}: {split['n_identities']} identities, {split['n_images']} images; "
          + ", ".join(f"{k} {len(v)}" for k, v in parts.items())
          + f"; near-duplicate pairs {split['near_duplicate_pairs']}; split {split['split_checksum'][:16]}"
          f" data {split['data_checksum'][:16]} ({time.perf_counter() - t:.1f} s)")


def cmd_floors(a) -> None:
    from .core.atomic import write_json
    from .experiments.jobs import floors
    from .run.store import user_store

    out = floors(a.datasets, a.bits, a.seed)
    print(_table(out["rows"], ["dataset", "method", "bits", "n_identities", "n_queries", "n_gallery",
                               "map_all", "map_all_stable", "p_at_r2", "p_at_10"]))
    path = user_store().floors_path
    write_json(path, out)
    print(f"wrote {path} (the book's floors are `dmh grid floors`)")


def config_options(p: argparse.ArgumentParser) -> None:
    """One option per TrainConfig field, its default shown (`--help`); unset options take the
    recipe of the data (`dmh.experiments.recipes`), then TrainConfig's default."""
    from .experiments.recipes import FOLDER_RECIPE

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
    from .experiments.recipes import recipe

    given = {f.name: getattr(a, f.name) for f in fields(TrainConfig) if getattr(a, f.name) is not None}
    base, source = recipe(given.get("dataset", TrainConfig.dataset), given.get("method", "dmh"))
    return TrainConfig(**(base | given)), source


def cmd_train(a) -> None:
    from .experiments.jobs import train_run, verdict
    from .run.store import checkpoint_path, paper_store, user_store

    cfg, source = _config_from_args(a)
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
    from .run.checkpoint import load_trained
    from .run.evaluate import score_model
    from .run.fit import protocol_parts
    from .run.store import paper_store, user_store

    model, norm, cfg = load_trained(a.run, allow_partial=a.allow_partial)
    _, query, gallery, _ = protocol_parts(cfg)
    m = score_model(model, norm, query, gallery, cfg.bits)
    print(json.dumps({k: v for k, v in m.items() if k != "pr_curve"}, indent=1))
    stored = next((s for s in (user_store(), paper_store()) if s.has_run(cfg)), None)
    if stored is not None:
        same = stored.load_run(cfg).metrics == m
        print(f"{'equals' if same else 'DIFFERS FROM'} the stored record {stored.run_path(cfg)}")


def cmd_encode(a) -> None:
    import numpy as np

    from .core.atomic import atomic_write
    from .data import load_dataset
    from .run.checkpoint import load_trained
    from .run.encode import encode

    model, norm, cfg = load_trained(a.run, allow_partial=a.allow_partial)
    fs = load_dataset(a.images, size=cfg.image_size)
    enc = encode(model, fs.images, norm)
    atomic_write(Path(a.out), lambda f: np.savez(f, codes=enc.codes, labels=fs.labels,
                                                  keys=np.array(fs.keys), n_bits=cfg.bits), mode="wb")
    print(f"{len(fs)} images of {len(fs.identities)} identities -> {a.out} ({cfg.bits}-bit codes)")


def cmd_search(a) -> None:
    import numpy as np

    from .data import DATASETS, Crop, decode_face, load_dataset
    from .retrieval import hamming_topk
    from .run.checkpoint import load_trained
    from .run.encode import encode

    model, norm, cfg = load_trained(a.run, allow_partial=a.allow_partial)
    fs = load_dataset(a.images, size=cfg.image_size)
    # the query photo gets the gallery's crop: a named dataset's, else the whole image
    crop = DATASETS[a.images].crop if a.images in DATASETS else Crop()
    query = decode_face(Path(a.photo).read_bytes(), crop, cfg.image_size)[None]
    gcodes = encode(model, fs.images, norm).codes
    qcodes = encode(model, np.ascontiguousarray(query), norm).codes
    d, i = hamming_topk(qcodes, gcodes, min(a.k, len(fs)))
    for rank, (dist, idx) in enumerate(zip(d[0], i[0]), 1):
        print(f"{rank:3d}  d={int(dist):2d}  {fs.identities[fs.labels[idx]]:30s}  {fs.keys[idx]}")


def _log(label: str):
    return lambda s: print(f"[{time.strftime('%H:%M:%S')}] {label}: {s}", flush=True)


def cmd_grid(a) -> None:
    from .experiments.runner import run_grids

    run_grids(a.grids, a.profile, workers=a.workers, device=a.device, log=_log("+".join(a.grids)))


def cmd_book(a) -> None:
    from .book import BookError, build_book, chapter_stems, update_notebooks
    from .report.cost import grid_cost_line
    from .report.reading import chapter_grids

    try:
        stems = a.chapters or (chapter_stems(a.toc) if a.toc else chapter_stems())
        if not a.no_execute:
            from .experiments.runner import run_grids

            profile = "quick" if a.update_notebooks else a.profile
            run_grids(chapter_grids(stems, profile), profile, workers=a.workers, log=_log("grids"))
        if a.update_notebooks:
            update_notebooks(a.chapters, toc=a.toc)
        else:
            build_book(a.profile, a.chapters, execute=not a.no_execute, toc=a.toc)
            if a.profile == "paper":
                print(grid_cost_line(), flush=True)
    except BookError as e:
        print(f"dmh book: error: {e}", file=sys.stderr)
        raise SystemExit(1) from None


def cmd_pack(a) -> None:
    from .data import load_dataset, write_pack
    from .data.pack import pack_name

    for name in a.datasets:
        fs = load_dataset(name, min_images=a.min_images)
        _, channels, size, _ = fs.images.shape
        path = write_pack(fs, a.out / pack_name(name, size, channels, a.min_images),
                          min_images=a.min_images)
        print(f"{name}: {len(fs)} images -> {path} ({path.stat().st_size / 2**20:.1f} MiB)")


def build_parser() -> argparse.ArgumentParser:
    from .experiments.grids import grid_help
    from .experiments.profiles import PROFILES

    p = argparse.ArgumentParser(prog="dmh", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("split", help="make (or check) the closed-protocol split of a dataset")
    s.add_argument("dataset", help="lfw, pins, an identity folder or a DDH .pkl")
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(func=cmd_split)
    s = sub.add_parser("floors", help="mAP of random codes and pixel LSH (no training)")
    s.add_argument("--datasets", nargs="+", default=["lfw", "pins"])
    s.add_argument("--bits", nargs="+", type=int, default=list(PROFILES["paper"].bits))
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(func=cmd_floors)
    s = sub.add_parser("train", help="train one run and score it (cached by config, in $DMH_RUNS)")
    config_options(s)
    s.add_argument("--device", default="cpu")
    s.add_argument("--no-resume", action="store_true", help="ignore an existing checkpoint")
    s.add_argument("--force", action="store_true", help="retrain even if a record exists")
    s.set_defaults(func=cmd_train)
    s = sub.add_parser("grid", help="run named grids of the paper (cached, resumable)",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="grids (ds: lfw, pins):\n" + grid_help())
    s.add_argument("grids", nargs="+", help="grid names, run in the order given")
    s.add_argument("--workers", type=int, default=2)
    s.add_argument("--profile", default="paper", choices=sorted(PROFILES))
    s.add_argument("--device", default="cpu", help="cpu or cuda (records say which)")
    s.set_defaults(func=cmd_grid)
    s = sub.add_parser("pack", help="write decoded datasets as packs, for machines without the images")
    s.add_argument("datasets", nargs="+", help="lfw, pins")
    s.add_argument("--out", type=Path, required=True, help="folder; point $DMH_PACKS at it there")
    s.add_argument("--min-images", type=int, default=10)
    s.set_defaults(func=cmd_pack)
    s = sub.add_parser("evaluate", help="re-score a trained run on its split")
    s.add_argument("run", help="run name (runs/<name>/) or checkpoint path")
    s.add_argument("--allow-partial", action="store_true", help="accept an unfinished run's checkpoint")
    s.set_defaults(func=cmd_evaluate)
    s = sub.add_parser("encode", help="binary codes of a dataset or folder of faces")
    s.add_argument("run", help="run name (runs/<name>/) or checkpoint path")
    s.add_argument("--allow-partial", action="store_true", help="accept an unfinished run's checkpoint")
    s.add_argument("images", help="lfw, pins, an identity folder or a DDH .pkl")
    s.add_argument("--out", required=True, help="output .npz (codes, labels, keys)")
    s.set_defaults(func=cmd_encode)
    s = sub.add_parser("search", help="rank a folder of faces by Hamming distance to a photo")
    s.add_argument("run", help="run name (runs/<name>/) or checkpoint path")
    s.add_argument("--allow-partial", action="store_true", help="accept an unfinished run's checkpoint")
    s.add_argument("images", help="the gallery: lfw, pins or an identity folder")
    s.add_argument("photo", help="query image file")
    s.add_argument("-k", type=int, default=10)
    s.set_defaults(func=cmd_search)
    s = sub.add_parser("book", help="run the grids the chapters read, execute the chapter "
                       "notebooks and build the HTML book (_build/html)")
    s.add_argument("--profile", default="paper", choices=sorted(PROFILES))
    s.add_argument("--chapters", nargs="+", metavar="STEM",
                   help="execute only these chapters (e.g. data); the build needs every chapter")
    s.add_argument("--no-execute", action="store_true", help="build from the executed book/*.ipynb")
    s.add_argument("--update-notebooks", action="store_true",
                   help="instead: execute notebooks/<stem>.ipynb in place with the quick defaults "
                        "(the outputs nbval checks)")
    s.add_argument("--workers", type=int, default=2, help="grid workers")
    s.add_argument("--toc", type=Path, default=None, help="another _toc.yml (a partial book)")
    s.set_defaults(func=cmd_book)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (FileNotFoundError, ValueError, KeyError) as e:
        print(f"dmh {args.command}: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
