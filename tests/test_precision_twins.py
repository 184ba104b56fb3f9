"""One precision for every method: a cell's twin in the other precision (a bf16 run of the
plateau profile's first sittings) stands in for the float32 run until that lands; the
chapters read it, the runner trains the cell's own run all the same."""
from dataclasses import replace

from conftest import run_record
from dmh.core.config import TrainConfig
from dmh.experiments import configs as C
from dmh.experiments import runner
from dmh.experiments.precision_twins import is_stand_in, landed_cell, like_for_like, own_runs, twin
from dmh.experiments.profiles import get_profile
from dmh.report.cost import grid_estimates
from dmh.run.store import Store


def _stored(store: Store, c: TrainConfig) -> None:
    store.run_path(c).parent.mkdir(parents=True, exist_ok=True)
    store.run_path(c).write_text("{}")  # has_run reads the path only


def test_twin_differs_in_precision_and_name_only():
    c = TrainConfig(dataset="lfw", method="dsh", bits=12, epochs=640)
    t = twin(c)
    assert t == replace(c, precision="bf16") and twin(t) == c and t.name() != c.name()
    assert t.name().rsplit("-", 1)[0] == c.name().rsplit("-", 1)[0]  # same cell, its own key


def test_landed_cell_is_the_twin_only_where_the_cells_run_is_missing(tmp_path):
    store, c = Store(tmp_path), TrainConfig(dataset="lfw", method="dsh")
    assert landed_cell(c, store) == c  # nothing landed: the profile's run
    _stored(store, twin(c))
    assert landed_cell(c, store) == twin(c)
    _stored(store, c)
    assert landed_cell(c, store) == c  # its own run landed: it is the cell again


def test_a_doubling_compares_like_with_like(tmp_path):
    """The budget run and its doubling in one precision: as landed where they share one,
    else both in their own."""
    store = Store(tmp_path)
    a = TrainConfig(dataset="lfw", method="dsh", epochs=640)
    b = replace(a, epochs=1280)
    assert like_for_like(a, b, store) == (a, b)
    _stored(store, twin(a))
    assert like_for_like(a, b, store) == (a, b)  # never one of each
    _stored(store, twin(b))
    assert like_for_like(a, b, store) == (twin(a), twin(b))  # both in bf16
    _stored(store, a)
    assert like_for_like(a, b, store) == (a, b)  # its own again: never one of each


def test_the_plateau_profile_trains_every_method_in_float32(monkeypatch):
    monkeypatch.setattr(C, "hyperparameters", lambda m, ds, prof, budget=False: {})
    p = get_profile("plateau")
    assert p.precision == "fp32" and p.stand_ins and not own_runs(p).stand_ins
    cs = [c for ds in p.datasets for c in C.comparison_configs(ds, own_runs(p))]
    assert {c.method for c in cs} >= {"dmh", "csq", "dsh"} and {c.precision for c in cs} == {"fp32"}
    dsh = TrainConfig(dataset="lfw", method="dsh")
    assert is_stand_in(twin(dsh), p) and not is_stand_in(dsh, p)


def test_the_chapters_read_a_twin_the_runner_trains_the_cell(monkeypatch, tmp_path):
    """A bf16 twin landed: the grids as read show it in the cell's place; the runner's list,
    the estimate and the training are the cell's float32 run."""
    monkeypatch.setenv("DMH_RUNS", str(tmp_path))
    monkeypatch.setattr(C, "hyperparameters", lambda m, ds, prof, budget=False: {})
    p = replace(get_profile("plateau"), name="twins", datasets=("lfw",))  # its own store under DMH_RUNS
    before = C.comparison_configs("lfw", p)
    cell = next(c for c in before if c.method == "dsh" and c.bits == 12)
    p.store.save_run(run_record(twin(cell)))
    assert C.comparison_configs("lfw", p) == [twin(c) if c == cell else c for c in before]
    assert C.comparison_configs("lfw", own_runs(p)) == before
    (est,) = grid_estimates(["comparison-lfw"], p)
    assert est["stored"] == 0 and est["to train"] == len(before)
    trained = []
    monkeypatch.setattr(runner, "train_pool", lambda cs, store, **kw: trained.extend(cs))
    monkeypatch.setattr(runner, "_choose_all", lambda *a: None)  # no validation choices here
    runner.run_grids(["comparison-lfw"], p, workers=1, log=lambda s: None)
    assert cell in trained and twin(cell) not in trained
    assert {c.precision for c in trained} == {"fp32"}


def test_the_runner_fits_shallow_methods_on_the_cells_own_trunks(monkeypatch, tmp_path):
    """A bf16 twin of a DMH trunk landed: the shallow grid as read hashes with it, the runner
    fits on the float32 trunk (the cell's own run)."""
    from dmh.experiments.grids import GRIDS

    monkeypatch.setenv("DMH_RUNS", str(tmp_path))
    monkeypatch.setattr(C, "hyperparameters", lambda m, ds, prof, budget=False: {})
    p = replace(get_profile("plateau"), name="twins", datasets=("lfw",))
    trunk = next(s.trunk for s in GRIDS["shallow"].items("lfw", p) if s.trunk is not None)
    p.store.save_run(run_record(twin(trunk)))
    precisions = lambda specs: {s.trunk.precision for s in specs if s.trunk is not None}  # noqa: E731
    assert precisions(GRIDS["shallow"].items("lfw", p)) == {"fp32", "bf16"}
    fitted = []
    monkeypatch.setattr(runner, "_make_each", lambda specs, *a, **k: (fitted.extend(specs), (0, 0))[1])
    monkeypatch.setattr(runner, "_choose_all", lambda *a: None)
    runner.run_grids(["shallow-lfw"], p, workers=1, log=lambda s: None)
    assert fitted and precisions(fitted) == {"fp32"}
