"""Typed run records. A record is JSON on disk; these types load it field for field and
write it back unchanged (`RunRecord.from_dict(d).to_dict() == d` for every committed record).

Each stored record carries `sha256`, the digest of its other fields in canonical JSON, checked
on every read: a record edited by hand or damaged is refused with its path and the fix.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields

from ..core.config import TrainConfig


class RecordError(ValueError):
    """A stored record that does not have the record type's fields or does not match its name."""


def _check_keys(cls, d: dict, source: str) -> None:
    names = [f.name for f in fields(cls)]
    missing, unknown = set(names) - set(d), set(d) - set(names)
    if missing or unknown:
        raise RecordError(f"{source}: not a {cls.__name__} (missing {sorted(missing)}, "
                          f"unknown {sorted(unknown)}); delete it and rerun the grid that made it")


def digest(d: dict) -> str:
    """sha256 of a record's fields but `sha256`, as sorted, compact JSON."""
    body = {k: v for k, v in d.items() if k != "sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def with_digest(d: dict) -> dict:
    """The one-way migration of a record written before digests: the same fields plus `sha256`."""
    return {k: v for k, v in d.items() if k != "sha256"} | {"sha256": digest(d)}


@dataclass(frozen=True)
class _Made:
    """What every record says of how it was made and on which split."""

    name: str
    git_commit: str
    python: str
    versions: dict
    hardware: dict
    split: dict
    data_load_s: float
    metrics: dict

    @classmethod
    def from_dict(cls, d: dict, source: str = "record"):
        """Load a stored record, refusing one whose digest or fields are not right."""
        if d.get("sha256") != digest(d):
            why = "has no sha256 (written before digests)" if "sha256" not in d else \
                "does not match its sha256 (edited by hand or damaged)"
            raise RecordError(f"{source}: the record {why}; delete it and rerun the command or "
                              f"grid that made it")
        d = {k: v for k, v in d.items() if k != "sha256"}
        _check_keys(cls, d, source)
        return cls(**cls._parsed(d, source))

    @classmethod
    def _parsed(cls, d: dict, source: str) -> dict:
        return d

    def to_dict(self) -> dict:
        return with_digest(self._fields())

    def _fields(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RunRecord(_Made):
    """One trained and scored deep run (`dmh train`, a grid of the runner)."""

    config: TrainConfig
    config_key: str
    n_parameters: int
    epochs: int
    train_s: float
    eval_s: float
    history: list
    checkpoint: str

    @classmethod
    def _parsed(cls, d: dict, source: str) -> dict:
        cfg = TrainConfig.from_dict(d["config"])
        if d["name"] != cfg.name() or d["config_key"] != cfg.key():
            raise RecordError(f"{source}: its name {d['name']!r} does not match its config "
                              f"({cfg.name()!r}); delete it and rerun the grid that made it")
        return d | {"config": cfg}

    def _fields(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)} | {"config": self.config.to_dict()}

    @property
    def dataset(self) -> str:
        return self.split["dataset"]

    @property
    def device(self) -> str:
        return self.hardware["device"]


@dataclass(frozen=True)
class ShallowRecord(_Made):
    """One shallow hashing method fitted and scored (`dmh grid shallow-<ds>`)."""

    config: dict
    supervised: bool
    feature_dim: int
    trunk: dict | None
    blas_threads: int | None
    feature_s: float
    fit_s: float
    encode_s: float

    @property
    def dataset(self) -> str:
        return self.config["dataset"]
