"""The plateau main results section: landed cells beside the same cells at 1x, by hand."""
from dataclasses import replace

import pandas as pd
import pytest

from conftest import run_record
from dmh.experiments import configs as C
from dmh.experiments.profiles import PROFILES
from dmh.report import plateau_results as PR


def _metrics(m: float, f: float, p10: float) -> dict:
    return {"map_all": m, "map_all_stable": m, "map_all_float": f, "p_at_r2": 0.0,
            "precision_at_k": {"10": p10}}


EPOCHS = {"lfw": 2, "pins": 1}  # the 1x budget these tests count from (not the quick profile's)


def _plateau(tmp_path, monkeypatch, **changes):
    """A quick-profile copy (2 LFW epochs at 1x, as these tests count) at 4x its budget
    standing in for `plateau`, records in `tmp_path`, no validation choices."""
    monkeypatch.setenv("DMH_RUNS", str(tmp_path))
    monkeypatch.setattr(C, "hyperparameters", lambda m, ds, prof, budget=False: {})
    at = replace(PROFILES["quick"], name="quick-plateau", epochs=EPOCHS, budget={"lfw": 4},
                 **changes)
    monkeypatch.setattr(PR, "plateau_of", lambda p: at)
    return at


def test_landed_cells_beside_1x(tmp_path, monkeypatch):
    monkeypatch.setenv("DMH_RUNS", str(tmp_path))
    monkeypatch.setattr(C, "hyperparameters", lambda m, ds, prof, budget=False: {})
    one = replace(PROFILES["quick"], seeds=(0, 1), epochs=EPOCHS)
    at = replace(one, name="quick-plateau", budget={"lfw": 4})
    monkeypatch.setattr(PR, "get_profile", lambda p: p)
    monkeypatch.setattr(PR, "plateau_of", lambda p: at)
    assert PR.main_at_plateau(one).empty
    lines = PR.main_plateau_lines(one).splitlines()
    assert lines[:2] == ["Profile `quick-plateau`: LFW 4x (8 epochs, box crop), fp32; test queries, seeds [0, 1].",
                         "LFW: 0 of 4 runs landed in float32; the rest: `dmh grid main-lfw --profile quick-plateau`."]
    mains = C.main_configs("lfw", at)
    assert [(c.bits, c.seed, c.epochs, c.precision) for c in mains] == \
        [(48, 0, 8, "fp32"), (48, 1, 8, "fp32"), (12, 0, 8, "fp32"), (12, 1, 8, "fp32")]
    for c, (m, f, p10) in zip(mains[:2], [(0.6, 0.7, 0.5), (0.4, 0.5, 0.3)]):
        at.store.save_run(run_record(c, metrics=_metrics(m, f, p10)))
    for c, m in zip(C.main_configs("lfw", one), (0.2, 0.3, 0.1, 0.1)):
        one.store.save_run(run_record(c, metrics=_metrics(m, m, 0.0)))
    t = PR.main_at_plateau(one)
    assert t.to_dict("records") == [
        {"dataset": "LFW", "bits": 48, "epochs": 8, "precision": "fp32", "seeds": 2,
         "test mAP@all": "0.5000 ± 0.1414", "at 1x": "0.2500 ± 0.0707",
         "binary - float": pytest.approx(-0.1), "P@10": pytest.approx(0.4)}]
    assert PR.main_plateau_lines(one).splitlines()[1].startswith("LFW: 2 of 4 runs landed in float32")
    from dmh.experiments.precision_twins import twin
    at.store.save_run(run_record(twin(mains[0]), metrics=_metrics(0.9, 0.9, 0.9)))  # beside its own
    t = PR.main_at_plateau(one)  # a row per precision, never one mean over both
    assert [(r["precision"], r["seeds"], r["test mAP@all"]) for _, r in t.iterrows()] == \
        [("fp32", 2, "0.5000 ± 0.1414"), ("bf16", 1, "0.9000")]
    at.store.run_path(twin(mains[0])).unlink()
    assert PR.plateau_finding(one) == (
        "**At the plateau budget** ([chapter](main_results.html)), DMH at 48 bits: LFW 8 epochs "
        "(fp32): test mAP@all 0.5000 ± 0.1414 over 2 seeds (1x: 0.2500 ± 0.0707), "
        "precision@10 0.400, binary - float -0.100.")


def test_only_the_paper_profile_has_a_plateau():
    assert PR.plateau_of("paper").name == "plateau" and PR.plateau_of("quick") is None
    assert PR.main_at_plateau("quick").empty and PR.plateau_finding("quick") == ""
    assert PR.variant_at_plateau("quick", "plain trunk") == ""


def test_the_book_trains_nothing_for_a_committed_profile():
    from dmh.report.reading import book_grids, chapter_grids
    stems = ["main_results", "recipe", "retrieval_examples", "unseen"]
    assert book_grids(stems, "paper") == book_grids(stems, "plateau") == []  # read as committed
    quick = chapter_grids(stems, "quick")
    assert book_grids(stems, "quick") == quick and "openexamples-lfw" in quick  # quick trains its own


def test_ablation_at_plateau_by_hand(tmp_path, monkeypatch):
    at = _plateau(tmp_path, monkeypatch, ablation_seeds=(0, 1))
    assert PR.ablation_at_plateau("quick", ["plain trunk"]).empty
    cfgs = C.ablation_configs("lfw", at, [C.FULL_DMH, "plain trunk"])
    for c, m in [(cfgs[C.FULL_DMH][0], 0.5), (cfgs[C.FULL_DMH][1], 0.7), (cfgs["plain trunk"][0], 0.3)]:
        assert c.epochs == 8 and c.precision == "fp32"
        at.store.save_run(run_record(c, metrics=_metrics(m, m, 0.0)))
    t = PR.ablation_at_plateau("quick", ["plain trunk"])
    (row,) = t.to_dict("records")
    assert row["variant"] == "plain trunk" and row["seeds"] == 1
    assert row["DMH (dense, conv-GAP, all losses) seeds"] == 2
    assert row["difference"] == pytest.approx(-0.3)
    assert row["in seed std"] == pytest.approx(-0.3 / 0.1414214, rel=1e-5)  # DMH's std: 1 seed
    assert row["verdict"] == "beyond two seed stds"
    assert PR.variant_at_plateau("quick", "plain trunk") == (
        "LFW plain trunk 0.3000 (1 seed, fp32) vs 0.6000 (-2.1 seed std, beyond two seed stds)")
    assert PR.variant_at_plateau("quick", "FC hash head") == ""  # not landed there


def test_plateau_evidence_and_quantization_by_hand(tmp_path, monkeypatch):
    at = _plateau(tmp_path, monkeypatch)
    assert PR.plateau_evidence("quick").empty and PR.quantization_table("quick").empty
    cs = C.plateau_configs("lfw", at)
    dmh = [c for c in cs if c.method == "dmh" and c.trunk == "dense" and c.head == "conv_gap"
           and len(c.losses) == 3]
    ddh = [c for c in cs if c.method == "ddh"]
    for c, m in [(dmh[0], 0.50), (dmh[1], 0.52), (ddh[0], 0.30)]:
        at.store.save_run(run_record(c, metrics=_metrics(m, m + 0.05, 0.0)))
    t = PR.plateau_evidence("quick").set_index("method")
    assert t.loc["DMH", "budget epochs"] == 8 and t.loc["DMH", "at twice it"] == 0.52
    assert t.loc["DMH", "gain"] == pytest.approx(0.04) and t.loc["DMH", "at its plateau"] == "yes"
    assert t.loc["DDH", "at the budget"] == 0.30 and t.loc["DDH", "at its plateau"] == ""
    assert t.loc["DMH", "precision"] == "float32"
    at.store.save_run(run_record(replace(ddh[1], precision="bf16"), metrics=_metrics(0.33, 0.33, 0.0)))
    t = PR.plateau_evidence("quick").set_index("method")  # fp32 0.30 against a bf16 0.33: never a pair
    assert t.loc["DDH", "precision"] == "float32" and t.loc["DDH", "at the budget"] == 0.30
    assert t.loc["DDH", "at twice it"] != t.loc["DDH", "at twice it"] and t.loc["DDH", "at its plateau"] == ""
    assert t.loc["DMH", "at twice it"] == 0.52
    q = C.quantization_configs("lfw", at)
    at.store.save_run(run_record(q[1], metrics=_metrics(0.4, 0.43, 0.0)))
    (row,) = PR.quantization_table("quick").to_dict("records")
    assert row["mu"] == q[1].mu and row["codes - float"] == pytest.approx(-0.03)


def test_comparison_at_plateau_by_hand(tmp_path, monkeypatch):
    at = _plateau(tmp_path, monkeypatch, seeds=(0, 1))
    cs = C.comparison_configs("lfw", at)
    pick = {(c.method, c.bits, c.seed): c for c in cs}
    for key, m in [(("dmh", 48, 0), 0.6), (("dmh", 48, 1), 0.8), (("ddh", 48, 0), 0.5), (("ddh", 12, 0), 0.1)]:
        at.store.save_run(run_record(pick[key], metrics=_metrics(m, m, 0.0)))
    (row,) = PR.comparison_at_plateau("quick").to_dict("records")  # the longest code only
    assert row["variant"] == "DDH" and row["seeds"] == 1 and row["DMH seeds"] == 2
    assert row["difference"] == pytest.approx(-0.2) and row["verdict"] == "within two seed stds"
    assert row["at 1x"] != row["at 1x"]  # no 1x run of DDH yet: NaN, and no line
    assert PR.comparison_plateau_lines(PR.comparison_at_plateau("quick")) == ""
    assert PR.comparison_plateau_missing("quick") == (
        "LFW: no run at the plateau budget yet for DSH, DPSH, HashNet, CSQ, DCDH "
        "(`dmh grid comparison-lfw --profile quick-plateau`).")
    one_x = {(c.method, c.bits): c for c in C.comparison_configs("lfw", PROFILES["quick"]) if c.seed == 0}
    PROFILES["quick"].store.save_run(run_record(one_x[("ddh", 48)], metrics=_metrics(0.7, 0.7, 0.0)))
    df = PR.comparison_at_plateau("quick")
    assert df["at 1x"].tolist() == [pytest.approx(0.7)]
    assert PR.comparison_plateau_lines(df).startswith(
        "LFW DDH: test mAP@all 0.7000 at 1x, 0.5000 at the plateau budget: worse with more epochs")


def test_baselines_said_by_hand(monkeypatch):
    frame = pd.DataFrame({"dataset": ["LFW"] * 3, "variant": ["DDH", "DCDH", "DSH"],
                          "variant mean": [0.36, 0.67, 0.59], "baseline mean": [0.70] * 3,
                          "in seed std": [-30.0, -1.5, -9.0], "seeds": [2, 1, 2],
                          "verdict": ["beyond two seed stds", "within two seed stds", "beyond two seed stds"],
                          "precision": ["fp32"] * 3})
    monkeypatch.setattr(PR, "comparison_at_plateau", lambda p: frame)
    assert PR._baselines_said("paper") == (
        " Against the deep baselines there ([comparison](comparison.html)): LFW, in fp32: DMH 0.7000 leads "
        "2 of 3 landed baselines beyond two seed stds; the strongest, DCDH, 0.6700 (1 seed; -1.5 seed "
        "std, within two seed stds).")
    frame.loc[1, ["variant mean", "in seed std"]] = [0.80, 5.0]  # DCDH ahead beyond two stds
    assert PR._baselines_said("paper").startswith(
        " Against the deep baselines there ([comparison](comparison.html)): LFW, in fp32: DMH 0.7000 leads "
        "2 of 3 landed baselines beyond two seed stds and trails 1 beyond them (DCDH); the strongest, "
        "DCDH, 0.8000 (1 seed; +5.0 seed std, beyond two seed stds).")
    across = pd.concat([frame, pd.DataFrame([{"dataset": "LFW", "variant": "CSQ", "variant mean": 0.9,
                                              "baseline mean": 0.7, "in seed std": 20.0, "seeds": 2,
                                              "verdict": PR.ACROSS, "precision": "bf16"}])], ignore_index=True)
    monkeypatch.setattr(PR, "comparison_at_plateau", lambda p: across)  # CSQ in another precision
    said = PR._baselines_said("paper")
    assert "2 of 3 landed baselines" in said and "the strongest, DCDH" in said
    assert said.endswith("; in another precision than DMH's, no verdict: CSQ.")
    monkeypatch.setattr(PR, "comparison_at_plateau", lambda p: frame.iloc[:0])
    assert PR._baselines_said("paper") == ""


def test_comparison_at_every_code_length_by_hand(tmp_path, monkeypatch):
    """Every deep method x (dataset, bits) at the plateau budget: mean ± std (seeds) over the
    landed seeds, blank where none landed; the cells the CPU keeps still to train, counted."""
    from dmh.report import plateau_bits as PB
    at = _plateau(tmp_path, monkeypatch, seeds=(0, 1))
    assert PB.comparison_bits_at_plateau("paper").empty
    pick = {(c.method, c.bits, c.seed): c for c in C.comparison_configs("lfw", at)}
    assert len(pick) == 21  # 7 methods: both seeds at 48 bits, the first at 12
    for key, m in {("dmh", 48, 0): 0.6, ("dmh", 48, 1): 0.4, ("dsh", 12, 0): 0.25}.items():
        at.store.save_run(run_record(pick[key], metrics=_metrics(m, m, 0.0)))
    t = PB.comparison_bits_at_plateau("paper")
    assert list(t.index) == ["DMH", "DSH"] and list(t.columns) == [("LFW", 12), ("LFW", 48)]
    assert t.loc["DMH"].tolist() == ["", "0.5000 ± 0.1414 (2)"]
    assert t.loc["DSH"].tolist() == ["0.2500 (1)", ""]
    assert PB.comparison_bits_missing("paper") == (
        "LFW: 18 of the cells the CPU keeps not trained yet (`dmh grid comparison-lfw --profile quick-plateau`).")
    monkeypatch.undo()
    assert PB.comparison_bits_at_plateau("quick").empty and PB.comparison_bits_missing("quick") == ""


def test_a_bf16_twin_stands_in_marked_and_gets_no_verdict(tmp_path, monkeypatch):
    """A cell whose run has not landed, with its bf16 twin landed, shows the twin marked ‡,
    the chapter's line names it, and no verdict is drawn between it and DMH in float32; the
    cell's own run, once landed, replaces it unmarked."""
    from dmh.experiments.precision_twins import twin
    from dmh.report import plateau_bits as PB
    from dmh.report import stand_ins as SI
    at = _plateau(tmp_path, monkeypatch)
    pick = {(c.method, c.bits): c for c in C.comparison_configs("lfw", at)}
    cell, dmh = pick["dsh", 12], pick["dmh", 48]
    assert cell.precision == dmh.precision == "fp32"
    at.store.save_run(run_record(dmh, metrics=_metrics(0.6, 0.6, 0.0)))
    assert SI.stand_in_line("paper", "comparison") == ""
    at.store.save_run(run_record(twin(cell), metrics=_metrics(0.25, 0.25, 0.0)))
    t = PB.comparison_bits_at_plateau("paper")
    assert t.loc["DSH", ("LFW", 12)] == "0.2500 (1) ‡" and t.loc["DMH", ("LFW", 48)] == "0.6000 (1)"
    line = SI.stand_in_line("paper", "comparison")
    assert line.startswith("‡ Trained in bfloat16 where the plateau profile trains every method in "
                           "float32 (1 run: LFW 12 bits, seed 0: DSH)")
    assert SI.stand_in_line("paper", "main") == ""
    at.store.save_run(run_record(cell, metrics=_metrics(0.3, 0.3, 0.0)))
    assert PB.comparison_bits_at_plateau("paper").loc["DSH", ("LFW", 12)] == "0.3000 (1)"
    assert SI.stand_in_line("paper", "comparison") == ""
    at.store.save_run(run_record(twin(pick["dsh", 48]), metrics=_metrics(0.5, 0.5, 0.0)))
    assert "LFW 48 bits, seed 0: DSH" in SI.stand_in_line("paper", "comparison", bits=48)
    assert SI.stand_in_line("paper", "comparison", bits=12) == ""
    plain = C.ablation_configs("lfw", at, ["plain trunk"])["plain trunk"][0]
    at.store.save_run(run_record(twin(plain), metrics=_metrics(0.5, 0.5, 0.0)))
    assert "LFW 48 bits, seed 0: DMH: plain trunk)" in SI.stand_in_line("paper", "ablation")  # by variant
    (row,) = PR.comparison_at_plateau("paper").to_dict("records")
    assert (row["variant"], row["precision"], row["DMH precision"]) == ("DSH", "bf16", "fp32")
    assert row["verdict"] == PR.ACROSS and row["difference"] == pytest.approx(-0.1)
    at.store.save_run(run_record(twin(dmh), metrics=_metrics(0.55, 0.55, 0.0)))  # DMH in bf16 too
    (row,) = PR.comparison_at_plateau("paper").to_dict("records")  # read again in bf16: a verdict
    assert (row["variant"], row["precision"], row["DMH precision"]) == ("DSH", "bf16", "bf16")
    assert row["verdict"] != PR.ACROSS and row["difference"] == pytest.approx(-0.05)
    assert row["variant mean"] == 0.5 and row["baseline mean"] == 0.55
    at2 = replace(at, seeds=(0, 1))  # both sides with seeds in both precisions: never a verdict
    monkeypatch.setattr(PR, "plateau_of", lambda p: at2)
    two = {(c.method, c.seed): c for c in C.comparison_configs("lfw", at2) if c.bits == 48}
    at2.store.save_run(run_record(twin(two["dmh", 1]), metrics=_metrics(0.65, 0.65, 0.0)))
    at2.store.save_run(run_record(two["dsh", 1], metrics=_metrics(0.45, 0.45, 0.0)))
    (row,) = PR.comparison_at_plateau("paper").to_dict("records")  # DMH fp32+bf16 vs DSH bf16+fp32
    assert (row["precision"], row["DMH precision"]) == ("bf16+fp32", "bf16+fp32") and row["verdict"] == PR.ACROSS


def test_longer_codes_that_underfit_said_by_hand(tmp_path, monkeypatch):
    """A line where test mAP@all and the training images' mAP both fall at every longer code
    (first seed, records that measure it); none where either rises or a length lacks it."""
    from dmh.report import plateau_bits as PB
    at = _plateau(tmp_path, monkeypatch, bits=(12, 24, 48), seeds=(0, 1))
    pick = {(c.method, c.bits, c.seed): c for c in C.comparison_configs("lfw", at)}
    assert PB.longer_codes_underfit("paper") == ""
    for (m, b), (test, train) in {("csq", 12): (0.6, 0.99), ("csq", 24): (0.5, 0.9),
                                  ("csq", 48): (0.4, 0.8), ("dsh", 12): (0.4, 0.7),
                                  ("dsh", 24): (0.3, 0.8), ("dcdh", 12): (0.5, 0.9),
                                  ("dcdh", 24): (0.4, 0.8)}.items():
        at.store.save_run(run_record(pick[(m, b, 0)], metrics=_metrics(test, test, 0.0) | {"map_all_train": train}))
    at.store.save_run(run_record(pick[("dcdh", 48, 0)], metrics=_metrics(0.45, 0.45, 0.0)))  # no measure
    at.store.save_run(run_record(pick[("dsh", 48, 1)], metrics=_metrics(0.1, 0.1, 0.0) | {"map_all_train": 0.1}))
    said = PB.longer_codes_underfit("paper").replace("\n", " ").split("LFW ")[1:]
    assert [s.strip() for s in said] == [
        "CSQ: test mAP@all falls from 0.6000 (12 bits) to 0.4000 (48 bits) while its training "
        "images' mAP falls from 0.9900 to 0.8000: at this budget its longer codes fit their own "
        "training images less (they underfit, not overfit).",
        "DCDH: test mAP@all falls from 0.5000 (12 bits) to 0.4000 (24 bits) while its training "
        "images' mAP falls from 0.9000 to 0.8000: at this budget its longer codes fit their own "
        "training images less (they underfit, not overfit)."]
    monkeypatch.undo()
    assert PB.longer_codes_underfit("quick") == ""
