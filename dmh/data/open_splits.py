"""Open-set protocols (issue "Unseen people and real photos") as seeded split files.

The closed protocol (`splits.py`) queries people the model was trained on. These protocols
retrieve people it has never seen:

- `open-lfw`: train on every image of the LFW identities with >= 10 images (the closed
  protocol's 158 people); each identity with 2-9 images gives one query (seeded) and its other
  images to the gallery; every single-image identity is a gallery distractor.
- `open-pins`: train on 70 of the 105 Pins identities (seeded); each of the other 35 gives 5
  queries (seeded), the rest of its images form the gallery.
- `cross-pins-lfw`: train on all of Pins, retrieve on open-lfw's queries and gallery.
- `cross-lfw-pins`: train on LFW (>= 10 images), retrieve on the closed Pins queries with the
  whole rest of Pins (the closed Pins gallery) as gallery.

Queries are drawn, as in the closed protocol, only from images without a near-duplicate in
their identity (Pearson >= 0.97 on whole-frame 32x32 gray), so no query has a twin in the
gallery. An open-lfw identity whose images are all near-duplicates of one another gives no
query: its images stay in the gallery as distractors (the file records how many).

A split file holds, per part (`train`, `query`, `gallery`), positions into one dataset view:
`views[part]` names the dataset, its `min_images` filter (positions index the image list of
`load_dataset(dataset, min_images=...)`) and that list's `data_checksum`. The cross files
are self-contained copies of the lists they share with `open-lfw` and the closed Pins split;
`derived_from` names those files and their `split_checksum`s, and regeneration checks them.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from ..core.atomic import write_json
from ..core.paths import SPLITS_DIR
from .datasets import load_dataset
from .faceset import FaceSet
from .near_duplicates import near_duplicate_groups
from .splits import read_checked, read_split, split_path

OPEN_PARTS = ("train", "query", "gallery")
PROTOCOLS = ("open-lfw", "open-pins", "cross-pins-lfw", "cross-lfw-pins")
DUP_THRESHOLD = 0.97


def _ints(ix) -> list[int]:
    return [int(i) for i in ix]


def view_record(fs: FaceSet, dataset: str, min_images: int) -> dict:
    return {"dataset": dataset, "min_images": int(min_images), "data_checksum": fs.checksum,
            "n_images": len(fs), "n_identities": len(fs.identities)}


def open_split_checksum(split: dict) -> str:
    """sha256 over each part's view (dataset, min_images, data_checksum) and index list."""
    h = hashlib.sha256()
    for part in OPEN_PARTS:
        v = split["views"][part]
        h.update(f"{part}:{v['dataset']}:{v['min_images']}:{v['data_checksum']}:".encode())
        h.update((",".join(map(str, split[part])) + ";").encode())
    return h.hexdigest()


def _free_images(fs: FaceSet, dup_view: np.ndarray | None,
                 threshold: float) -> tuple[np.ndarray, int]:
    """Per image: True when it has no near-duplicate in its identity; and the pair count."""
    dup_view = fs.images if dup_view is None else dup_view
    if len(dup_view) != len(fs):
        raise ValueError(f"dup_view has {len(dup_view)} rows, the dataset {len(fs)}")
    groups, n_pairs = near_duplicate_groups(dup_view, fs.labels, threshold)
    return np.bincount(groups)[groups] == 1, int(n_pairs)


def _finish(split: dict, labels_of: dict[str, np.ndarray]) -> dict:
    """Add the counts (distractors: gallery images whose identity has no query) and checksum."""
    counts = {}
    for part in OPEN_PARTS:
        lab = labels_of[part][np.asarray(split[part], dtype=np.int64)]
        counts[part] = {"identities": int(len(np.unique(lab))), "images": int(len(lab))}
    q_lab = labels_of["query"][np.asarray(split["query"], dtype=np.int64)]
    g_lab = labels_of["gallery"][np.asarray(split["gallery"], dtype=np.int64)]
    distract = ~np.isin(g_lab, q_lab)
    counts["distractors"] = {"identities": int(len(np.unique(g_lab[distract]))),
                             "images": int(distract.sum())}
    split["counts"] = counts
    split["split_checksum"] = open_split_checksum(split)
    return split


def make_open_split_by_count(fs: FaceSet, *, dataset: str, min_images: int = 1,
                             dup_view: np.ndarray | None = None, seed: int = 0,
                             train_min: int = 10, n_queries: int = 1,
                             dup_threshold: float = DUP_THRESHOLD) -> dict:
    """open-lfw: identities with >= `train_min` images train; those with 2..train_min-1 give
    `n_queries` queries each (seeded, near-duplicate-free), the rest to the gallery; identities
    with fewer than n_queries + 1 images are distractors. `fs` is the view
    `load_dataset(dataset, min_images=min_images)`; positions refer to it."""
    free, n_pairs = _free_images(fs, dup_view, dup_threshold)
    counts = np.bincount(fs.labels, minlength=len(fs.identities))
    rng = np.random.default_rng(seed)
    train, query, gallery, no_query = [], [], [], 0
    for lab in np.unique(fs.labels):
        idx = np.flatnonzero(fs.labels == lab)
        if counts[lab] >= train_min:
            train += list(idx)
            continue
        if counts[lab] <= n_queries:
            gallery += list(idx)  # distractor
            continue
        cand = rng.permutation(idx[free[idx]])
        if len(cand) < n_queries:  # every image has a twin: no query, the images distract
            no_query += 1
            gallery += list(idx)
            continue
        query += sorted(cand[:n_queries])
        gallery += sorted(set(idx) - set(cand[:n_queries]))
    if not train or not query:
        raise ValueError(f"{fs.name}: the open split needs identities with >= {train_min} images "
                         f"and identities with {n_queries + 1}-{train_min - 1} images")
    view = view_record(fs, dataset, min_images)
    split = {
        "protocol": "open-lfw" if dataset == "lfw" else f"open-{fs.name}", "seed": seed,
        "rule": f"train: identities with >= {train_min} images; query: {n_queries} per identity "
                f"with {n_queries + 1}-{train_min - 1} images; gallery: their other images and "
                f"every identity with <= {n_queries} images (distractors)",
        "train_min": train_min, "n_queries": n_queries,
        "near_duplicate_threshold": dup_threshold, "near_duplicate_pairs": n_pairs,
        "identities_without_free_query": no_query,
        "views": {p: view for p in OPEN_PARTS},
        "train": _ints(train), "query": _ints(query), "gallery": _ints(rng.permutation(gallery)),
    }
    return _finish(split, {p: fs.labels for p in OPEN_PARTS})


def make_open_split_by_identity(fs: FaceSet, *, dataset: str, min_images: int = 1,
                                dup_view: np.ndarray | None = None, seed: int = 0,
                                n_train_identities: int = 70, n_queries: int = 5,
                                dup_threshold: float = DUP_THRESHOLD) -> dict:
    """open-pins: `n_train_identities` identities (seeded) train on all their images; each
    other identity gives `n_queries` queries (seeded, near-duplicate-free), the rest gallery."""
    free, n_pairs = _free_images(fs, dup_view, dup_threshold)
    ids = np.unique(fs.labels)
    if not 0 < n_train_identities < len(ids):
        raise ValueError(f"{fs.name}: {len(ids)} identities, cannot train on {n_train_identities} "
                         f"and keep some unseen")
    rng = np.random.default_rng(seed)
    order = rng.permutation(ids)
    train_ids, test_ids = set(order[:n_train_identities]), sorted(order[n_train_identities:])
    train = np.flatnonzero(np.isin(fs.labels, list(train_ids)))
    query, gallery = [], []
    for lab in test_ids:
        idx = np.flatnonzero(fs.labels == lab)
        cand = rng.permutation(idx[free[idx]])
        if len(cand) < n_queries or len(idx) <= n_queries:
            raise ValueError(f"{fs.name}: identity {fs.identities[lab]!r} has {len(cand)} images "
                             f"without near-duplicates ({len(idx)} in all); {n_queries} queries "
                             f"and a gallery image needed")
        query += sorted(cand[:n_queries])
        gallery += sorted(set(idx) - set(cand[:n_queries]))
    view = view_record(fs, dataset, min_images)
    split = {
        "protocol": "open-pins" if dataset == "pins" else f"open-{fs.name}", "seed": seed,
        "rule": f"train: {n_train_identities} identities (seeded) with all their images; each "
                f"other identity: {n_queries} queries (seeded), the rest gallery",
        "n_train_identities": n_train_identities, "n_queries": n_queries,
        "near_duplicate_threshold": dup_threshold, "near_duplicate_pairs": n_pairs,
        "train_identities": sorted(fs.identities[i] for i in train_ids),
        "views": {p: view for p in OPEN_PARTS},
        "train": _ints(train), "query": _ints(query), "gallery": _ints(rng.permutation(gallery)),
    }
    return _finish(split, {p: fs.labels for p in OPEN_PARTS})


def make_cross_split(protocol: str, train_fs: FaceSet, train_view: dict, source: dict,
                     source_name: str, labels_of_source: np.ndarray) -> dict:
    """Train on every image of `train_fs`; query/gallery copied from split `source` (an open
    split or a closed one, whose `query`/`gallery` index one view)."""
    src_view = source["views"]["query"] if "views" in source else {
        "dataset": source["dataset"], "min_images": source["min_images"],
        "data_checksum": source["data_checksum"], "n_images": source["n_images"],
        "n_identities": source["n_identities"]}
    split = {
        "protocol": protocol, "seed": source["seed"],
        "rule": f"train: all of {train_view['dataset']} (min_images={train_view['min_images']}); "
                f"query and gallery: those of {source_name}",
        "derived_from": {"query": source_name, "gallery": source_name,
                         "split_checksum": source["split_checksum"]},
        "views": {"train": train_view, "query": src_view, "gallery": src_view},
        "train": list(range(len(train_fs))), "query": list(source["query"]),
        "gallery": list(source["gallery"]),
    }
    return _finish(split, {"train": train_fs.labels, "query": labels_of_source,
                           "gallery": labels_of_source})


def open_split_path(name: str, seed: int = 0) -> Path:
    if name not in PROTOCOLS:
        raise ValueError(f"unknown open protocol {name!r}: use one of {PROTOCOLS}")
    return SPLITS_DIR / f"{name}-seed{seed}.json"


def read_open_split(path: Path) -> dict:
    return read_checked(path, (*OPEN_PARTS, "views"), open_split_checksum,
                        "dmh.data.open_splits.write_open_splits()")


def apply_open_split(split: dict, views: dict[tuple[str, int], FaceSet]) -> dict[str, FaceSet]:
    """The parts of `split`, each taken from its view in `views` ((dataset, min_images) -> set);
    refuses a view whose images differ from those the split was made from."""
    parts = {}
    for part in OPEN_PARTS:
        v = split["views"][part]
        fs = views[(v["dataset"], v["min_images"])]
        if fs.checksum != v["data_checksum"]:
            raise ValueError(f"{fs.name} (min_images={v['min_images']}): the images differ from "
                             f"those the split {split['protocol']} was made from (checksum "
                             f"{fs.checksum[:12]} vs {v['data_checksum'][:12]}); check the data "
                             f"against its MANIFEST.sha256 or regenerate the split")
        parts[part] = fs.take(np.asarray(split[part], dtype=np.int64))
    return parts


def load_open_protocol(name: str, size: int = 32, *, seed: int = 0
                       ) -> tuple[dict[str, FaceSet], dict]:
    """The parts {train, query, gallery} of a committed open/cross protocol and its record."""
    split = read_open_split(open_split_path(name, seed))
    keys = {(v["dataset"], v["min_images"]) for v in split["views"].values()}
    views = {k: load_dataset(k[0], size=size, min_images=k[1]) for k in sorted(keys)}
    return apply_open_split(split, views), split


# --- making the committed files from the shared data -------------------------------------

def _views(dataset: str, min_images: int) -> tuple[FaceSet, np.ndarray]:
    fs = load_dataset(dataset, min_images=min_images)
    dup = load_dataset(dataset, min_images=min_images, channels=1, full_frame=True).images
    return fs, dup


def make_open_splits(seed: int = 0, log=print) -> dict[str, dict]:
    """All four protocols from the data under $DMH_DATA (cross uses the closed Pins split)."""
    lfw1, lfw1_dup = _views("lfw", 1)
    open_lfw = make_open_split_by_count(lfw1, dataset="lfw", min_images=1, dup_view=lfw1_dup,
                                        seed=seed)
    log(f"open-lfw: {open_lfw['counts']}")
    pins, pins_dup = _views("pins", 10)
    open_pins = make_open_split_by_identity(pins, dataset="pins", min_images=10,
                                            dup_view=pins_dup, seed=seed)
    log(f"open-pins: {open_pins['counts']}")
    lfw10 = load_dataset("lfw", min_images=10)
    closed_pins = read_split(split_path("pins", seed))
    if closed_pins["data_checksum"] != pins.checksum:
        raise ValueError("pins: the closed split was made from other images; regenerate it first")
    cross_pl = make_cross_split("cross-pins-lfw", pins, view_record(pins, "pins", 10), open_lfw,
                                open_split_path("open-lfw", seed).name, lfw1.labels)
    cross_lp = make_cross_split("cross-lfw-pins", lfw10, view_record(lfw10, "lfw", 10),
                                closed_pins, split_path("pins", seed).name, pins.labels)
    for s in (cross_pl, cross_lp):
        log(f"{s['protocol']}: {s['counts']}")
    return {"open-lfw": open_lfw, "open-pins": open_pins, "cross-pins-lfw": cross_pl,
            "cross-lfw-pins": cross_lp}


def write_open_splits(seed: int = 0, log=print) -> list[Path]:
    paths = []
    for name, split in make_open_splits(seed, log).items():
        path = open_split_path(name, seed)
        write_json(path, split)
        paths.append(path)
    return paths


def counts_table(splits: dict[str, dict]) -> str:
    """Markdown table of identities/images per part (for data/README.md)."""
    rows = ["| protocol | train ids / images | query ids / images | gallery ids / images "
            "| distractor ids / images |", "|---|---|---|---|---|"]
    for name, s in splits.items():
        c = s["counts"]
        cell = lambda k: f"{c[k]['identities']} / {c[k]['images']}"  # noqa: E731
        rows.append(f"| `{name}` | {cell('train')} | {cell('query')} | {cell('gallery')} "
                    f"| {cell('distractors')} |")
    return "\n".join(rows)


if __name__ == "__main__":  # python -m dmh.data.open_splits
    written = write_open_splits()
    print("\n".join(map(str, written)))
    print(counts_table({p: read_open_split(open_split_path(p)) for p in PROTOCOLS}))
