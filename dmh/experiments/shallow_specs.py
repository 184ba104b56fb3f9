"""Shallow fits of the paper as specs: each method on pixels or on the pooled trunk of a DMH
main run, in the profile's face crop (`dmh grid shallow-<ds>`)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..core.config import TrainConfig
from .configs import main_configs, seeds_at
from .profiles import Profile

SHALLOW_METHODS = ("LSH", "PCAH", "ITQ", "SH", "SDH")


@dataclass(frozen=True)
class ShallowSpec:
    """One shallow fit: a method on pixels, or on the pooled trunk of the DMH run `trunk`,
    of the images in `face_crop` (a trunk's own)."""

    method: str
    dataset: str
    bits: int
    seed: int
    features: str
    trunk: TrainConfig | None = None
    face_crop: str = "box"

    def __post_init__(self) -> None:
        if self.method not in SHALLOW_METHODS:
            raise ValueError(f"unknown shallow method {self.method!r}; known: {SHALLOW_METHODS}")
        if (self.features == "dmh_trunk") != (self.trunk is not None) or \
                self.features not in ("pixels", "dmh_trunk"):
            raise ValueError(f"features must be 'pixels' (no trunk) or 'dmh_trunk' (with the DMH "
                             f"run's config as trunk), got {self.features!r} with trunk={self.trunk}")
        if self.trunk is not None and self.trunk.face_crop != self.face_crop:
            raise ValueError(f"a trunk hashes the images it was trained on: face_crop "
                             f"{self.face_crop!r} but trunk {self.trunk.name()} trained on "
                             f"{self.trunk.face_crop!r}")

    def name(self) -> str:
        # a dataset path by its stem: the name is a file name in the store's shallow/
        crop = "" if self.face_crop == "box" else f"-{self.face_crop}"
        return f"{self.method}-{Path(self.dataset).stem}-{self.features}{crop}-{self.bits}b-s{self.seed}"


def shallow_specs(dataset: str, p: Profile) -> list[ShallowSpec]:
    """Shallow methods seeded like the deep grid; seed s hashes the trunk of DMH's seed-s
    main run at the longest code."""
    trunks = {c.seed: c for c in main_configs(dataset, p) if c.bits == p.longest}
    crop = p.face_crop.get(dataset, "box")
    return [spec for k in p.bits for s in seeds_at(p, k) for m in SHALLOW_METHODS
            for spec in (ShallowSpec(m, dataset, k, s, "pixels", face_crop=crop),
                         ShallowSpec(m, dataset, k, s, "dmh_trunk", trunks[s], face_crop=crop))]
