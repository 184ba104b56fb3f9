"""The datasets dmh knows by name, and `load_dataset` for a name, a folder or a DDH pickle."""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from ..core.paths import data_root
from .ddh_pickle import load_ddh_pickle
from .faceset import FaceSet
from .identity_folder import load_identity_folder
from .pack import packed
from .preprocess import Crop


@dataclass(frozen=True)
class DatasetSpec:
    subdir: str
    crop: Crop
    identity_name: Callable[[str], str]
    source: str


def _strip_pins(d: str) -> str:
    return d[len("pins_"):] if d.startswith("pins_") else d


DATASETS: dict[str, DatasetSpec] = {
    # LFW-a style 250x250 aligned: the inner face sits around the centre.
    "lfw": DatasetSpec("lfw/lfw", Crop(box=(68, 68, 182, 182)), lambda d: d,
                       "LFW public release (scikit-learn's fetch_lfw_people downloads it)"),
    # Pins: loose crops with a little margin, not aligned.
    "pins": DatasetSpec("pins", Crop(center_fraction=0.85), _strip_pins,
                        "Kaggle 'Pins Face Recognition' (hereisburak/pins-face-recognition)"),
}


def load_dataset(name_or_path: str, *, size: int = 32, min_images: int = 1, channels: int = 3,
                 full_frame: bool = False, use_cache: bool = True, strict: bool = False,
                 crop_fraction: float = 1.0) -> FaceSet:
    """Load `lfw`, `pins`, a folder `<root>/<identity>/<image>`, or a DDH `(x, y)` pickle.

    `full_frame=True` skips the face crop and resizes the whole image bilinearly: the view
    near-duplicates are judged on. `crop_fraction` < 1 cuts a named dataset's faces tighter:
    the centred fraction of its crop (`Crop.tighter`). A named dataset is read from its pack
    when `$DMH_PACKS` holds one for these settings (`dmh pack`, its own crop only; machines
    without the raw images).

    A folder's files that are not usable images are skipped, listed in `FaceSet.skipped` and
    summed up on stderr; `strict=True` raises ValueError on the first, naming it.
    """
    frame = dict(crop=Crop(center_fraction=None), resample="bilinear") if full_frame else {}
    if name_or_path in DATASETS:
        spec = DATASETS[name_or_path]
        own = crop_fraction == 1
        fs = packed(name_or_path, size, channels, min_images) if own and not full_frame else None
        if fs is not None:
            return fs
        root = data_root() / spec.subdir
        if not root.is_dir():
            raise FileNotFoundError(
                f"{name_or_path}: folder {root} not found. Get it from the {spec.source}, put it "
                f"at $DMH_DATA/{spec.subdir} and set DMH_DATA (see data/README.md)")
        kw = dict(crop=spec.crop if own else spec.crop.tighter(crop_fraction), resample="box") | frame
        return load_identity_folder(root, name=name_or_path, size=size, channels=channels,
                                    identity_name=spec.identity_name, min_images=min_images,
                                    use_cache=use_cache, strict=strict, **kw)
    path = Path(name_or_path)
    if path.suffix in (".pkl", ".pickle"):
        return load_ddh_pickle(path, size=size)
    if path.is_dir():
        kw = dict(crop=Crop(), resample="box") | frame
        return load_identity_folder(path, name=path.name, size=size, channels=channels,
                                    min_images=min_images, use_cache=use_cache, strict=strict,
                                    **kw)
    raise FileNotFoundError(f"unknown dataset {name_or_path!r}: use one of {sorted(DATASETS)}, "
                            f"a folder <root>/<identity>/<image>, or a DDH .pkl file")


# The tighter crop the recipe study tries (`face_crop="tight"`): the centred 80% of each
# dataset's own crop (LFW's 114-px box becomes 92 px; Pins' 85% square 68%), less hair and
# background, as in DDH's tight face crops.
TIGHT_FRACTION = 0.8


def with_tighter_crops(*parts: FaceSet, fraction: float = TIGHT_FRACTION) -> tuple[FaceSet, ...]:
    """The parts (of `lfw` or `pins`) with each image cut again, tighter (`crop_fraction`):
    same images, keys, labels and split; each dataset is decoded once for all its parts."""
    full: dict = {}
    out = []
    for fs in parts:
        if fs.name not in DATASETS:
            raise ValueError(f"{fs.name}: a tighter crop is defined for {sorted(DATASETS)} only")
        key = (fs.name, fs.images.shape[1], fs.images.shape[-1])
        if key not in full:
            t = load_dataset(fs.name, size=key[2], channels=key[1], crop_fraction=fraction)
            full[key] = t, {k: i for i, k in enumerate(t.keys)}
        t, row = full[key]
        out.append(replace(fs, images=t.images[[row[k] for k in fs.keys]]))
    return tuple(out)
