"""The logged GPU lends' rate: their runs priced at the CPU records' rates over their wall."""
from conftest import run_record
from dmh.core.config import TrainConfig
from dmh.report.lend_rate import lend_line, lend_rate
from dmh.run.store import Store

GPU = {"cpu": "Some CPU", "device": "cuda", "torch_threads": 1, "gpu": "Some GPU"}


def _store(tmp_path) -> tuple[Store, list[str]]:
    store = Store(tmp_path / "results")
    # the CPU rate: 3600 s / (10 epochs * 360 images) = 1 s per image-epoch; 100 s to score
    store.save_run(run_record(TrainConfig(dataset="d", epochs=10), train_s=3600.0, eval_s=100.0))
    names = []
    for seed in (1, 2, 3):  # each 20 * 360 * 1 + 100 = 7300 CPU seconds
        cfg = TrainConfig(dataset="d", epochs=20, seed=seed)
        store.save_run(run_record(cfg, train_s=9.0, eval_s=1.0, hardware=GPU))
        names.append(cfg.name())
    return store, names


def _log(path, names, wall=None):
    lines = [f"[00:00:0{i}] main-d: done {n}: mAP@all 0.1000 in 9.0 s" for i, n in enumerate(names)]
    path.write_text("\n".join(lines + ([f"wall {wall} s"] if wall is not None else [])) + "\n")


def test_the_rate_prices_each_finished_lends_runs_by_hand(tmp_path):
    store, names = _store(tmp_path)
    logs = tmp_path / "logs"
    logs.mkdir()
    _log(logs / "a.log", names[:1], wall=300)
    _log(logs / "b.log", names[1:2], wall=430)
    _log(logs / "c.log", names[2:])  # cut off before its wall line: not counted
    rate = lend_rate(store, logs)
    assert (rate.lends, rate.runs, rate.cpu_s, rate.wall_s, rate.gpus) == (2, 2, 14600.0, 730.0, ("Some GPU",))
    assert rate.cpu_s_per_s == 20.0 and rate.gpu_hours(10.0) == 0.5
    line = lend_line(rate, 10.0)
    assert "(2 on Some GPU, 2 short runs, one model each: about 4.1 CPU hours of runs in 730 s, 20 CPU " \
           "seconds a second), that is about 0.5 GPU hours, 3 lends of 10 minutes" in line


def test_no_finished_lend_or_an_unpriced_run_gives_no_rate(tmp_path):
    store, names = _store(tmp_path)
    logs = tmp_path / "logs"
    logs.mkdir()
    assert lend_rate(store, logs) is None
    _log(logs / "c.log", names)
    assert lend_rate(store, logs) is None  # no wall line
    other = TrainConfig(dataset="e", epochs=20)  # no CPU record of its dataset to price it by
    store.save_run(run_record(other, train_s=9.0, hardware=GPU))
    _log(logs / "a.log", [names[0], other.name()], wall=300)
    assert lend_rate(store, logs) is None
    assert lend_line(None, 10.0) == "no GPU lend is logged yet to price them on a GPU"
