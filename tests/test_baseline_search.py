"""Each baseline's own hyperparameter search (grid search-<ds>): as many trials as DMH's,
keys into the method's own kwargs, the choice applied where every config is made, and the
verdict lines by hand."""
import pandas as pd

from dmh.experiments import configs as C
from dmh.experiments import recipes
from dmh.experiments.profiles import get_profile
from dmh.experiments.tuning import as_fields, candidates, value_of
from dmh.report.baseline_search import search_lines


def test_every_baseline_gets_as_many_trials_as_dmh():
    p = get_profile("paper")
    dmh_trials = len(candidates("dmh", "lfw", p))
    cs = C.search_configs("lfw", p)
    methods = [m for m in C.METHODS if m != "dmh"]
    assert sorted(p.baseline_search) == sorted(methods)
    for m in methods:
        mine = [c for c in cs if c.method == m]
        assert len(mine) == len({c.name() for c in mine}) == dmh_trials == 9
        assert {c.eval_split for c in mine} == {"val"} and {c.seed for c in mine} == {0}
    assert [c.method for c in cs[:len(methods)]] == list(p.baseline_search)  # one of each in turn
    assert C.search_configs("lfw", get_profile("quick")) == []


def test_loss_weights_merge_into_the_methods_own_kwargs():
    p = get_profile("paper")
    dpsh = candidates("dpsh", "pins", p, {"lr": (0.03,), "method_kwargs.eta": (0.02,)})[0]
    assert dpsh.method_kwargs == {"outputs": "linear", "eta": 0.02} and dpsh.lr == 0.03
    assert dpsh.sampler == "pk4"  # the method's defaults stay
    assert value_of(dpsh, "method_kwargs.eta") == 0.02 and value_of(dpsh, "lr") == 0.03
    assert as_fields({"lr": 0.1}) == {"lr": 0.1}
    assert as_fields({"method_kwargs.mu": 0.5}, {"a": 1}) == {"method_kwargs": {"a": 1, "mu": 0.5}}
    # the paper's value is the default: that trial is the run the book has today (same key)
    today = C.method_config("dpsh", "pins", p, bits=48, eval_split="val", lr=0.1)
    same = candidates("dpsh", "pins", p, {"lr": (0.1,), "method_kwargs.eta": (0.002,)})[0]
    assert same.name() == today.name()


def test_a_dotted_choice_reaches_every_config(monkeypatch):
    p = get_profile("paper")
    chosen = {"lr": 0.03, "method_kwargs.alpha": 0.1}
    monkeypatch.setattr(C, "hyperparameters", lambda m, ds, prof, budget=False: chosen if m == "dsh" else {})
    c = C.method_config("dsh", "lfw", p, seed=2)
    assert c.lr == 0.03 and c.method_kwargs == {"outputs": "linear", "alpha": 0.1} and c.seed == 2
    monkeypatch.setattr(recipes, "hyperparameters", lambda m, ds, prof, budget=False: chosen)
    fields, _ = recipes.recipe("lfw", "dsh")
    assert fields["method_kwargs"] == {"outputs": "linear", "alpha": 0.1} and fields["lr"] == 0.03


def test_search_lines_by_hand():
    t = pd.DataFrame({"dataset": ["LFW", "LFW", "Pins"], "method": ["DSH", "CSQ", "DSH"],
                      "best": ["lr 0.03, alpha 0.1", "lr 0.1, lam 0.0001", "lr 0.1, alpha 0.01"],
                      "change": [0.05, 0.001, 0.0], "in seed std": [5.0, 0.2, 0.0]})
    lfw, pins = " ".join(search_lines(t).split()).split(" Pins: ")
    assert lfw == "LFW: DSH (lr 0.03, alpha 0.1: +0.0500, +5.0 seed std) beat today's choice by more than two seed stds."
    assert pins == "no baseline's own search beats today's choice by more than two seed stds (1 searched)."
    t["at its range's end"] = ["alpha", "", "lr, alpha"]
    lfw, pins = " ".join(search_lines(t).split()).split(" Pins: ")
    assert lfw.endswith("two seed stds. Best at an end of its searched range: DSH's alpha.")
    assert pins.endswith("(1 searched). Best at an end of its searched range: DSH's lr, alpha.")


def test_the_comparison_finding_names_the_understated_baselines():
    from dmh.report.findings import _searched
    t = pd.DataFrame({"dataset": ["LFW", "LFW", "Pins"], "method": ["DDH", "CSQ", "DDH"],
                      "trials": [9, 3, 1], "of": [9, 9, 9], "in seed std": [9.2, 0.5, 1.9]})
    assert _searched(t, "LFW") == (
        " The baselines train here with the shared recipe (DSH's and DPSH's lr searched); their own "
        "9-trial search (12 of 18 validation trials landed) beats that on validation by more than "
        "two seed stds for DDH, whose rows here understate them.")
    assert _searched(t, "Pins") == (" No baseline's own search (1 of 9 validation trials landed) "
                                    "beats the choice it trains with here by more than two seed stds.")
    assert _searched(pd.DataFrame(), "LFW") == ""
