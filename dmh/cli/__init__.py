"""`dmh` command line: splits, floors, training, scoring, encoding, search, grids and the book."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .faces import cmd_encode, cmd_pack, cmd_search, cmd_split
from .grids import cmd_book, cmd_grid
from .runs import cmd_evaluate, cmd_floors, cmd_runs, cmd_train, config_options

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


def _run_argument(s: argparse.ArgumentParser) -> None:
    s.add_argument("run", help="run name (runs/<name>/) or checkpoint path")
    s.add_argument("--allow-partial", action="store_true", help="accept an unfinished run's checkpoint")


def _strict_argument(s: argparse.ArgumentParser) -> None:
    s.add_argument("--strict", action="store_true", help="fail on the first image that cannot be "
                   "used (default: skip it, and list every skipped file with its reason)")


def _align_argument(s: argparse.ArgumentParser) -> None:
    s.add_argument("--align", action="store_true", help="detect the largest face of every photo "
                   "and align it on 5 landmarks (dlib), for real photos rather than face crops; "
                   "photos without a usable face are skipped and listed (--strict: fail)")


def build_parser() -> argparse.ArgumentParser:
    from ..experiments.grids import grid_help
    from ..experiments.profiles import PROFILES

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
    _strict_argument(s)
    s.add_argument("--force", action="store_true", help="retrain even if a record exists")
    s.set_defaults(func=cmd_train)
    s = sub.add_parser("grid", help="run named grids of the paper (cached, resumable)",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="grids (ds: lfw, pins):\n" + grid_help())
    s.add_argument("grids", nargs="+", help="grid names, run in the order given")
    s.add_argument("--workers", type=int, default=2)
    s.add_argument("--profile", default="paper", choices=sorted(PROFILES))
    s.add_argument("--device", default="cpu", help="cpu or cuda (records say which)")
    s.add_argument("--stack", type=int, default=1,
                   help="train up to this many runs that differ only in seed, lr or loss weights "
                        "as one model (torch.func vmap; for a GPU: records say so, weights equal "
                        "single runs' up to rounding)")
    s.add_argument("--only", nargs="+", metavar="PREFIX",
                   help="train only the runs whose names start with one of these (e.g. "
                        "dcdh-pins-48b-s1): the same records, the grids' other runs left for later")
    s.add_argument("--channels-last", action="store_true",
                   help="train in torch's channels_last memory format: faster convolutions on the "
                        "CPU; float sums in another order, so not bit-identical to a run without "
                        "it (records say so; a checkpoint resumes only in the layout it began in)")
    s.add_argument("--estimate", action="store_true",
                   help="print what each grid has left to train and its CPU hours; train nothing")
    s.add_argument("--times", type=float, default=1.0,
                   help="with --estimate: price the grids' runs at this multiple of their epochs")
    s.set_defaults(func=cmd_grid)
    s = sub.add_parser("pack", help="write decoded datasets as packs, for machines without the images")
    s.add_argument("datasets", nargs="+", help="lfw, pins")
    s.add_argument("--out", type=Path, required=True, help="folder; point $DMH_PACKS at it there")
    s.add_argument("--min-images", type=int, default=10)
    s.add_argument("--face-crop", choices=("box", "aligned"), default="box",
                   help="aligned: each image's dlib-aligned crop (read where a run's face_crop is "
                        "aligned; the raw images and dlib are then not needed)")
    s.set_defaults(func=cmd_pack)
    s = sub.add_parser("evaluate", help="re-score a trained run on its split")
    _run_argument(s)
    s.set_defaults(func=cmd_evaluate)
    s = sub.add_parser("runs", help="list your runs (dataset, bits, metrics, checkpoint state)")
    s.add_argument("--all", action="store_true", help="also the committed paper runs")
    s.set_defaults(func=cmd_runs)
    s = sub.add_parser("encode", help="binary codes of a dataset or folder of faces")
    _run_argument(s)
    s.add_argument("images", help="lfw, pins, an identity folder or a DDH .pkl")
    s.add_argument("--out", required=True, help="output .npz (codes, labels, keys, identities, run)")
    s.add_argument("--features", action="store_true", help="also the float features (for --ties float)")
    _strict_argument(s)
    _align_argument(s)
    s.set_defaults(func=cmd_encode)
    s = sub.add_parser("search", help="rank a folder of faces (or a saved index) by Hamming "
                       "distance to a photo")
    s.add_argument("run", nargs="?", help="run name (runs/<name>/) or checkpoint path")
    s.add_argument("--allow-partial", action="store_true", help="accept an unfinished run's checkpoint")
    s.add_argument("images", nargs="?", help="the gallery: lfw, pins or an identity folder")
    s.add_argument("photo", nargs="?", help="query image file")
    s.add_argument("--index", help="a saved index (`dmh index build`): dmh search --index IDX PHOTO")
    _strict_argument(s)
    _align_argument(s)
    s.add_argument("-k", type=int, default=10)
    s.add_argument("--codes", help="the gallery's saved codes (`dmh encode ... --features --out`)"
                   " instead of encoding the folder again")
    s.add_argument("--ties", choices=["random", "float"], default="random",
                   help="order inside a Hamming tie: a seeded random permutation (default) or the "
                        "float distance (needs features: the folder, or --codes with --features)")
    s.add_argument("--seed", type=int, default=0, help="seed of the tie permutation")
    s.add_argument("--sheet", help="also write a contact sheet PNG: the query and its top k")
    s.add_argument("--identity", help="the query's person, framed green on the sheet (default: "
                   "the photo's folder name, when the gallery has that identity)")
    s.set_defaults(func=cmd_search)
    from ..index.commands import add_commands

    add_commands(sub)
    s = sub.add_parser("book", help="execute the chapter notebooks on the stored records (the quick "
                       "profile trains the grids they read first) and build the HTML book "
                       "(_build/html)")
    s.add_argument("--profile", default="paper", choices=sorted(PROFILES))
    s.add_argument("--chapters", nargs="+", metavar="STEM",
                   help="execute only these chapters (e.g. data); the build needs every chapter")
    s.add_argument("--no-execute", action="store_true", help="build from the executed book/*.ipynb")
    s.add_argument("--records-only", action="store_true",
                   help="execute the chapters on the records stored now, training nothing (a grid "
                        "still running shows what landed; a missing record names its command)")
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
    # OSError: unreadable, read-only, disk full; ImportError: --align without dlib installed
    except (OSError, ValueError, KeyError, ImportError) as e:
        print(f"dmh {args.command}: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
