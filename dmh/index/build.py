"""Faces in, codes out: build an index from a trained run and a folder, add folders, and
encode a query photo with the index's own run.

The faces of a folder get their ids in a seeded random permutation (``seed``, default 0)
unless ``folder_order``: ids decide ties, and folder order is alphabetical by identity,
which would put the same names first in every tie. With one folder and seed s the ranking
equals ``dmh search RUN FOLDER PHOTO --seed s`` (:func:`dmh.ranking.top_k`).
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from ..data import DATASETS, Crop, decode_face, load_dataset
from ..run.checkpoint import find_checkpoint, load_trained
from ..run.encode import encode
from .faceindex import FaceIndex, add_faces, empty_index


def run_reference(run: str) -> str:
    """What an index stores to find its run again: a checkpoint's absolute path, or the name."""
    return str(Path(run).resolve()) if Path(run).is_file() else run


def weights_sha256(run: str) -> str:
    """sha256 of the checkpoint file of ``run`` (the exact weights, not only the config)."""
    return hashlib.sha256(find_checkpoint(run).read_bytes()).hexdigest()


def tie_order(n: int, seed: int | None) -> np.ndarray:
    """Folder positions in id order: ``argsort(permutation(n))`` of ``default_rng(seed)``, so
    the face with permutation value j gets id j (as ``dmh.ranking.top_k`` breaks ties);
    ``seed=None``: folder order."""
    if seed is None:
        return np.arange(n)
    return np.argsort(np.random.default_rng(seed).permutation(n), kind="stable")


def _add_folder(index: FaceIndex, model, norm, image_size: int, images: str,
                seed: int | None, partial: bool) -> FaceIndex:
    fs = load_dataset(images, size=image_size)
    order = tie_order(len(fs), seed)
    codes = encode(model, fs.images[order], norm).codes
    source = dict(images=str(images), name=fs.name, checksum=fs.checksum,
                  order="folder" if seed is None else f"seed {seed}", partial_run=partial)
    return add_faces(index, codes, [fs.keys[i] for i in order], fs.labels[order],
                     fs.identities, source)


def build_index(run: str, images: str, *, seed: int | None = 0,
                allow_partial: bool = False) -> FaceIndex:
    """An index of the faces of ``images`` (a folder, lfw, pins or a DDH .pkl) under ``run``."""
    model, norm, cfg = load_trained(run, allow_partial=allow_partial)
    index = empty_index(cfg.bits, run_reference(run), cfg.key(), cfg.name(), weights_sha256(run))
    return _add_folder(index, model, norm, cfg.image_size, images, seed, allow_partial)


def index_run(index: FaceIndex, path: Path, *, allow_partial: bool = False):
    """(model, normalizer, config) of the run an index was built with, checked to be the
    same weights (an unfinished run's checkpoint is accepted if the index was built so)."""
    partial = allow_partial or any(s.get("partial_run") for s in index.sources)
    model, norm, cfg = load_trained(index.run, allow_partial=partial)
    fix = f"rebuild the index with `dmh index build RUN FOLDER --out {path}`"
    if cfg.key() != index.config_key:
        raise ValueError(f"{path}: built with run {index.config_name} (config {index.config_key}) "
                         f"but {index.run} is now run {cfg.name()}; {fix}")
    if weights_sha256(index.run) != index.weights_sha256:
        raise ValueError(f"{path}: the weights of run {index.config_name} changed since the index "
                         f"was built (retrained?), so new codes would not match its codes; {fix}")
    return model, norm, cfg


def add_images(index: FaceIndex, path: Path, images: str, *, seed: int | None = 0,
               allow_partial: bool = False) -> FaceIndex:
    """``index`` (saved at ``path``) with the faces of ``images`` appended, same run."""
    model, norm, cfg = index_run(index, path, allow_partial=allow_partial)
    return _add_folder(index, model, norm, cfg.image_size, images, seed, allow_partial)


def encode_photo(index: FaceIndex, path: Path, photo: str, *,
                 allow_partial: bool = False) -> np.ndarray:
    """(1, B) packed code of a photo, cropped as the index's first source was."""
    if not Path(photo).is_file() or Path(photo).stat().st_size == 0:
        raise ValueError(f"query photo {photo}: not a file, or empty; give an image file")
    model, norm, cfg = index_run(index, path, allow_partial=allow_partial)
    first = index.sources[0]["images"] if index.sources else ""
    crop = DATASETS[first].crop if first in DATASETS else Crop()
    try:
        face = decode_face(Path(photo).read_bytes(), crop, cfg.image_size)[None]
    except ValueError as e:
        raise ValueError(f"query photo {photo}: {e}") from None
    return encode(model, np.ascontiguousarray(face), norm).codes
