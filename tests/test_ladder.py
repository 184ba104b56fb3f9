"""The budget ladders of every method (grid ladder-<ds>, dmh.report.ladder): which configs,
in what order, named how; gains per doubling and the plateau rule on hand-made frames."""
import math

import pandas as pd

from dmh.experiments import configs as C
from dmh.experiments.profiles import get_profile
from dmh.report.ladder import plateau_summary, plateau_table, who, with_gains
from dmh.report.recipe import plateau_from


def test_ladder_configs_every_method_and_variant_by_multiple():
    p = get_profile("paper")
    cs = C.ladder_configs("lfw", p)
    nets = len(C.METHODS) + len(C.ABLATIONS) - 1
    assert len(cs) == nets * len(p.budget_factors) == len({c.name() for c in cs})
    per = [cs[i * nets:(i + 1) * nets] for i in range(len(p.budget_factors))]
    for f, group in zip(p.budget_factors, per):  # one multiple at a time, every net in it
        assert {c.epochs for c in group} == {int(p.epochs["lfw"] * f)}
        assert {c.eval_split for c in group} == {"val"} and {c.bits for c in group} == {p.longest}
    names = [who(c) for c in per[0]]
    assert len(set(names)) == nets and "DMH: plain trunk" in names and "DMH: softmax only" in names
    assert "DMH" in names and "DSH" in names
    dmh = [c for c in cs if who(c) == "DMH"]
    assert dmh == C.budget_configs("lfw", p)[:len(p.budget_factors)]  # the budget grid's runs
    assert [c.epochs for c in C.budget_configs("lfw", p)[len(p.budget_factors):]] == [640, 1280]  # 16x, 32x


def test_gains_and_plateaus_by_hand():
    df = with_gains(pd.DataFrame([
        # A: 0.1 -> 0.2 (+100%) -> 0.205 (+2.5%): at its plateau by 20 epochs
        *[("LFW", "A", e, m) for e, m in ((40, 0.205), (10, 0.1), (20, 0.2))],
        # B: +50% at its last doubling; 30 epochs has no half in the ladder
        *[("LFW", "B", e, m) for e, m in ((10, 0.2), (20, 0.3), (30, 0.31))],
        ("LFW", "C", 10, 0.3),
        # D: flat (+1%), then steep (+50%): no plateau
        *[("LFW", "D", e, m) for e, m in ((10, 0.2), (20, 0.202), (40, 0.303))]],
        columns=["dataset", "method", "epochs", "val mAP@all"]))
    g = df.set_index(["method", "epochs"])["gain over half"]
    assert math.isnan(g["A", 10]) and g["A", 20] == 1.0 and abs(g["A", 40] - 0.025) < 1e-12
    assert abs(g["B", 20] - 0.5) < 1e-12 and math.isnan(g["B", 30])
    t = plateau_table(df).set_index("method")
    assert t.loc["A", "plateau by (epochs)"] == "20" and t.loc["A", "longest run (epochs)"] == 40
    assert t.loc["B", "plateau by (epochs)"] == "not yet" and abs(t.loc["B", "last doubling's gain"] - 0.5) < 1e-12
    assert t.loc["C", "plateau by (epochs)"] == "-" and math.isnan(t.loc["C", "last doubling's gain"])
    assert t.loc["D", "plateau by (epochs)"] == "not yet"
    assert plateau_from(pd.Series([0.01, 0.5, 0.02, 0.03])) == 2 and plateau_from(pd.Series([0.5])) is None
    assert plateau_summary(t.reset_index()) == ("LFW: 1 of 4 at their plateau (A by 20 epochs); 2 still "
                                                "gaining 5% or more at their last doubling.")
