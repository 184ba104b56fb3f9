"""The plateau profile: the paper grid with every method's own searched hyperparameters and
its result grids at the plateau budget; its study grids and choices stay at 1x, its choices
in their own folder, and the paper profile's configs do not move."""
from dataclasses import replace

from dmh.experiments import configs as C
from dmh.experiments.grids import GRIDS
from dmh.experiments.profiles import BASELINE_SEARCH, PLATEAU_BUDGET, get_profile
from dmh.experiments.tuning import candidates


def _profiles_precision(c, p) -> bool:
    """`c` trains in `p`'s precision, or is the twin standing in for a run not landed
    (`precision_twins`)."""
    return c.precision == p.precision or (p.store.has_run(c) and not p.store.has_run(replace(c, precision=p.precision)))


def _no_choices(monkeypatch):
    monkeypatch.setattr(C, "hyperparameters", lambda m, ds, prof, budget=False: {})


def test_result_grids_train_at_the_budget_study_grids_at_1x(monkeypatch):
    _no_choices(monkeypatch)
    p, paper = get_profile("plateau"), get_profile("paper")
    for ds in p.datasets:
        f, one = PLATEAU_BUDGET[ds], paper.epochs[ds]
        for kind in ("main", "sensitivity", "ablation", "comparison", "examples"):
            mine = GRIDS[kind].items(ds, p)
            assert mine and {c.epochs for c in mine} == {one * f}, kind
            assert all(_profiles_precision(c, p) for c in mine), kind
            assert {c.face_crop for c in mine} == {"aligned" if ds == "pins" else "box"}, kind
            # the same runs as the paper profile's, but for the epochs, precision and crop
            assert [replace(c, epochs=one, precision="fp32", face_crop="box") for c in mine] == \
                GRIDS[kind].items(ds, paper), kind
        for kind in ("open", "cross"):
            for c in GRIDS[kind].items(ds, p):
                assert c.epochs == paper.epochs[c.dataset] * PLATEAU_BUDGET[c.dataset]
        for kind in ("tune", "search", "trials", "input", "sampler", "published"):
            assert {c.epochs for c in GRIDS[kind].items(ds, p)} == {one}, kind
            assert {c.face_crop for c in GRIDS[kind].items(ds, p)} <= {"box", "tight", "aligned"}
            assert kind == "trials" or {c.precision for c in GRIDS[kind].items(ds, p)} == {"fp32"}, kind
        assert GRIDS["ladder"].items(ds, p) == GRIDS["ladder"].items(ds, paper)
        shallow = GRIDS["shallow"].items(ds, p)
        assert {s.trunk.epochs for s in shallow if s.trunk is not None} == {one * f}
        # every shallow fit reads the result runs' crop, pixels and trunks alike
        assert {s.face_crop for s in shallow} == {"aligned" if ds == "pins" else "box"}
        fits = lambda specs: [(s.method, s.features, s.bits, s.seed) for s in specs]  # noqa: E731
        assert fits(shallow) == fits(GRIDS["shallow"].items(ds, paper))
        # the headline cells first: the longest code, every seed, before any shorter code
        main = GRIDS["main"].items(ds, p)
        assert [(c.bits, c.seed) for c in main[:7]] == [(48, 0), (48, 1), (48, 2), (36, 0),
                                                         (24, 0), (12, 0), (36, 1)]
        assert len({c.name() for c in main}) == len(main) == 12
        assert {c.bits for c in GRIDS["comparison"].items(ds, p)[:21]} == {48}


def test_plateau_grid_is_every_net_at_the_budget_and_twice_it(monkeypatch):
    _no_choices(monkeypatch)
    p, paper = get_profile("plateau"), get_profile("paper")
    nets = C.study_nets("lfw", p)
    cs = C.plateau_configs("lfw", p)
    assert len(nets) == 12 and len(cs) == 24  # 7 methods + 5 one-change variants of DMH
    assert [c.epochs for c in cs] == [640] * 12 + [1280] * 12
    assert {c.eval_split for c in cs} == {"val"}
    assert all(_profiles_precision(c, p) for c in cs) and p.precision == "fp32"
    assert {c.face_crop for c in cs} == {"box"}
    assert {c.face_crop for c in C.plateau_configs("pins", p)} == {"aligned"}
    # at the paper profile's 1x budget it is the ladder's 1x and 2x rungs (cached runs)
    ladder = {c.name() for c in C.ladder_configs("lfw", paper)}
    assert {c.name() for c in C.plateau_configs("lfw", paper)} <= ladder


def test_every_method_searched_with_dmhs_trial_count_and_the_search_grids_runs():
    p, paper = get_profile("plateau"), get_profile("paper")
    assert set(p.search) == {"dmh", *BASELINE_SEARCH}
    for m in p.search:
        mine = candidates(m, "pins", p)
        assert len(mine) == 9 and {c.epochs for c in mine} == {10}
    # the tune grid's baseline trials are the search grid's (cached), DMH's the paper's
    tune = {c.name() for c in C.tune_configs("pins", p)}
    assert {c.name() for c in C.search_configs("pins", paper)} < tune
    assert {c.name() for c in candidates("dmh", "pins", paper)} < tune


def test_own_folder_of_choices_same_records():
    p, paper = get_profile("plateau"), get_profile("paper")
    assert p.store.root == paper.store.root and p.store.committed
    assert p.store.chosen_path("dsh", "lfw") != paper.store.chosen_path("dsh", "lfw")
    assert paper.store.chosen_path("dsh", "lfw").parent.name == "chosen"
    assert get_profile("quick").store.chosen_path("dmh", "lfw").parent.name == "chosen"


def test_budget_lines_by_hand(monkeypatch):
    import pandas as pd

    from dmh.report import plateau_plan as PP
    frame = pd.DataFrame({"dataset": ["LFW"] * 3 + ["Pins"] * 2,
                          "x budget": [8.0, 16.0, 32.0, 16.0, 32.0],
                          "gain over half": [0.24, 0.0503, 0.002, 0.14, 0.138]})
    monkeypatch.setattr(PP, "budget_frame", lambda profile: frame)
    priced = []
    monkeypatch.setattr(PP, "estimate_seconds", lambda runs, store: (priced.extend(runs), (7200.0, 0))[1])
    lfw, pins = PP.budget_lines().split("\nPins")
    assert " ".join(lfw.split()) == ("LFW: 16x (640 epochs): the doubling into it added +5.03% "
                                     "validation mAP; the doubling past it added +0.2% validation "
                                     "mAP (under 5%: at the plateau).")
    assert " ".join(pins.split()) == (": 32x (320 epochs): the doubling into it added +13.8% validation "
                                      "mAP; the doubling past it (640 epochs) is not trained yet (about "
                                      "2.0 CPU hours for the one run: it waits for a GPU); until it is, "
                                      "32x is a lower bound of the plateau, and Pins' results at this "
                                      "budget are short of convergence.")
    assert [(c.dataset, c.epochs, c.eval_split) for c in priced] == [("pins", 640, "val")]
    # a doubling into the budget under 5% with none past it: no lower bound to state
    frame.loc[4, "gain over half"] = 0.04
    assert " ".join(PP.budget_lines().split("\nPins")[1].split()).endswith("waits for a GPU).")


def test_plan_counts_each_run_once(monkeypatch):
    from dmh.report import plateau_plan as PP
    _no_choices(monkeypatch)
    plan = PP.plan_frame("plateau")
    lfw = plan[plan["dataset"] == "LFW"].set_index("grid")
    assert list(lfw.index) == list(PP.VERDICT_GRIDS)
    assert lfw.loc["plateau", "runs"] == 24 and lfw.loc["main", "runs"] == 12
    # the comparison's DMH rows (6) and the ablation's full DMH (3) are main's: counted once
    assert lfw.loc["comparison", "left (not counted before)"] == 42 - 6
    assert lfw.loc["ablation", "left (not counted before)"] == 18 - 3
    # a CPU keeps every seed at 48 bits and seed 0 at 12/24/36: main's 6 later-seed runs go
    assert lfw.loc["main", "left, CPU keeps"] == 3 + 3
    assert (lfw.drop("main")["left, CPU keeps"] == lfw.drop("main")["left (not counted before)"]).all()
    assert (plan["CPU hours left, CPU keeps"] < plan["CPU hours left"]).sum() == 2  # main, each dataset
    assert (plan["CPU hours left"] > 0).all()


def test_shallow_spec_crop_names_and_trunk_agreement():
    import pytest
    from dmh.core.config import TrainConfig
    from dmh.experiments.shallow_specs import ShallowSpec
    box = ShallowSpec("ITQ", "pins", 48, 0, "pixels")
    assert box.name() == "ITQ-pins-pixels-48b-s0"  # the committed records' names
    assert ShallowSpec("ITQ", "pins", 48, 0, "pixels", face_crop="aligned").name() == \
        "ITQ-pins-pixels-aligned-48b-s0"
    trunk = TrainConfig(dataset="pins", face_crop="aligned")
    assert ShallowSpec("ITQ", "pins", 48, 0, "dmh_trunk", trunk, face_crop="aligned").name() == \
        "ITQ-pins-dmh_trunk-aligned-48b-s0"
    with pytest.raises(ValueError, match="trained on 'aligned'"):
        ShallowSpec("ITQ", "pins", 48, 0, "dmh_trunk", trunk)


def test_quantization_grid_is_dmh_at_the_budget_over_its_searched_mu(monkeypatch):
    monkeypatch.setattr(C, "hyperparameters", lambda m, ds, prof, budget=False: {"mu": 0.01} if m == "dmh" else {})
    p = get_profile("plateau")
    cs = GRIDS["quantization"].items("pins", p)
    assert [c.mu for c in cs] == [0.01, 0.001, 0.1]  # the chosen mu first
    assert {(c.epochs, c.precision, c.face_crop, c.eval_split) for c in cs} == {(320, "fp32", "aligned", "val")}
    # its first run is the plateau grid's DMH run at the budget (cached, trained once)
    assert cs[0] in C.plateau_configs("pins", p)


def test_ablation_grid_lands_every_variants_first_seed_first(monkeypatch):
    _no_choices(monkeypatch)
    p = get_profile("plateau")
    cs = GRIDS["ablation"].items("lfw", p)
    assert len(cs) == 18 and [c.seed for c in cs[:6]] == [0] * 6 and [c.seed for c in cs[6:12]] == [1] * 6
    assert sorted(c.name() for c in cs) == sorted(c.name() for v in C.ablation_configs("lfw", p).values() for c in v)


def test_plan_line_counts_a_shared_run_once(monkeypatch):
    import pandas as pd

    from dmh.report import plateau_plan as PP
    plan = pd.DataFrame({"grid": ["main", "comparison"], "runs": [12, 42], "landed": [3, 3],
                         "landed (not counted before)": [3, 0], "left (not counted before)": [9, 36],
                         "CPU hours left": [4.0, 10.0], "left, CPU keeps": [3, 36],
                         "CPU hours left, CPU keeps": [1.0, 10.0]})
    line = " ".join(PP.plan_line(plan).split())
    assert line.startswith("The verdict grids at the plateau budget: 3 of 48 distinct "
                           "runs landed; about 14 CPU hours left")
    assert "it keeps the cells the verdicts rest on (every seed at the longest code, the first " \
           "seed at each shorter one): about 11 CPU hours (~6 h on 2 cores). Cut: the 6 runs of " \
           "later seeds at the shorter codes (main-<ds>), and open-<ds>, cross-<ds>" in line
    assert "GPU hours" not in line  # no lend rate given
    from dmh.report.lend_rate import LendRate
    priced = " ".join(PP.plan_line(plan, LendRate(1, 5, 7200.0, 360.0, ("G",))).split())
    assert "DMH_PROFILE=plateau); at the rate of the GPU lends logged so far (1 on G, 5 short runs" in priced
    assert "20 CPU seconds a second), that is about 0.7 GPU hours, 4 lends of 10 minutes;" in priced
    plan["left, CPU keeps"], plan["CPU hours left, CPU keeps"] = plan["left (not counted before)"], plan["CPU hours left"]
    assert "Cut: open-<ds>, cross-<ds> (the" in " ".join(PP.plan_line(plan).split())
