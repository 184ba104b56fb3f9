"""The `closed` protocol of DDH (Lin et al., IJCAI 2017) as seeded split files.

Per identity with >= `min_images` images, `n_queries` images are queries and the rest form
the training set, which is also the retrieval gallery. A validation split for tuning is
carved from the training images only: `n_val_queries` per identity query the remaining
training images. Queries (test and validation) are drawn only from images that have no
near-duplicate in their identity, so near-duplicate groups never straddle query/gallery.
The gallery is stored in a seeded random order: a stable tie-break over a gallery sorted
by identity would bias mAP.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from ..core.atomic import write_json
from ..core.paths import SPLITS_DIR, runs_root
from .datasets import DATASETS, TIGHT_FRACTION, load_dataset
from .dlib_faces import load_aligned
from .faceset import FaceSet
from .near_duplicates import near_duplicate_groups

PARTS = ("query", "gallery", "val_query", "val_gallery")


def make_closed_split(fs: FaceSet, *, dup_view: np.ndarray | None = None, seed: int = 0,
                      n_queries: int = 5, min_images: int = 10, n_val_queries: int = 2,
                      dup_threshold: float = 0.97) -> dict:
    """Split `fs`; near-duplicates are judged on `dup_view` (same rows as `fs`; default its
    own images; for files, the whole frame at 32x32 gray, bilinear)."""
    dup_view = fs.images if dup_view is None else dup_view
    if len(dup_view) != len(fs):
        raise ValueError(f"dup_view has {len(dup_view)} rows, the dataset {len(fs)}")
    counts = np.bincount(fs.labels, minlength=len(fs.identities))
    keep = np.flatnonzero(counts[fs.labels] >= min_images)
    if len(keep) == 0:
        raise ValueError(f"{fs.name}: no identity has >= {min_images} images")
    fs, dup_view = fs.take(keep), dup_view[keep]
    groups, n_pairs = near_duplicate_groups(dup_view, fs.labels, dup_threshold)
    singleton = np.bincount(groups)[groups] == 1
    rng = np.random.default_rng(seed)
    query, val_query, train = [], [], []
    for lab in np.unique(fs.labels):
        idx = np.flatnonzero(fs.labels == lab)
        free = rng.permutation(idx[singleton[idx]])
        need = n_queries + n_val_queries
        if len(free) < need:
            raise ValueError(f"{fs.name}: identity {fs.identities[lab]!r} has only {len(free)} images "
                             f"without near-duplicates, {need} needed for queries")
        query += list(free[:n_queries])
        val_query += list(free[n_queries:need])
        train += sorted(set(idx) - set(free[:n_queries]))
    gallery = rng.permutation(np.array(train))
    val_set = set(val_query)
    ints = lambda ix: [int(i) for i in ix]  # noqa: E731
    split = {
        "dataset": fs.name, "protocol": "closed", "seed": seed, "n_queries": n_queries,
        "min_images": min_images, "n_val_queries": n_val_queries,
        "near_duplicate_threshold": dup_threshold, "near_duplicate_pairs": int(n_pairs),
        "n_identities": int(len(np.unique(fs.labels))), "n_images": len(fs),
        "data_checksum": fs.checksum,
        "index": "positions in the dataset's image list: identity folders with >= min_images "
                 "images, sorted by folder then file name; data_checksum pins that list",
        "query": ints(query), "gallery": ints(gallery), "val_query": ints(val_query),
        "val_gallery": ints([i for i in gallery if i not in val_set]),
    }
    split["split_checksum"] = split_checksum(split)
    return split


def split_checksum(split: dict) -> str:
    h = hashlib.sha256()
    for part in PARTS:
        h.update((",".join(map(str, split[part])) + ";").encode())
    return h.hexdigest()


def split_path(dataset: str, seed: int = 0, checksum: str | None = None) -> Path:
    """lfw/pins: the committed split. Any other folder or pickle: a split in the user's runs
    folder (`$DMH_RUNS/splits`) named by the data's content (`checksum`), so a changed folder
    gets a new split and two folders of one name never share one."""
    if dataset in DATASETS:
        return SPLITS_DIR / f"{dataset}-closed-seed{seed}.json"
    if not checksum:
        raise ValueError(f"the split of {dataset} is named by its content: pass its checksum")
    return runs_root() / "splits" / f"{Path(dataset).name}-{checksum[:12]}-closed-seed{seed}.json"


def _drop_stale_splits(dataset: str, seed: int, keep: Path, log=print) -> None:
    """Remove the splits made from earlier contents of this same folder, saying so."""
    source = str(Path(dataset).resolve())
    for old in keep.parent.glob(f"{Path(dataset).name}-*-closed-seed{seed}.json"):
        if old != keep and json.loads(old.read_text()).get("source") == source:
            old.unlink()
            log(f"{dataset}: its images changed; replaced the split {old.name} by {keep.name}")


def read_checked(path: Path, required, checksum, fix: str) -> dict:
    """A split file whose `required` keys are there and whose `split_checksum` matches
    `checksum(split)`; else a one-line error naming the file and `fix`."""
    try:
        split = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise ValueError(f"cannot read split file {path}: {e}; regenerate it with {fix}") from e
    missing = [p for p in required if p not in split]
    if missing or split.get("split_checksum") != checksum(split):
        raise ValueError(f"split file {path} is incomplete or edited (missing {missing} or checksum "
                         f"mismatch); regenerate it with {fix}")
    return split


def read_split(path: Path) -> dict:
    return read_checked(path, PARTS, split_checksum, "`dmh split DATASET`")


def apply_split(fs: FaceSet, split: dict) -> dict[str, FaceSet]:
    if fs.checksum != split["data_checksum"]:
        raise ValueError(f"{fs.name}: the images differ from those the split was made from "
                         f"(checksum {fs.checksum[:12]} vs {split['data_checksum'][:12]}); check the "
                         f"data against its MANIFEST.sha256 or regenerate the split with `dmh split`")
    return {part: fs.take(np.asarray(split[part], dtype=np.int64)) for part in PARTS}


def _in_crop(dataset: str, face_crop: str, **kw) -> FaceSet:
    """`dataset` as `load_dataset` reads it (`box`), cut tighter (`tight`) or aligned on
    dlib's landmarks (`aligned`, from its aligned pack where there is one)."""
    if face_crop == "box":
        return load_dataset(dataset, **kw)
    if dataset not in DATASETS:
        raise ValueError(f"{dataset}: face_crop {face_crop!r} is defined for {sorted(DATASETS)} only")
    if face_crop == "tight":
        return load_dataset(dataset, crop_fraction=TIGHT_FRACTION, **kw)
    if face_crop == "aligned":
        return load_aligned(dataset, **kw)
    raise ValueError(f"face_crop must be 'box', 'tight' or 'aligned', got {face_crop!r}")


def load_protocol(dataset: str, *, seed: int = 0, size: int = 32, min_images: int = 10,
                  create: bool = True, face_crop: str = "box") -> tuple[dict[str, FaceSet], dict]:
    """The four parts of the closed protocol and the split record (written on first use), in
    `face_crop` (`box`, `tight` or `aligned`: the same images and split in every crop)."""
    fs = _in_crop(dataset, face_crop, size=size, min_images=min_images)
    path = split_path(dataset, seed, fs.checksum)
    if path.exists():
        split = read_split(path)
    elif create:
        view = fs.images
        if not str(dataset).endswith((".pkl", ".pickle")):
            view = load_dataset(dataset, size=32, min_images=min_images, channels=1,
                                full_frame=True).images
        split = make_closed_split(fs, dup_view=view, seed=seed, min_images=min_images)
        if dataset not in DATASETS:
            split["source"] = str(Path(dataset).resolve())
        write_json(path, split)
        if dataset not in DATASETS:
            _drop_stale_splits(dataset, seed, path)
    else:
        raise FileNotFoundError(f"no split file {path}; create it with `dmh split {dataset}`")
    return apply_split(fs, split), split
