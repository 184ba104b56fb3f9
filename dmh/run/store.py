"""Every path of a record, a choice, the floors and a checkpoint; the only code that reads or
writes `results/` (the paper profile's committed records) and `runs/` (everything else).

A `Store` is one folder of records: `results/` for the paper profile (written only by the
grid runner), `runs/<profile>-results/` for other profiles, `runs/user/` for what a user's
own commands make. Checkpoints always live in the user's folder, `runs/<run name>/`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..core.atomic import write_json
from ..core.config import TrainConfig
from ..core.paths import RESULTS_DIR, runs_root
from .records import RecordError, RunRecord, ShallowRecord


class MissingRecord(FileNotFoundError):
    """A record a reader needs is not there; the message says which command makes it."""


def read_json(path: Path) -> dict:
    """A JSON file, or a one-line error naming it and the fix."""
    try:
        return json.loads(Path(path).read_text())
    except json.JSONDecodeError as e:
        raise RecordError(f"{path}: not valid JSON ({e.msg}, line {e.lineno}); delete it and "
                          f"rerun the command that made it") from None


@dataclass(frozen=True)
class Store:
    """Args:
        root: the folder (`runs/`, `shallow/`, `chosen/` and `floors.json` below it).
        committed: its records are committed (the paper's `results/`).
        chosen_dir: the folder below `root` of its validation choices.
    """

    root: Path
    committed: bool = False
    chosen_dir: str = "chosen"

    def run_file(self, name: str) -> Path:
        return self.root / "runs" / f"{name}.json"

    def run_path(self, cfg: TrainConfig) -> Path:
        return self.run_file(cfg.name())

    def shallow_path(self, name: str) -> Path:
        return self.root / "shallow" / f"{name}.json"

    def anchor_path(self, name: str) -> Path:
        return self.root / "anchors" / f"{name}.json"

    def examples_path(self, name: str) -> Path:
        """The retrieval examples of run `name` (`dmh.run.examples`)."""
        return self.root / "examples" / f"{name}.json"

    def chosen_path(self, method: str, dataset: str) -> Path:
        return self.root / self.chosen_dir / f"{method}-{dataset}.json"

    @property
    def floors_path(self) -> Path:
        return self.root / "floors.json"

    @property
    def bench_path(self) -> Path:
        return self.root / "bench" / "train-throughput.json"

    @property
    def grid_bench_path(self) -> Path:
        """Training throughput as the grids train (one thread, batch 64), every method and
        trunk size in one sitting (`benchmarks/bench_train.py --json`)."""
        return self.root / "bench" / "train-1thread.json"

    def has_run(self, cfg: TrainConfig) -> bool:
        return self.run_path(cfg).exists()

    def _load(self, kind, path: Path, what: str, made_by: str):
        if not path.exists():
            raise MissingRecord(f"{what} missing in {self.root}: run `{made_by}`")
        return kind.from_dict(read_json(path), str(path))

    def load_run(self, cfg: TrainConfig, made_by: str = "dmh train") -> RunRecord:
        return self._load(RunRecord, self.run_path(cfg), f"run {cfg.name()}", made_by)

    def load_shallow(self, name: str, made_by: str) -> ShallowRecord:
        return self._load(ShallowRecord, self.shallow_path(name), f"shallow record {name}", made_by)

    def load_anchor(self, name: str, made_by: str) -> ShallowRecord:
        return self._load(ShallowRecord, self.anchor_path(name), f"anchor record {name}", made_by)

    def save_anchor(self, rec: ShallowRecord) -> Path:
        return self._save(self.anchor_path(rec.name), rec)

    def save_run(self, rec: RunRecord) -> Path:
        return self._save(self.run_path(rec.config), rec)

    def save_shallow(self, rec: ShallowRecord) -> Path:
        return self._save(self.shallow_path(rec.name), rec)

    @staticmethod
    def _save(path: Path, rec) -> Path:
        write_json(path, rec.to_dict())
        return path

    def all_runs(self) -> list[RunRecord]:
        return [RunRecord.from_dict(read_json(p), str(p)) for p in sorted((self.root / "runs").glob("*.json"))]

    def load_json(self, path: Path, made_by: str) -> dict:
        if not Path(path).exists():
            raise MissingRecord(f"{path} missing: run `{made_by}`")
        return read_json(path)


def paper_store() -> Store:
    return Store(RESULTS_DIR, committed=True)


def profile_store(profile_name: str) -> Store:
    return Store(runs_root() / f"{profile_name}-results")


def user_store() -> Store:
    """Records of the user's own commands (`dmh train`, `dmh floors`): never in results/."""
    return Store(runs_root() / "user")


def checkpoint_file(name: str) -> Path:
    return runs_root() / name / "checkpoint.pt"


def checkpoint_path(cfg: TrainConfig) -> Path:
    return checkpoint_file(cfg.name())


def checkpoint_label(path: Path) -> str:
    """How a record names its checkpoint: relative to the folder above runs/ where it can be."""
    base = runs_root().parent
    return str(path.relative_to(base)) if path.is_relative_to(base) else str(path)


def find_record(name: str) -> tuple[Store, RunRecord] | None:
    """The record of a run name in the user's store or the committed one (in that order)."""
    for store in (user_store(), paper_store()):
        path = store.run_file(name)
        if path.exists():
            return store, RunRecord.from_dict(read_json(path), str(path))
    return None

