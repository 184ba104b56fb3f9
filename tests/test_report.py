"""The book's tables from run records: hand-made frames with hand-computed answers."""
import json

import pandas as pd
import pytest

from conftest import run_record
from dmh.core.config import TrainConfig
from dmh.experiments.profiles import PROFILES
from dmh.report.ablations import ablation_table, sensitivity_summary, verdicts
from dmh.report.cost import grid_cost_line
from dmh.report.frames import hardware_line, machine_of, mean_std
from dmh.report.reading import floors_frame
from dmh.run.store import MissingRecord, Store


def _record(device="cpu", threads=1, gpu=None):
    hw = {"cpu": "Some CPU", "device": device, "torch_threads": threads}
    if gpu:
        hw["gpu"] = gpu
    return run_record(hardware=hw)


def test_mean_std_is_sample_std_and_counts_seeds():
    df = pd.DataFrame({"g": ["a", "a", "a", "b"], "map_all": [0.1, 0.2, 0.3, 0.5]})
    t = mean_std(df, ["g"]).set_index("g")
    assert t.loc["a", "map_all"] == "0.2000 ± 0.1000"  # ddof=1: sqrt(0.02 / 2)
    assert t.loc["b", "map_all"] == "0.5000" and t.loc["b", "seeds"] == 1


def test_hardware_line_counts_machines():
    recs = [_record(), _record(), _record("cuda", gpu="NVIDIA H200"), _record(threads=2)]
    assert hardware_line(recs) == ("2 runs on Some CPU (cpu, 1 thread); 1 run on NVIDIA H200 "
                                   "(cuda); 1 run on Some CPU (cpu, 2 threads)")
    frame = pd.DataFrame({"machine": [machine_of(r) for r in recs]})
    assert hardware_line(frame) == hardware_line(recs)


def test_sensitivity_summary_by_hand():
    grid = [(lam, mu) for lam in (0.01, 0.1) for mu in (0.001, 0.01)]
    val = pd.DataFrame([{"lam": l, "mu": m, "map_all": v} for (l, m), v in zip(grid, [0.2, 0.1, 0.3, 0.0])])
    test = pd.DataFrame([{"lam": l, "mu": m, "map_all": v} for (l, m), v in zip(grid, [0.25, 0.05, 0.2, 0.01])])
    s = sensitivity_summary({"x": val}, {"x": test}).loc["x"]
    assert s["chosen (lam, mu)"] == (0.1, 0.001)  # best on validation
    assert s["chosen test mAP"] == 0.2 and s["chosen test rank"] == 2
    assert s["best test (lam, mu)"] == (0.01, 0.001) and s["best test mAP"] == 0.25
    # ranks val 3,2,4,1 vs test 4,2,3,1: Pearson of ranks = 0.8
    assert s["spearman(val, test)"] == pytest.approx(0.8)


def test_ablation_table_keeps_devices_apart():
    rows = [("v1", 0, "cpu", 100.0), ("v1", 1, "cuda", 10.0), ("v1", 2, "cuda", 20.0),
            ("v2", 0, "cpu", 300.0)]
    df = pd.DataFrame([{"dataset": "d", "variant": v, "seed": s, "device": dev, "train_s": t,
                        "map_all": 0.1, "map_all_float": 0.2, "p_at_r2": 0.3, "n_parameters": 7}
                       for v, s, dev, t in rows])
    t = ablation_table(df)
    assert t.loc[("d", "v1"), "train_s (cpu)"] == 100.0
    assert t.loc[("d", "v1"), "train_s (cuda)"] == 15.0
    assert t.loc[("d", "v2"), "train_s (cpu)"] == 300.0 and pd.isna(t.loc[("d", "v2"), "train_s (cuda)"])
    assert t.loc[("d", "v1"), "seeds"] == 3


def test_verdicts_by_hand():
    rows = [("base", 0.30), ("base", 0.32), ("base", 0.34),  # mean .32, std .02
            ("big", 0.40), ("big", 0.41), ("big", 0.42),     # +.09 = 4.5 std
            ("near", 0.31), ("near", 0.33), ("near", 0.35)]  # +.01 = 0.5 std
    df = pd.DataFrame([{"dataset": "D", "variant": v, "map_all": x} for v, x in rows])
    big, near = verdicts(df, "base")
    assert big == "D: big 0.4100 vs base 0.3200 (+0.0900; +4.5 seed std, beyond two seed stds)"
    assert near == "D: near 0.3300 vs base 0.3200 (+0.0100; +0.5 seed std, within two seed stds)"
    one = pd.DataFrame([{"dataset": "D", "variant": v, "map_all": x} for v, x in [("base", .3), ("x", .4)]])
    assert verdicts(one, "base") == ["D: x 0.4000 vs base 0.3000 (+0.1000; no seed spread to "
                                       "compare with (one seed))"]


def test_grid_cost_line_sums_records(tmp_path):
    store = Store(tmp_path)

    def write(seed, train_s, eval_s, threads, device="cpu", epochs=10):
        cfg = TrainConfig(dataset="d", seed=seed, epochs=epochs)  # 360 training images
        store.save_run(run_record(cfg, train_s=train_s, eval_s=eval_s,
                                  hardware={"torch_threads": threads, "device": device}))

    write(0, 3600.0, 0.0, 1)
    write(1, 900.0, 900.0, 2)
    assert grid_cost_line(store) == ("paper grid: 2 runs; 2 on CPU, 2.00 CPU hours of "
                                     "training and evaluation")
    # CPU rate: (3600 + 1800) / 2 / (10 * 360) = 0.75 s per image-epoch; eval (0 + 1800) / 2
    write(2, 1700.0, 100.0, 1, device="cuda", epochs=20)  # 20 * 360 * 0.75 + 900 = 6300 s
    assert grid_cost_line(store) == ("paper grid: 3 runs; 2 on CPU, 2.00 CPU hours of "
                                     "training and evaluation; 1 on a GPU, 0.50 hours of "
                                     "run wall time (runs shared the GPU), about 1.75 CPU "
                                     "hours at the CPU runs' rate")


def test_floors_frame_reads_the_profiles_floors(tmp_path, monkeypatch):
    monkeypatch.setenv("DMH_RUNS", str(tmp_path))
    quick = PROFILES["quick"]
    with pytest.raises(MissingRecord, match="dmh grid floors --profile quick"):
        floors_frame("quick")
    rows = [{"dataset": ds, "method": m, "bits": b, "map_all": v}
            for ds, m, b, v in [("pins", "random", 12, 0.1), ("lfw", "lsh_pixels", 12, 0.3),
                                ("lfw", "random", 12, 0.2), ("lfw", "random", 48, 0.4)]]
    quick.store.floors_path.parent.mkdir(parents=True)
    open_row = {"dataset": "open-lfw", "method": "random", "bits": 48, "map_all": 0.01}
    cross_row = dict(open_row, dataset="cross-pins-lfw")  # trains on pins: not quick's
    quick.store.floors_path.write_text(json.dumps({"rows": rows + [open_row, cross_row], "wall_s": 1.0}))
    assert quick.store.floors_path.is_relative_to(tmp_path)
    assert floors_frame(quick).to_dict("records") == rows  # the closed protocols
    assert floors_frame(quick, protocols=True).to_dict("records") == [open_row]


def test_estimate_seconds_by_hand(tmp_path):
    from dmh.report.cost import estimate_seconds
    store = Store(tmp_path)
    # DMH on d: (3600 x 1 + 900 x 2) / 2 / (10 x 360) = 0.75 s an image-epoch; eval (0 + 20) / 2
    store.save_run(run_record(TrainConfig(dataset="d", epochs=10), train_s=3600.0, eval_s=0.0,
                              hardware={"torch_threads": 1, "device": "cpu"}))
    store.save_run(run_record(TrainConfig(dataset="d", epochs=10, seed=1), train_s=900.0, eval_s=10.0,
                              hardware={"torch_threads": 2, "device": "cpu"}))
    todo = [TrainConfig(dataset="d", epochs=20, seed=5),  # 20 x 360 x 0.75 + 10 = 5410
            TrainConfig(dataset="d", epochs=20, method="dsh"),  # no DSH record: DMH's rate
            TrainConfig(dataset="e", epochs=20)]  # no record on e at all
    assert estimate_seconds(todo, store) == (2 * 5410.0, 1)
    # a smaller trunk by its FLOPs: growth 8 costs 13.17 / 36.75 of the paper trunk
    small = TrainConfig(dataset="d", epochs=20, model_kwargs={"growth_rate": 8})
    s, _ = estimate_seconds([small], store)
    assert abs((s - 10.0) / 5400.0 - 13.17 / 36.75) < 0.001


def test_estimate_seconds_by_precision(tmp_path):
    from dmh.report.cost import estimate_seconds
    store = Store(tmp_path)
    cpu = {"torch_threads": 1, "device": "cpu"}
    # DMH on d: fp32 1.0 s an image-epoch (3600 / 3600), bf16 0.5; DSH fp32 only, 0.8
    for cfg, train_s in [(TrainConfig(dataset="d", epochs=10), 3600.0),
                         (TrainConfig(dataset="d", epochs=10, precision="bf16"), 1800.0),
                         (TrainConfig(dataset="d", epochs=10, method="dsh"), 2880.0)]:
        store.save_run(run_record(cfg, train_s=train_s, eval_s=0.0, hardware=cpu))
    at = lambda **kw: estimate_seconds([TrainConfig(dataset="d", epochs=1, **kw)], store)  # noqa: E731
    assert at() == (360.0, 0) and at(precision="bf16") == (180.0, 0)
    # DSH in bf16 has no record: its fp32 rate x DMH's bf16 / fp32 ratio = 0.8 x 0.5 x 360
    assert at(method="dsh") == (288.0, 0) and at(method="dsh", precision="bf16") == (144.0, 0)
