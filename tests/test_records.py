"""Record types against the committed JSON: every record loads field for field and writes
back unchanged, and a damaged record is refused with a message naming its file."""
import json
import re
from dataclasses import replace

import pytest

from conftest import run_record
from dmh.core.config import TrainConfig
from dmh.core.paths import RESULTS_DIR
from dmh.run.records import RecordError, RunRecord, ShallowRecord, digest, with_digest
from dmh.run.store import Store, paper_store


def _round_trip_failures(kind: str, cls) -> tuple[int, list[str]]:
    """(files read, files whose record does not load, or load and write back differently, or
    is stored under another name)."""
    paths = sorted((RESULTS_DIR / kind).glob("*.json"))
    bad = []
    for path in paths:
        d = json.loads(path.read_text())
        try:
            rec = cls.from_dict(d, str(path))
        except (RecordError, ValueError, TypeError) as e:
            bad.append(f"{path.name}: {e}")
            continue
        if rec.to_dict() != d:
            bad.append(f"{path.name}: to_dict() differs from the file")
        if path.stem != rec.name:
            bad.append(f"{path.name}: holds the record {rec.name}")
    return len(paths), bad


@pytest.mark.parametrize("kind, cls", [("runs", RunRecord), ("shallow", ShallowRecord)])
def test_committed_records_round_trip(kind, cls):
    n, bad = _round_trip_failures(kind, cls)
    assert n > 0, f"no committed records in {RESULTS_DIR / kind}"
    assert not bad, f"{len(bad)} of {n} records:\n" + "\n".join(bad)


def test_committed_runs_load_through_the_store():
    store = paper_store()
    path = sorted((RESULTS_DIR / "runs").glob("*.json"))[0]
    rec = RunRecord.from_dict(json.loads(path.read_text()))
    assert store.run_path(rec.config) == path and store.load_run(rec.config) == rec
    # a record's dataset is the split it was scored on: the dataset, or its open/cross protocol
    closed = rec.config.protocol == "closed"
    assert isinstance(rec.config, TrainConfig) and rec.dataset == (
        rec.config.dataset if closed else rec.config.protocol)


def test_run_record_round_trip_by_hand():
    rec = run_record(TrainConfig(dataset="d", losses=("softmax", "center")), metrics={"map_all": 0.5})
    d = json.loads(json.dumps(rec.to_dict()))
    assert d["config"]["losses"] == ["softmax", "center"] and d["name"] == rec.config.name()
    assert RunRecord.from_dict(d) == rec


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path)


def test_record_not_matching_its_name_is_refused(store):
    cfg = TrainConfig(dataset="d")
    d = run_record(cfg).to_dict()
    d["config"]["bits"] = 24  # the record of another config under this config's name
    d = with_digest(d)
    path = store.run_path(cfg)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(d))
    with pytest.raises(RecordError, match=f"{re.escape(str(path))}: its name .* does not match its config"):
        store.load_run(cfg)
    renamed = run_record(cfg, name=replace(cfg, seed=1).name()).to_dict()
    with pytest.raises(RecordError, match="somewhere.json: its name"):
        RunRecord.from_dict(renamed, "somewhere.json")


def test_record_with_other_fields_is_refused():
    d = run_record().to_dict()
    with pytest.raises(RecordError, match=r"r.json: not a RunRecord \(missing \['metrics'\]"):
        RunRecord.from_dict(with_digest({k: v for k, v in d.items() if k != "metrics"}), "r.json")
    with pytest.raises(RecordError, match=r"s.json: not a ShallowRecord .*unknown \['checkpoint'"):
        ShallowRecord.from_dict(d, "s.json")


@pytest.mark.parametrize("kind", ["runs", "shallow"])
def test_truncated_record_is_refused(store, kind):
    committed = sorted((RESULTS_DIR / kind).glob("*.json"))[0]
    text = committed.read_text()
    path = store.root / kind / committed.name
    path.parent.mkdir(parents=True)
    path.write_text(text[:len(text) // 2])
    with pytest.raises(RecordError, match=f"{re.escape(str(path))}: not valid JSON"):
        if kind == "runs":
            store.load_run(RunRecord.from_dict(json.loads(text)).config)
        else:
            store.load_shallow(committed.stem, "dmh grid shallow-lfw")
    assert isinstance(RecordError("x"), ValueError)  # the CLI reports it as a clear error


def test_edited_or_legacy_record_is_refused_and_migration_is_one_way(store):
    d = run_record(TrainConfig(dataset="d"), metrics={"map_all": 0.3}).to_dict()
    assert d["sha256"] == digest(d) and RunRecord.from_dict(d).metrics["map_all"] == 0.3
    edited = json.loads(json.dumps(d))
    edited["metrics"]["map_all"] = 0.99  # a record edited by hand
    with pytest.raises(RecordError, match="r.json: the record does not match its sha256 .*rerun"):
        RunRecord.from_dict(edited, "r.json")
    legacy = {k: v for k, v in d.items() if k != "sha256"}
    with pytest.raises(RecordError, match="has no sha256"):
        RunRecord.from_dict(legacy, "old.json")
    assert with_digest(legacy) == d and RunRecord.from_dict(with_digest(legacy)).to_dict() == d


def test_a_grid_pins_the_commit_its_workers_load(monkeypatch):
    import os
    import re

    from dmh.experiments.runner import run_grids
    monkeypatch.setenv("DMH_GIT_COMMIT", "")  # unset for this test; restored after it
    run_grids([], "quick", workers=1, log=lambda s: None)
    pinned = os.environ["DMH_GIT_COMMIT"]
    assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?|unknown", pinned)
    monkeypatch.setenv("DMH_GIT_COMMIT", "abc")  # a device copy's commit is kept
    run_grids([], "quick", workers=1, log=lambda s: None)
    assert os.environ["DMH_GIT_COMMIT"] == "abc"
