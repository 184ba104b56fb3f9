"""Choices at the result budget (grid rechoose-<ds>): the rule's two rounds, the choice and
where it reaches, by hand on a stand-in profile with made-up validation scores."""
from dataclasses import replace

import pytest

from conftest import run_record
from dmh.experiments import budget_choice as B
from dmh.experiments import configs as C
from dmh.experiments import runner
from dmh.experiments.profiles import PROFILES
from dmh.experiments.tuning import candidates, choose, hyperparameters
from dmh.report import budget_choice as R

LRS = (0.1, 0.03, 0.01)
# made-up validation mAP by (method, lr, epochs): DPSH's 1x best (lr 0.1) falls at the
# budget and its second (0.03) wins there; DDH's 1x best gains at the budget
SCORES = {("ddh", 0.1, 2): 0.30, ("ddh", 0.03, 2): 0.20, ("ddh", 0.01, 2): 0.10, ("ddh", 0.1, 8): 0.50,
          ("dpsh", 0.1, 2): 0.12, ("dpsh", 0.03, 2): 0.11, ("dpsh", 0.01, 2): 0.05,
          ("dpsh", 0.1, 8): 0.04, ("dpsh", 0.03, 8): 0.40, ("dpsh", 0.01, 8): 0.40}


@pytest.fixture
def at(tmp_path, monkeypatch):
    """A quick-profile copy at 4x its LFW budget searching DDH's and DPSH's lr, records in
    `tmp_path`, the 1x choices made from SCORES."""
    monkeypatch.setenv("DMH_RUNS", str(tmp_path))
    p = replace(PROFILES["quick"], name="quick-budget", epochs={"lfw": 2, "pins": 1}, budget={"lfw": 4},
                search={"ddh": {"lr": LRS}, "dpsh": {"lr": LRS}})
    for m in p.search:
        for c in candidates(m, "lfw", p):
            _land(c, p)
        choose(m, "lfw", p)
    return p


def _land(c, p):
    p.store.save_run(run_record(c, metrics={"map_all": SCORES[(c.method, c.lr, c.epochs)]}))


def test_the_rule_decides_then_rechooses_only_what_got_worse(at):
    first = [B.first_at_budget(m, "lfw", at) for m in at.search]
    assert [(c.method, c.lr, c.epochs, c.eval_split) for c in first] == [("ddh", 0.1, 8, "val"), ("dpsh", 0.1, 8, "val")]
    assert B.rechoose_configs("lfw", at) == first  # round one: has each 1x choice got worse?
    assert B.got_worse("ddh", "lfw", at) is None and B.choose_at_budget("dpsh", "lfw", at) is None
    for c in first:
        _land(c, at)
    assert (B.got_worse("ddh", "lfw", at), B.got_worse("dpsh", "lfw", at)) == (False, True)
    todo = B.rechoose_configs("lfw", at)  # round two: DPSH's three best 1x trials at the budget
    assert [(c.method, c.lr, c.epochs) for c in todo] == [("dpsh", 0.1, 8), ("dpsh", 0.03, 8), ("dpsh", 0.01, 8)]
    assert todo[0] == first[1] and B.choose_at_budget("dpsh", "lfw", at) is None  # not all landed
    assert R.budget_choice_frame_of(at)["chosen at the budget"].tolist() == ["yes", "pending", "pending", "pending"]
    for c in todo[1:]:
        _land(c, at)
    out = B.choose_at_budget("dpsh", "lfw", at)
    assert out["chosen"] == {"lr": 0.03} and out["chosen_at_1x"] == {"lr": 0.1}  # 0.03 before 0.01: first of equals
    assert [r["val_map_all"] for r in out["candidates"]] == [0.04, 0.40, 0.40]
    assert B.choose_at_budget("ddh", "lfw", at) is None


def test_the_choice_reaches_the_configs_at_the_budget_only(at):
    for c in [B.first_at_budget(m, "lfw", at) for m in at.search] + B.budget_candidates("dpsh", "lfw", at)[1:]:
        _land(c, at)
    B.choose_at_budget("dpsh", "lfw", at)
    assert hyperparameters("dpsh", "lfw", at) == {"lr": 0.1}
    assert hyperparameters("dpsh", "lfw", at, budget=True) == {"lr": 0.03}
    assert hyperparameters("ddh", "lfw", at, budget=True) == {"lr": 0.1}
    by = {(c.method, c.bits, c.seed): c for c in C.comparison_configs("lfw", at)}
    assert by[("dpsh", 48, 0)].lr == 0.03 and by[("ddh", 48, 0)].lr == 0.1 and by[("dpsh", 48, 0)].epochs == 8
    assert {c.lr for c in C.plateau_configs("lfw", at) if c.method == "dpsh"} == {0.03}
    assert C.method_config("dpsh", "lfw", at).lr == 0.1  # the 1x study grids keep the 1x choice
    assert {c.lr for c in C.precision_check_configs("lfw", at) if c.method == "dpsh"} == {0.1}


def test_the_runner_trains_both_rounds_then_chooses(at, monkeypatch):
    trained = []

    def fake_pool(configs, store, **kw):
        trained.append([(c.method, c.lr) for c in configs])
        for c in configs:
            _land(c, at)

    monkeypatch.setattr(runner, "train_pool", fake_pool)
    said = []
    runner._rechoose("lfw", at, 1, "cpu", 1, said.append)
    assert trained == [[("ddh", 0.1), ("dpsh", 0.1)], [("dpsh", 0.03), ("dpsh", 0.01)]]
    assert said == ["chose for dpsh on lfw at the budget: {'lr': 0.03} (at 1x: {'lr': 0.1})"]


def test_the_runner_rechooses_on_twins_standing_in(at, monkeypatch):
    """A re-choice reads a run's twin in the other precision where only that landed (a
    decision, not a verdict): the twins landed, it trains nothing and chooses as from its own."""
    from dmh.experiments.precision_twins import twin

    for c in [B.first_at_budget(m, "lfw", at) for m in at.search]:
        _land(twin(c), at)
    for c in B.budget_candidates("dpsh", "lfw", at):
        _land(twin(c), at)
    trained, said = [], []
    monkeypatch.setattr(runner, "train_pool", lambda cs, store, **kw: trained.append(cs))
    runner._rechoose("lfw", at, 1, "cpu", 1, said.append)
    assert trained == []
    assert said == ["chose for dpsh on lfw at the budget: {'lr': 0.03} (at 1x: {'lr': 0.1})"]


def test_frame_and_lines_by_hand(at):
    for c in [B.first_at_budget(m, "lfw", at) for m in at.search] + B.budget_candidates("dpsh", "lfw", at)[1:]:
        _land(c, at)
    df = R.budget_choice_frame_of(at)
    assert df[["method", "trial", "epochs", R.AT_1X, R.AT_BUDGET, "got worse", R.CHOSEN]].values.tolist() == [
        ["DDH", "lr 0.1", 8, 0.30, 0.50, "no", "yes"],
        ["DPSH", "lr 0.1", 8, 0.12, 0.04, "yes", ""],
        ["DPSH", "lr 0.03", 8, 0.11, 0.40, "yes", "yes"],
        ["DPSH", "lr 0.01", 8, 0.05, 0.40, "yes", ""]]
    assert " ".join(R.budget_choice_lines(df).split()) == (
        "LFW: DPSH's 1x choice (lr 0.1) scored 0.1200 at 1x and 0.0400 at 8 epochs; of its 3 best "
        "1x trials retrained there, lr 0.03 scored best (0.4000), its choice at the budget; kept "
        "their 1x choice (no worse at the budget): DDH.")
    df.loc[df.trial == "lr 0.03", R.AT_BUDGET] = 0.09  # the best at the budget below the 1x choice at 1x
    assert " ".join(R.budget_choice_lines(df).split()).startswith(
        "LFW: DPSH's 1x choice (lr 0.1) scored 0.1200 at 1x and 0.0400 at 8 epochs; of its 3 best "
        "1x trials retrained there, lr 0.03 scored best (0.0900), its choice at the budget, still "
        "below the 1x choice's 0.1200 at 1x: longer training hurt it under every trial retrained, "
        "so its own plateau lies at or below the 1x budget; kept")
    assert R.budget_choice_frame("quick").empty and R.budget_choice_lines(R.budget_choice_frame("quick")) == ""
