"""The book's tables from run records: hand-made frames with hand-computed answers."""
import pandas as pd
import pytest

from dmh import report as R


def _record(device="cpu", threads=1, gpu=None):
    hw = {"cpu": "Some CPU", "device": device, "torch_threads": threads}
    if gpu:
        hw["gpu"] = gpu
    return {"hardware": hw}


def test_mean_std_is_sample_std_and_counts_seeds():
    df = pd.DataFrame({"g": ["a", "a", "a", "b"], "map_all": [0.1, 0.2, 0.3, 0.5]})
    t = R.mean_std(df, ["g"]).set_index("g")
    assert t.loc["a", "map_all"] == "0.2000 ± 0.1000"  # ddof=1: sqrt(0.02 / 2)
    assert t.loc["b", "map_all"] == "0.5000" and t.loc["b", "seeds"] == 1


def test_hardware_line_counts_machines():
    recs = [_record(), _record(), _record("cuda", gpu="NVIDIA H200"), _record(threads=2)]
    assert R.hardware_line(recs) == ("2 runs on Some CPU (cpu, 1 thread); 1 run on NVIDIA H200 "
                                     "(cuda); 1 run on Some CPU (cpu, 2 threads)")
    frame = pd.DataFrame({"machine": [R.machine_of(r) for r in recs]})
    assert R.hardware_line(frame) == R.hardware_line(recs)


def test_sensitivity_summary_by_hand():
    grid = [(lam, mu) for lam in (0.01, 0.1) for mu in (0.001, 0.01)]
    val = pd.DataFrame([{"lam": l, "mu": m, "map_all": v} for (l, m), v in zip(grid, [0.2, 0.1, 0.3, 0.0])])
    test = pd.DataFrame([{"lam": l, "mu": m, "map_all": v} for (l, m), v in zip(grid, [0.25, 0.05, 0.2, 0.01])])
    s = R.sensitivity_summary({"x": val}, {"x": test}).loc["x"]
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
    t = R.ablation_table(df)
    assert t.loc[("d", "v1"), "train_s (cpu)"] == 100.0
    assert t.loc[("d", "v1"), "train_s (cuda)"] == 15.0
    assert t.loc[("d", "v2"), "train_s (cpu)"] == 300.0 and pd.isna(t.loc[("d", "v2"), "train_s (cuda)"])
    assert t.loc[("d", "v1"), "seeds"] == 3


def test_verdicts_by_hand():
    rows = [("base", 0.30), ("base", 0.32), ("base", 0.34),  # mean .32, std .02
            ("big", 0.40), ("big", 0.41), ("big", 0.42),     # +.09 = 4.5 std
            ("near", 0.31), ("near", 0.33), ("near", 0.35)]  # +.01 = 0.5 std
    df = pd.DataFrame([{"dataset": "D", "variant": v, "map_all": x} for v, x in rows])
    big, near = R.verdicts(df, "base")
    assert big == "D: big 0.4100 vs base 0.3200 (+0.0900; +4.5 seed std, beyond two seed stds)"
    assert near == "D: near 0.3300 vs base 0.3200 (+0.0100; +0.5 seed std, within two seed stds)"
    one = pd.DataFrame([{"dataset": "D", "variant": v, "map_all": x} for v, x in [("base", .3), ("x", .4)]])
    assert R.verdicts(one, "base") == ["D: x 0.4000 vs base 0.3000 (+0.1000; no seed spread to "
                                       "compare with (one seed))"]
