"""The open-set grids by the dataset they retrieve on: `open-<ds>` trains on <ds>'s other
people, `cross-<ds>` on the other dataset (protocol files in data/splits/, made by
`dmh.data.open_splits`)."""
from __future__ import annotations

from .profiles import Profile

# kind -> dataset retrieved on -> (dataset trained on, protocol)
OPEN = {"open": {"lfw": ("lfw", "open-lfw"), "pins": ("pins", "open-pins")},
        "cross": {"lfw": ("pins", "cross-pins-lfw"), "pins": ("lfw", "cross-lfw-pins")}}


def open_kinds(dataset: str, p: Profile) -> list[str]:
    """The open-set grids retrieving on `dataset` that train on one of the profile's datasets
    (the quick profile trains on LFW alone: open-lfw, not cross-pins-lfw)."""
    return [kind for kind in ("open", "cross") if OPEN[kind][dataset][0] in p.datasets]


def open_protocols(p: Profile) -> list[str]:
    """The open and cross protocols that retrieve on the profile's datasets (`open_kinds`)."""
    return [OPEN[kind][ds][1] for ds in p.datasets for kind in open_kinds(ds, p)]


def trained_on(protocol: str) -> str:
    """The dataset a protocol trains on (`lfw`/`pins` for their closed protocols)."""
    if protocol in ("lfw", "pins"):
        return protocol
    return next(t for kinds in OPEN.values() for t, proto in kinds.values() if proto == protocol)
