"""The anchors' grid: which dlib-embedding records `anchor-<ds>` makes (`anchor_jobs.py`
computes them)."""
from __future__ import annotations

from dataclasses import dataclass

from .configs import OPEN, seeds_at, trained_on
from .profiles import Profile

ANCHOR_METHODS = ("float", "LSH", "ITQ", "DMH-head")


@dataclass(frozen=True)
class AnchorSpec:
    """One anchor record. `protocol`: `lfw`/`pins` (closed) or an open/cross protocol;
    `bits` 0 for the float embedding."""

    method: str
    protocol: str
    bits: int
    seed: int

    def __post_init__(self) -> None:
        if self.method not in ANCHOR_METHODS or (self.method == "float") != (self.bits == 0):
            raise ValueError(f"anchor method must be one of {ANCHOR_METHODS} (bits 0 only for "
                             f"float), got {self.method!r} at {self.bits} bits")

    def name(self) -> str:
        tail = "" if self.method == "float" else f"-{self.bits}b-s{self.seed}"
        return f"dlib-{self.method}-{self.protocol}{tail}"

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
