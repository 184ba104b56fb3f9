"""The one table of every method at the plateau budget, by hand: landed seeds, and the
evidence that the budget is each one's plateau (the plateau grid's doubling, else DMH's own
budget ladder)."""
import pandas as pd

from test_plateau_results import _metrics, _plateau
from conftest import run_record
from dmh.experiments import configs as C
from dmh.report import convergence as CV


def test_convergence_table_by_hand(tmp_path, monkeypatch):
    at = _plateau(tmp_path, monkeypatch, seeds=(0, 1))
    monkeypatch.setattr(CV, "plateau_of", lambda p: at)
    # DMH's budget ladder: the doubling past the budget (16 epochs) added 10%: not at its plateau
    monkeypatch.setattr(CV, "budget_frame", lambda p: pd.DataFrame(
        {"dataset": ["LFW"], "epochs": [16], "gain over half": [0.10]}))
    pick = {(c.method, c.bits, c.seed): c for c in C.comparison_configs("lfw", at)}
    for key, m in [(("dmh", 48, 0), 0.6), (("dmh", 48, 1), 0.8), (("ddh", 48, 0), 0.5), (("ddh", 12, 0), 0.1)]:
        at.store.save_run(run_record(pick[key], metrics=_metrics(m, m, 0.0)))
    (trunk,) = C.ablation_configs("lfw", at, ["plain trunk"])["plain trunk"][:1]
    at.store.save_run(run_record(trunk, metrics=_metrics(0.7, 0.7, 0.0)))
    ddh = {c.epochs: c for c in C.plateau_configs("lfw", at) if c.method == "ddh"}
    budget = at.epochs["lfw"] * at.budget["lfw"]
    for epochs, m in [(budget, 0.30), (2 * budget, 0.31)]:  # +3.3%: under 5%, at its plateau
        at.store.save_run(run_record(ddh[epochs], metrics=_metrics(m, m, 0.0)))
    t = CV.convergence_table("quick").set_index("method")
    assert len(t) == 12 and set(t.epochs) == {budget}  # DMH, 5 variants, 6 baselines
    assert t.loc["DMH", ["seeds", "test mAP@all", "at its plateau", "evidence"]].tolist() == \
        [2, "0.7000 ± 0.1414", "no", "DMH's budget ladder (1x recipe)"]
    assert t.loc["DDH", ["seeds", "test mAP@all", "at its plateau", "evidence"]].tolist() == \
        [1, "0.5000", "yes", "plateau grid"]  # its 12-bit run is not the longest code's
    assert abs(t.loc["DDH", "doubling past it"] - 0.31 / 0.30 + 1) < 1e-12
    assert t.loc["DMH: plain trunk", ["seeds", "at its plateau", "evidence"]].tolist() == [1, "unknown", "not trained"]
    assert t.loc["DSH", ["seeds", "test mAP@all"]].tolist() == [0, "not landed"]
    line = CV.convergence_lines(t.reset_index(), "quick")
    assert line.startswith("LFW: 3 of 12 methods and variants landed at the plateau budget "
                           f"({budget} epochs); 1 of them shown at their plateau (the doubling past it "
                           "added under 5%), 1 shown short of it (DMH), 1 without that run yet.")
    assert "`dmh grid plateau-lfw --profile quick-plateau` has" in line
    from dmh.experiments.precision_twins import twin  # a bf16 twin beside DMH's seed 1: a row of its own
    at.store.save_run(run_record(twin(pick["dmh", 48, 1]), metrics=_metrics(0.9, 0.9, 0.0)))
    t2 = CV.convergence_table("quick")
    dmh = t2[t2.method == "DMH"]
    assert dmh[["precision", "seeds", "test mAP@all"]].values.tolist() == [["fp32", 2, "0.7000 ± 0.1414"],
                                                                         ["bf16", 1, "0.9000"]]
    assert CV.convergence_lines(t2, "quick").startswith("LFW: 3 of 12 methods")  # counted once


def test_no_plateau_no_rows():
    assert CV.convergence_table("quick").empty
