"""`dmh index build|add|search` and the search behind `dmh search --index IDX PHOTO`.

`dmh/cli` registers these with :func:`add_commands` and calls :func:`search_index` (or
:func:`cmd_search_index` from its own `search`); errors are one-line ValueErrors or
FileNotFoundErrors, which the CLI prints as ``dmh index: error: ...``.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from ..ranking import TopK


@dataclass(frozen=True)
class Found:
    """A photo's nearest faces in an index.

    Args:
        top: distances, face ids, how ties were ordered and how many tie at the cut-off.
        identities: identity of each face listed.
        keys: source path of each face listed.
    """

    top: TopK
    identities: list[str]
    keys: list[str]


def _ties(sources: list[dict]) -> str:
    if len(sources) == 1:
        order = sources[0]["order"]
        return ("in folder order" if order == "folder" else
                f"by a seeded random permutation of the gallery ({order}, fixed at build)")
    return ("by face id: each added folder in its own order ("
            + "; ".join(s["order"] for s in sources) + "), earlier additions first")


def search_index(idx_path: str | Path, photo: str | Path, k: int = 10,
                 backend: str = "flat") -> Found:
    """The k faces of the index at ``idx_path`` nearest to ``photo``, ranked by (Hamming
    distance, face id) with the index's own run encoding the photo."""
    import numpy as np

    from .build import encode_photo
    from .faceindex import index_backend
    from .format import load_index

    path = Path(idx_path)
    index = load_index(path)
    query = encode_photo(index, path, str(photo))
    engine = index_backend(index, backend)
    dist, ids = engine.search(query, min(int(k), len(index)))
    dist, ids = dist[0], ids[0]
    cutoff = int(dist[-1])
    at_cutoff = engine.search_radius(query, cutoff)[0][0]
    top = TopK(dist, ids, _ties(index.sources), int(np.sum(at_cutoff == cutoff)),
               int(np.sum(dist == cutoff)))
    return Found(top, [index.identity(i) for i in ids], [index.keys[i] for i in ids])


def found_lines(found: Found) -> list[str]:
    """What `dmh search` prints: the ties line, then rank, distance, identity, key."""
    t = found.top
    lines = [f"ties at equal Hamming distance are ordered {t.ties}; {t.tied_at_cutoff} gallery "
             f"items are at the cut-off distance {int(t.distance[-1])}, {t.shown_at_cutoff} of "
             f"them shown"]
    return lines + [f"{rank:3d}  d={int(d):2d}  {who:30s}  {key}" for rank, (d, who, key)
                    in enumerate(zip(t.distance, found.identities, found.keys), 1)]


def cmd_search_index(a) -> None:
    """`dmh search --index IDX PHOTO`: the one positional given is the photo."""
    given = [x for x in (getattr(a, "run", None), getattr(a, "images", None),
                         getattr(a, "photo", None)) if x]
    if len(given) != 1:
        raise ValueError("dmh search --index IDX PHOTO takes the photo only (the index names "
                         "its run and gallery)")
    print("\n".join(found_lines(search_index(a.index, given[0], a.k))))


def cmd_index_build(a) -> None:
    from .build import build_index
    from .format import save_index

    if a.out.is_dir():
        raise ValueError(f"--out {a.out} is a folder: give a file name, e.g. {a.out / 'faces.npz'}")
    index = build_index(a.run, a.images, seed=None if a.folder_order else a.seed,
                        allow_partial=a.allow_partial)
    save_index(index, a.out)
    print(f"{len(index)} faces of {len(index.identities)} identities -> {a.out} "
          f"({index.n_bits}-bit codes of run {index.config_name}; "
          f"{a.out.stat().st_size / 2**20:.1f} MiB)")


def cmd_index_add(a) -> None:
    from .build import add_images
    from .format import load_index, save_index

    index = load_index(a.index)
    grown = add_images(index, a.index, a.images, seed=None if a.folder_order else a.seed,
                       allow_partial=a.allow_partial)
    save_index(grown, a.index)
    print(f"added {len(grown) - len(index)} faces of {a.images} -> {a.index} "
          f"({len(grown)} faces, {len(grown.identities)} identities)")


def cmd_index_search(a) -> None:
    print("\n".join(found_lines(search_index(a.index, a.photo, a.k, backend=a.backend))))


def _order_options(s: argparse.ArgumentParser) -> None:
    s.add_argument("--seed", type=int, default=0,
                   help="the folder's faces get ids (which order ties) in this seeded permutation")
    s.add_argument("--folder-order", action="store_true", help="ids in folder order instead")
    s.add_argument("--allow-partial", action="store_true", help="accept an unfinished run's checkpoint")


def add_commands(subparsers) -> None:
    """Register `dmh index build RUN FOLDER --out IDX`, `dmh index add IDX FOLDER` and
    `dmh index search IDX PHOTO` on the `dmh` command's subparsers."""
    p = subparsers.add_parser("index", help="a saved, searchable index of a gallery's codes "
                              "(build, add, search)")
    sub = p.add_subparsers(dest="index_command", required=True)
    s = sub.add_parser("build", help="encode a folder with a run and save its index")
    s.add_argument("run", help="run name (runs/<name>/) or checkpoint path")
    s.add_argument("images", help="the gallery: lfw, pins, an identity folder or a DDH .pkl")
    s.add_argument("--out", type=Path, required=True, help="index file to write (.npz)")
    _order_options(s)
    s.set_defaults(func=cmd_index_build)
    s = sub.add_parser("add", help="encode more faces with the index's run and add them")
    s.add_argument("index", type=Path, help="an index made by `dmh index build`")
    s.add_argument("images", help="lfw, pins, an identity folder or a DDH .pkl")
    _order_options(s)
    s.set_defaults(func=cmd_index_add)
    s = sub.add_parser("search", help="rank an index's faces by Hamming distance to a photo")
    s.add_argument("index", type=Path, help="an index made by `dmh index build`")
    s.add_argument("photo", help="query image file")
    s.add_argument("-k", type=int, default=10)
    s.add_argument("--backend", default="flat", choices=["flat", "hash", "multihash", "scan", "mih"],
                   help="flat: exhaustive, faiss (default); hash, multihash: faiss, sub-linear, "
                        "approximate; scan: exhaustive, dmh's C kernel; mih: exact multi-index "
                        "hashing, sub-linear (scan and mih compile on first use, need gcc)")
    s.set_defaults(func=cmd_index_search)
