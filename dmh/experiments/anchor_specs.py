"""The anchors' grids: which dlib-embedding records `anchor-<ds>` and `ceiling-<ds>` make
(`anchor_jobs.py` computes them)."""
from __future__ import annotations

from dataclasses import dataclass

from .configs import seeds_at
from .open_protocols import OPEN, trained_on
from .profiles import Profile

ANCHOR_METHODS = ("float", "LSH", "ITQ", "DMH-head")
PIXELS = ("photo", "box", "tight", "aligned")


@dataclass(frozen=True)
class AnchorSpec:
    """One anchor record. `protocol`: `lfw`/`pins` (closed) or an open/cross protocol;
    `bits` 0 for the float embedding; `pixels`: what dlib reads, `photo` (the dataset's
    photos: its own detection and alignment) or a face crop the networks read (`box`,
    `tight`, `aligned`: their own 32x32 input, closed protocol only)."""

    method: str
    protocol: str
    bits: int
    seed: int
    pixels: str = "photo"

    def __post_init__(self) -> None:
        if self.method not in ANCHOR_METHODS or (self.method == "float") != (self.bits == 0):
            raise ValueError(f"anchor method must be one of {ANCHOR_METHODS} (bits 0 only for "
                             f"float), got {self.method!r} at {self.bits} bits")
        if self.pixels not in PIXELS or (self.pixels != "photo" and self.protocol not in ("lfw", "pins")):
            raise ValueError(f"anchor pixels must be one of {PIXELS} (crops on the closed protocol "
                             f"only), got {self.pixels!r} on {self.protocol!r}")

    def name(self) -> str:
        tail = "" if self.method == "float" else f"-{self.bits}b-s{self.seed}"
        crop = "" if self.pixels == "photo" else f"-{self.pixels}-crop"
        return f"dlib-{self.method}-{self.protocol}{tail}{crop}"

    @property
    def train_on(self) -> str:
        """The dataset the protocol trains on (whose DMH recipe the hash layer takes)."""
        return trained_on(self.protocol)


def anchor_specs(dataset: str, p: Profile) -> list[AnchorSpec]:
    """Every anchor on the closed, open and cross protocols that retrieve on `dataset`:
    the float embedding, then LSH, ITQ and the DMH hash layer at each code length (every
    seed at the longest)."""
    protocols = [dataset] + [OPEN[kind][dataset][1] for kind in ("open", "cross")]
    return [spec for proto in protocols for spec in
            [AnchorSpec("float", proto, 0, 0)] +
            [AnchorSpec(m, proto, k, s) for k in p.bits for s in seeds_at(p, k)
             for m in ("LSH", "ITQ", "DMH-head")]]


def crop_anchor_specs(dataset: str, p: Profile) -> list[AnchorSpec]:
    """dlib reading the networks' own input (the profile's face crop of `dataset`, 32x32) on
    the closed protocol: its float embedding, and DMH's losses training a hash layer on it
    at the longest code, every seed: how far the pixels themselves carry."""
    pixels = p.face_crop.get(dataset, "box")
    return [AnchorSpec("float", dataset, 0, 0, pixels)] + [
        AnchorSpec("DMH-head", dataset, p.longest, s, pixels) for s in seeds_at(p, p.longest)]
