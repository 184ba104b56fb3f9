"""A bf16 cell trained in float32 (`dmh grid --fp32`, for a CPU without native bfloat16): its
fp32 twin is the cell once landed (the grids train no bf16 run after it); a bf16 run landed
anyway takes its place."""
from dataclasses import replace

import pytest

from dmh.core.config import TrainConfig
from dmh.experiments import configs as C
from dmh.experiments.fp32_twins import fp32_twin, in_fp32, is_stand_in, landed_cell, like_for_like
from dmh.experiments.profiles import get_profile
from dmh.experiments.runner import run_grids
from dmh.run.store import Store


def _stored(store: Store, c: TrainConfig) -> None:
    store.run_path(c).parent.mkdir(parents=True, exist_ok=True)
    store.run_path(c).write_text("{}")  # has_run reads the path only


def test_twin_differs_in_precision_and_name_only():
    c = TrainConfig(dataset="lfw", method="dsh", bits=12, epochs=640, precision="bf16")
    t = fp32_twin(c)
    assert t == replace(c, precision="fp32") and t.name() != c.name()
    assert t.name().rsplit("-", 1)[0] == c.name().rsplit("-", 1)[0]  # same cell, its own key


def test_landed_cell_is_the_twin_only_where_the_bf16_run_is_missing(tmp_path):
    store, c = Store(tmp_path), TrainConfig(dataset="lfw", method="dsh", precision="bf16")
    assert landed_cell(c, store) == c  # nothing landed: the profile's run
    _stored(store, fp32_twin(c))
    assert landed_cell(c, store) == fp32_twin(c)
    _stored(store, c)
    assert landed_cell(c, store) == c  # the bf16 run landed: it is the cell again
    fp = TrainConfig(dataset="lfw", method="csq")
    assert landed_cell(fp, store) == fp


def test_in_fp32_converts_only_bf16_runs_not_stored(tmp_path):
    store = Store(tmp_path)
    done, todo = (TrainConfig(dataset="lfw", method="dsh", seed=s, precision="bf16") for s in (0, 1))
    csq = TrainConfig(dataset="lfw", method="csq")
    _stored(store, done)
    assert in_fp32([done, todo, csq], store) == [done, fp32_twin(todo), csq]


def test_a_doubling_compares_like_with_like(tmp_path):
    """The budget run and its doubling in one precision: as landed where they share one,
    else both fp32 twins; under --fp32 a stored bf16 run whose doubling becomes a twin gets
    its own twin beside it, and no other run does."""
    store = Store(tmp_path)
    a = TrainConfig(dataset="lfw", method="dsh", epochs=640, precision="bf16")
    b, other = replace(a, epochs=1280), replace(a, epochs=1280, lr=0.01)
    assert like_for_like(a, b, store) == (a, b)  # nothing landed: the profile's precision
    _stored(store, a)
    assert like_for_like(a, b, store) == (a, b)
    assert in_fp32([a, b], store) == [a, fp32_twin(a), fp32_twin(b)]
    assert in_fp32([a, other], store) == [a, fp32_twin(other)]  # not a's doubling
    _stored(store, fp32_twin(b))
    assert like_for_like(a, b, store) == (fp32_twin(a), fp32_twin(b))  # never one of each
    _stored(store, b)
    assert like_for_like(a, b, store) == (a, b)  # both in bf16 now
    assert in_fp32([a, b], store) == [a, b]


def test_stand_in_is_fp32_where_the_profile_trains_bf16():
    q, paper = get_profile("plateau"), get_profile("paper")
    dsh, csq = TrainConfig(dataset="lfw", method="dsh"), TrainConfig(dataset="lfw", method="csq")
    assert is_stand_in(dsh, q) and not is_stand_in(replace(dsh, precision="bf16"), q)
    assert not is_stand_in(csq, q)  # the profile trains CSQ in fp32 itself
    assert not is_stand_in(dsh, paper)


def test_the_plateau_grids_read_a_landed_twin(monkeypatch, tmp_path):
    monkeypatch.setenv("DMH_RUNS", str(tmp_path))
    monkeypatch.setattr(C, "hyperparameters", lambda m, ds, prof, budget=False: {})
    p = replace(get_profile("plateau"), name="twins")  # its own store under DMH_RUNS
    before = C.comparison_configs("lfw", p)
    cell = next(c for c in before if c.method == "dsh" and c.bits == 12)
    assert cell.precision == "bf16"
    _stored(p.store, fp32_twin(cell))
    after = C.comparison_configs("lfw", p)
    assert after == [fp32_twin(c) if c == cell else c for c in before]


def test_fp32_refuses_the_grids_that_compare_precisions(monkeypatch, tmp_path):
    monkeypatch.setenv("DMH_RUNS", str(tmp_path))
    with pytest.raises(ValueError, match="--fp32 with precision-lfw: that grid compares float32"):
        run_grids(["precision-lfw"], "quick", fp32=True, log=lambda s: None)
