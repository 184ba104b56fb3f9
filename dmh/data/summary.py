"""What the data chapter shows: counts per dataset, split sizes, example crops.

Display-free (no pandas, no matplotlib): the notebook turns these dicts into tables and
figures, the tests check them on a folder they make.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.paths import data_root
from .datasets import DATASETS
from .faceset import FaceSet
from .identity_folder import scan_identity_folder
from .splits import PARTS


def _root_and_namer(name_or_path: str):
    if name_or_path in DATASETS:
        spec = DATASETS[name_or_path]
        return data_root() / spec.subdir, spec.identity_name
    return Path(name_or_path), (lambda d: d)


def dataset_summary(name_or_path: str, min_images: int = 10) -> dict:
    """Identities and images of `lfw`, `pins` or a folder `<root>/<identity>/<image>`,
    all of them and those of identities with >= `min_images` images.

    Only lists the files (no decoding). `images_per_identity` maps identity -> image count,
    sorted by identity name.
    """
    root, namer = _root_and_namer(name_or_path)
    items = scan_identity_folder(root, namer)
    per_id: dict[str, int] = {}
    for _, ident in items:
        per_id[ident] = per_id.get(ident, 0) + 1
    per_id = dict(sorted(per_id.items()))
    big = {k: v for k, v in per_id.items() if v >= min_images}
    return {"dataset": Path(name_or_path).name if name_or_path not in DATASETS else name_or_path,
            "n_identities": len(per_id), "n_images": sum(per_id.values()),
            "min_images": min_images,
            "n_identities_min": len(big), "n_images_min": sum(big.values()),
            "images_per_identity": per_id}


def split_summary(split: dict, digits: int = 16) -> dict:
    """Sizes of the four parts of a closed-protocol split record, its near-duplicate pair
    count and the first `digits` hex digits of the split and data checksums."""
    out = {"dataset": split["dataset"], "n_identities": split["n_identities"],
           "n_images": split["n_images"]}
    out |= {f"n_{part}": len(split[part]) for part in PARTS}
    out |= {"near_duplicate_pairs": split["near_duplicate_pairs"],
            "split_checksum": split["split_checksum"][:digits],
            "data_checksum": split["data_checksum"][:digits]}
    return out


def example_grid(fs: FaceSet, n_ids: int, n_per_id: int, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """`n_ids` random identities with >= `n_per_id` images, `n_per_id` random images each.

    Returns images (n_ids, n_per_id, S, S, C) uint8 (channels last, ready for imshow) and
    the identity names, one per row; identities in name order, images in dataset order.
    """
    counts = np.bincount(fs.labels, minlength=len(fs.identities))
    eligible = np.flatnonzero(counts >= n_per_id)
    if len(eligible) < n_ids:
        raise ValueError(f"{fs.name}: only {len(eligible)} identities have >= {n_per_id} images, "
                         f"{n_ids} asked for")
    rng = np.random.default_rng(seed)
    labels = np.sort(rng.choice(eligible, size=n_ids, replace=False))
    rows = []
    for lab in labels:
        idx = np.sort(rng.choice(np.flatnonzero(fs.labels == lab), size=n_per_id, replace=False))
        rows.append(fs.images[idx])
    images = np.stack(rows).transpose(0, 1, 3, 4, 2)
    return np.ascontiguousarray(images), [fs.identities[lab] for lab in labels]
