"""`dmh` command line: make splits, score the untrained floors, train, evaluate, encode, search."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

DESCRIPTION = """Deep Metric Hashing for face retrieval.

Typical session:
  dmh split pins                         # (committed already) the closed-protocol split
  dmh floors                             # mAP of random codes and pixel LSH: the floor
  dmh train --dataset pins --bits 48     # train DMH, evaluate on the test queries
  dmh evaluate RUN_NAME                  # re-score a trained run
  dmh encode RUN_NAME FOLDER --out c.npz # binary codes of a folder of faces
  dmh search RUN_NAME FOLDER PHOTO.jpg   # rank a folder of faces by a query photo
Data come from $DMH_DATA (see data/README.md)."""


def _table(rows: list[dict], cols: list[str]) -> str:
    fmt = lambda v: f"{v:.4f}" if isinstance(v, float) else str(v)  # noqa: E731
    cells = [[fmt(r[c]) for c in cols] for r in rows]
    widths = [max(len(c), *(len(x[i]) for x in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths))]
    lines += ["  ".join(x.ljust(w) for x, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


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
    from .floors import floors
    from .core.paths import RESULTS_DIR
    from .core.provenance import provenance

    t = time.perf_counter()
    rows = floors(a.datasets, a.bits, a.seed)
    print(_table(rows, ["dataset", "method", "bits", "n_identities", "n_queries", "n_gallery",
                        "map_all", "map_all_stable", "p_at_r2", "p_at_10"]))
    write_json(RESULTS_DIR / "floors.json", {"rows": rows, **provenance(),
                                              "wall_s": round(time.perf_counter() - t, 1)})
    print(f"wrote {RESULTS_DIR / 'floors.json'}")


def _config_from_args(a):
    from .core.config import TrainConfig

    kw = {k: getattr(a, k) for k in ("dataset", "bits", "seed", "eval_split", "epochs", "batch_size",
                                    "lr", "lam", "mu", "trunk", "head", "threads")}
    kw["losses"] = tuple(a.losses.split(","))
    if a.model_kwargs:
        kw["model_kwargs"] = json.loads(a.model_kwargs)
    return TrainConfig(**kw)


def cmd_train(a) -> None:
    from .train import result_path, train

    cfg = _config_from_args(a)
    rec = train(cfg, resume=not a.no_resume, force=a.force, device=a.device)
    m = rec["metrics"]
    print(f"{rec['name']}: mAP@all {m['map_all']:.4f} (stable ties {m['map_all_stable']:.4f}, "
          f"float {m['map_all_float']:.4f}), P@R2 {m['p_at_r2']:.4f}, P@10 {m['precision_at_k']['10']:.4f}; "
          f"train {rec['train_s']} s, {rec['n_parameters']} parameters")
    print(f"record: {result_path(cfg)}")


def cmd_evaluate(a) -> None:
    from .codes import encode_signs
    from .metrics import evaluate_codes
    from .train import encode, load_trained, train_eval_parts

    model, norm, cfg = load_trained(a.run)
    _, query, gallery, _ = train_eval_parts(cfg)
    qc = encode_signs(encode(model, query.images, norm))
    gc = encode_signs(encode(model, gallery.images, norm))
    m = evaluate_codes(qc, gc, query.labels, gallery.labels, cfg.bits)
    m.pop("pr_curve")
    print(json.dumps(m, indent=1))


def cmd_encode(a) -> None:
    import numpy as np

    from .core.atomic import atomic_write
    from .codes import encode_signs
    from .data import load_dataset
    from .train import encode, load_trained

    model, norm, cfg = load_trained(a.run)
    fs = load_dataset(a.images, size=cfg.image_size)
    codes = encode_signs(encode(model, fs.images, norm))
    atomic_write(Path(a.out), lambda f: np.savez(f, codes=codes, labels=fs.labels,
                                                  keys=np.array(fs.keys), n_bits=cfg.bits), mode="wb")
    print(f"{len(fs)} images of {len(fs.identities)} identities -> {a.out} ({cfg.bits}-bit codes)")


def cmd_search(a) -> None:
    import numpy as np

    from .codes import encode_signs
    from .data import DATASETS, Crop, decode_face, load_dataset
    from .retrieval import hamming_topk
    from .train import encode, load_trained

    model, norm, cfg = load_trained(a.run)
    fs = load_dataset(a.images, size=cfg.image_size)
    # the query photo gets the gallery's crop: a named dataset's, else the whole image
    crop = DATASETS[a.images].crop if a.images in DATASETS else Crop()
    query = decode_face(Path(a.photo).read_bytes(), crop, cfg.image_size)[None]
    gcodes = encode_signs(encode(model, fs.images, norm))
    qcodes = encode_signs(encode(model, np.ascontiguousarray(query), norm))
    d, i = hamming_topk(qcodes, gcodes, min(a.k, len(fs)))
    for rank, (dist, idx) in enumerate(zip(d[0], i[0]), 1):
        print(f"{rank:3d}  d={int(dist):2d}  {fs.identities[fs.labels[idx]]:30s}  {fs.keys[idx]}")


def cmd_book(a) -> None:
    from .book import BookError, build_book, update_notebooks

    try:
        if a.update_notebooks:
            update_notebooks(a.chapters, toc=a.toc)
        else:
            build_book(a.profile, a.chapters, execute=not a.no_execute, toc=a.toc)
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


def cmd_grid(a) -> None:
    """Consecutive grids share one pool (no drain between them); `choose-<ds>` runs alone."""
    from .experiments import choose, grid, profile, run_grid

    batch: list[str] = []

    def flush() -> None:
        configs = list({c.name(): c for name in batch for c in grid(name, a.profile)}.values())
        label = "+".join(batch)
        run_grid(configs, workers=a.workers, results_dir=profile(a.profile).results_dir,
                 device=a.device, log=lambda s: print(f"[{time.strftime('%H:%M:%S')}] {label}: {s}",
                                                      flush=True))
        batch.clear()

    for name in a.grids:
        if name.startswith("choose-"):
            if batch:
                flush()
            out = choose(name.split("-", 1)[1])
            print(f"{name}: chose {out['chosen']}", flush=True)
        else:
            batch.append(name)
    if batch:
        flush()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dmh", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("split", help="make (or check) the closed-protocol split of a dataset")
    s.add_argument("dataset", help="lfw, pins, an identity folder or a DDH .pkl")
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(func=cmd_split)
    s = sub.add_parser("floors", help="mAP of random codes and pixel LSH (no training)")
    s.add_argument("--datasets", nargs="+", default=["lfw", "pins"])
    s.add_argument("--bits", nargs="+", type=int, default=[12, 24, 36, 48])
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(func=cmd_floors)
    s = sub.add_parser("train", help="train DMH on a dataset and score it (cached by config)")
    s.add_argument("--dataset", default="pins")
    s.add_argument("--bits", type=int, default=48)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--eval-split", default="test", choices=["test", "val"],
                   help="val: tune on training images only; test: the reported protocol")
    from .core.config import TrainConfig
    d = TrainConfig()
    s.add_argument("--epochs", type=int, default=d.epochs)
    s.add_argument("--batch-size", type=int, default=d.batch_size)
    s.add_argument("--lr", type=float, default=d.lr)
    s.add_argument("--lam", type=float, default=d.lam, help="center-loss weight")
    s.add_argument("--mu", type=float, default=d.mu, help="quantization-loss weight")
    s.add_argument("--losses", default="softmax,center,quantization")
    s.add_argument("--trunk", default="dense", choices=["dense", "plain"])
    s.add_argument("--head", default="conv_gap", choices=["conv_gap", "fc"])
    s.add_argument("--model-kwargs", default="", help='JSON, e.g. \'{"growth_rate": 16}\'')
    s.add_argument("--threads", type=int, default=d.threads)
    s.add_argument("--device", default="cpu")
    s.add_argument("--no-resume", action="store_true", help="ignore an existing checkpoint")
    s.add_argument("--force", action="store_true", help="retrain even if a result exists")
    s.set_defaults(func=cmd_train)
    s = sub.add_parser("grid", help="train named grids of runs (cached, resumable)")
    s.add_argument("grids", nargs="+", help="sweep-<ds>, choose-<ds>, main-<ds>, ablation-<ds>, "
                   "budget-<ds> (ds: lfw, pins), run in the order given")
    s.add_argument("--workers", type=int, default=2)
    s.add_argument("--profile", default="paper", choices=["paper", "quick"])
    s.add_argument("--device", default="cpu", help="cpu or cuda (records say which)")
    s.set_defaults(func=cmd_grid)
    s = sub.add_parser("pack", help="write decoded datasets as packs, for machines without the images")
    s.add_argument("datasets", nargs="+", help="lfw, pins")
    s.add_argument("--out", type=Path, required=True, help="folder; point $DMH_PACKS at it there")
    s.add_argument("--min-images", type=int, default=10)
    s.set_defaults(func=cmd_pack)
    s = sub.add_parser("evaluate", help="score a trained run on its split")
    s.add_argument("run", help="run name (runs/<name>/) or checkpoint path")
    s.set_defaults(func=cmd_evaluate)
    s = sub.add_parser("encode", help="binary codes of a dataset or folder of faces")
    s.add_argument("run")
    s.add_argument("images", help="lfw, pins, an identity folder or a DDH .pkl")
    s.add_argument("--out", required=True, help="output .npz (codes, labels, keys)")
    s.set_defaults(func=cmd_encode)
    s = sub.add_parser("search", help="rank a folder of faces by Hamming distance to a photo")
    s.add_argument("run")
    s.add_argument("images", help="the gallery: lfw, pins or an identity folder")
    s.add_argument("photo", help="query image file")
    s.add_argument("-k", type=int, default=10)
    s.set_defaults(func=cmd_search)
    s = sub.add_parser("book", help="execute the chapter notebooks and build the HTML book (_build/html)")
    s.add_argument("--profile", default="paper", choices=["quick", "paper"])
    s.add_argument("--chapters", nargs="+", metavar="STEM",
                   help="execute only these chapters (e.g. data); the build needs every chapter")
    s.add_argument("--no-execute", action="store_true", help="build from the executed book/*.ipynb")
    s.add_argument("--update-notebooks", action="store_true",
                   help="instead: execute notebooks/<stem>.ipynb in place with the quick defaults "
                        "(the outputs nbval checks)")
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
