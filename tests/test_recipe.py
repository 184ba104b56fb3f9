"""The training budget and recipe study: its grids reuse the runs that exist, and its verdict
lines follow their rules on hand-made tables."""
import math

import pandas as pd
import pytest
import torch

from dmh.experiments import configs as C
from dmh.experiments.profiles import get_profile
from dmh.experiments.tuning import candidates
from dmh.report.recipe import pairwise_lines, pairwise_table, plateau_lines, trial_lines


def test_budget_grid_trains_the_profiles_multiples(monkeypatch):
    p = get_profile("paper")
    monkeypatch.setattr(C, "method_config", lambda m, ds, p, budget=False, **kw: C.base_config(ds, p, **kw))
    assert [c.epochs for c in C.budget_configs("lfw", p)] == [20, 40, 80, 160, 320, 640, 1280]
    assert [c.epochs for c in C.budget_configs("pins", get_profile("quick"))] == [1, 2]  # from 1x


def test_warmup_trial_needs_a_whole_epoch_to_warm_up_in(monkeypatch):
    from dataclasses import replace
    monkeypatch.setattr(C, "method_config", lambda m, ds, p, budget=False, **kw: C.base_config(ds, p, **kw))
    one = get_profile("quick")  # 1 LFW epoch: no whole epoch to warm up in
    assert "lr warmup (5% of epochs)" not in C.trial_configs("lfw", one) and len(C.trial_configs("lfw", one)) == 5
    two = replace(one, epochs={"lfw": 2})
    assert C.trial_configs("lfw", two)["lr warmup (5% of epochs)"].warmup_epochs == 1
    assert C.trial_configs("lfw", get_profile("paper"))["lr warmup (5% of epochs)"].warmup_epochs == 2  # 40 epochs


def test_pairwise_study_holds_the_tuned_candidates():
    """The study's random-batch cells at the searched lrs are the tune grid's runs (same keys),
    so they are read, not retrained; and the paper records of both exist."""
    p = get_profile("paper")
    for ds in p.datasets:
        study = {c.key() for c in C.pairwise_lr_configs(ds, p)}
        tuned = [c for m in ("dsh", "dpsh") for c in candidates(m, ds, p)]
        assert {c.key() for c in tuned} <= study
        assert all(p.store.has_run(c) for c in tuned)
        assert len(study) == 2 * len(C.PAIRWISE_STUDY_LRS) * 2


def _budget(ds, maps):
    epochs = [10 * 2 ** i for i in range(len(maps))]
    df = pd.DataFrame({"dataset": ds, "epochs": epochs, "val mAP@all": maps})
    df["gain over half"] = df["val mAP@all"] / df["val mAP@all"].shift() - 1
    return df


def test_plateau_is_the_first_doubling_under_five_percent():
    df = pd.concat([_budget("a", [0.1, 0.2, 0.25, 0.26, 0.27]), _budget("b", [0.1, 0.15, 0.2])])
    lines = plateau_lines(df)
    # a: 0.25 -> 0.26 is +4.0%: the plateau is reached by 40 epochs (doubling to 80)
    assert "a: at its plateau by 40 epochs (doubling to 80 added +4.0%" in lines
    # b: 0.15 -> 0.2 is +33.3%, and no doubling was under 5%
    assert "b: not at its plateau: the last doubling, to 40 epochs, still added +33.3%" in lines


def test_pairwise_verdict_against_twice_the_random_codes():
    df = pd.DataFrame({"dataset": "d", "method": ["DSH"] * 2 + ["DPSH"] * 2,
                       "batches": ["random", "P x K"] * 2, "lr": [0.1, 0.1, 0.01, 0.01],
                       "val mAP@all": [0.011, 0.030, 0.012, 0.019], "2x random codes": 0.02})
    lines = pairwise_lines(df).replace("\n", " ")
    assert "d DSH: best val mAP@all 0.0300 at lr 0.1, P x K batches; 2x random codes 0.0200: learns." in lines
    assert "d DPSH: best val mAP@all 0.0190 at lr 0.01, P x K batches" in lines
    assert lines.endswith("learns nothing in any cell.")
    t = pairwise_table(df)
    assert t.loc[("d", "DSH", "P x K"), 0.1] == 0.03 and list(t.columns) == [0.1, 0.01]


def test_warmup_then_cosine_closed_form():
    from dmh.run.fit import cosine_lr
    assert cosine_lr(0.1, 0, 100, 10) == 0.0
    assert cosine_lr(0.1, 5, 100, 10) == 0.05                       # halfway up the ramp
    assert cosine_lr(0.1, 10, 100, 10) == 0.1                       # the cosine starts at base
    assert abs(cosine_lr(0.1, 55, 100, 10) - 0.05) < 1e-12          # its midpoint
    assert [cosine_lr(0.2, s, 50) for s in (0, 25, 50)] == [0.2, 0.5 * 0.2 * (1 + math.cos(math.pi / 2)), 0.0]


def test_warmup_is_checked_and_absent_from_old_keys():
    from dmh.core.config import TrainConfig
    base = TrainConfig(dataset="lfw", epochs=10)
    assert "warmup_epochs" not in base.to_dict()
    assert TrainConfig(dataset="lfw", epochs=10, warmup_epochs=1).key() != base.key()
    for bad in (-1, 10, 1.5, True):
        with pytest.raises(ValueError, match="warmup_epochs"):
            TrainConfig(dataset="lfw", epochs=10, warmup_epochs=bad)


def test_label_smoothing_is_the_mixed_target_cross_entropy():
    from dmh.losses import DMHLoss
    torch.manual_seed(0)
    logits, y, h = torch.randn(6, 5), torch.tensor([0, 1, 2, 3, 4, 0]), torch.zeros(6, 8)
    loss = DMHLoss(n_classes=5, n_bits=8, use_center=False, use_quantization=False, label_smoothing=0.2)
    logp = torch.log_softmax(logits, 1)
    by_hand = (0.8 * -logp[torch.arange(6), y] + 0.2 * -logp.mean(1)).mean()
    assert torch.allclose(loss(h, logits, y)[0], by_hand)
    with pytest.raises(ValueError, match="label_smoothing"):
        DMHLoss(n_classes=5, n_bits=8, label_smoothing=1.0)


def test_trials_kept_only_beyond_two_seed_stds():
    df = pd.DataFrame({"dataset": ["a"] * 3 + ["b"] * 2,
                       "trial": ["recipe as chosen", "x", "y", "recipe as chosen", "x"],
                       "change": [0, 0.03, 0.01, 0, -0.02], "in seed std": [0, 3.0, 1.0, 0, -2.5]})
    lines = trial_lines(df)
    assert lines.splitlines()[0] == "a: x (+0.0300, +3.0 seed std) beat the recipe as chosen by more than two seed stds."
    assert lines.splitlines()[1] == "b: no trial beats the recipe as chosen by more than two seed stds."


def test_the_speed_trial_is_read_as_a_cost():
    from dmh.experiments.configs import SPEED_TRIAL
    df = pd.DataFrame({"dataset": ["a"] * 2 + ["b"] * 2,
                       "trial": ["recipe as chosen", SPEED_TRIAL] * 2,
                       "change": [0, 0.03, 0, -0.02], "in seed std": [0, 3.0, 0, -2.5]})
    a, b = " ".join(trial_lines(df).split()).split(" b: ")
    assert a == ("a: no trial beats the recipe as chosen by more than two seed stds. bfloat16 "
                 "autocast: +0.0300 (+3.0 seed std), no cost beyond two seed stds.")
    assert b.endswith("bfloat16 autocast: -0.0200 (-2.5 seed std), a cost beyond two seed stds.")


def test_trials_with_one_main_seed_say_so():
    df = pd.DataFrame({"dataset": "a", "trial": ["recipe as chosen", "x"], "change": [0, 0.01],
                       "in seed std": [float("nan")] * 2})
    assert trial_lines(df) == "a: no seed spread to judge by (one main seed); the largest change is x's +0.0100."


def test_optimizer_choice_is_checked_and_absent_from_old_keys():
    from dmh.core.config import TrainConfig
    from dmh.run.fit import make_optimizer
    base = TrainConfig(dataset="lfw")
    assert "optimizer" not in base.to_dict()
    with pytest.raises(ValueError, match="optimizer"):
        TrainConfig(dataset="lfw", optimizer="rmsprop")
    w = [torch.nn.Parameter(torch.zeros(2))]
    sgd = make_optimizer(base, w)
    assert isinstance(sgd, torch.optim.SGD) and sgd.defaults["nesterov"]
    ams = make_optimizer(TrainConfig(dataset="lfw", optimizer="amsgrad", lr=0.005), w)
    assert isinstance(ams, torch.optim.Adam) and ams.defaults["amsgrad"] and ams.defaults["lr"] == 0.005
    assert not make_optimizer(TrainConfig(dataset="lfw", optimizer="adam"), w).defaults["amsgrad"]


def test_fit_lines_by_hand():
    import pandas as pd

    from dmh.report.fit import fit_lines
    df = pd.DataFrame({"dataset": ["A", "A", "B", "B"], "epochs": [10, 20, 10, 20],
                       "train softmax CE": [1.5, 0.1, 3.0, 0.9], "train center": [2.0, 1.0, 4.0, 6.0],
                       "val mAP@all": [0.2, 0.4, 0.05, 0.1]})
    a, b = " ".join(fit_lines(df).split()).split(" B: ")
    assert a.startswith("A: from 10 to 20 epochs the training softmax loss went 1.50 -> 0.10, the "
                        "center term 2.00 -> 1.00, validation mAP@all 0.200 -> 0.400; it fits")
    assert "at 20 epochs it does not yet fit its training identities" in b and "underfits" in b
    assert "still gains" in a and "longer training or a larger trunk is the lever" in b
    # the same losses, but the last doubling added under 5%: +4% (A) and +3% (B)
    df["val mAP@all"] = [0.25, 0.26, 0.1, 0.103]
    a, b = " ".join(fit_lines(df).split()).split(" B: ")
    assert a.endswith("it fits its training identities (softmax loss under 0.2) and its last doubling "
                      "added +4.0% validation mAP (under 5%): its codes have stopped gaining from epochs.")
    assert b.endswith("at 20 epochs it does not yet fit its training identities (softmax loss above "
                      "0.2), yet its last doubling added +3.0% validation mAP (under 5%): longer "
                      "training has little left to give this trunk (each doubling buys less than the "
                      "plateau rule asks), so a larger trunk or a better input is the lever.")


def test_fit_frame_reads_the_budget_runs_logs():
    from dmh.report.fit import fit_frame
    df = fit_frame("paper")
    lfw = df[df.dataset == "LFW"]
    assert list(lfw.epochs) == sorted(lfw.epochs) and len(lfw) >= 5
    assert (lfw["train softmax CE"].diff().dropna() < 0).all()  # the longer, the better fitted


def test_fit_summary_by_hand():
    import pandas as pd

    from dmh.report.fit import fit_summary
    df = pd.DataFrame({"dataset": ["A", "A", "B"], "epochs": [10, 20, 80],
                       "train softmax CE": [1.5, 0.1, 0.82]})
    assert fit_summary(df) == ("A fits its training identities at 20 epochs (training softmax loss "
                               "0.10); B does not yet fit its training identities at 80 epochs "
                               "(training softmax loss 0.82: it underfits)")


def test_gain_words_near_the_rule():
    from dmh.report.recipe import gain_words
    assert gain_words(0.245) == "+24.5%" and gain_words(0.0503) == "+5.03%" and gain_words(0.0497) == "+4.97%"
    assert gain_words(0.049) == "+4.9%"


def test_precision_grid_and_lines_by_hand(monkeypatch):
    import pandas as pd

    from dmh.experiments import configs as C
    from dmh.experiments.profiles import get_profile
    from dmh.report.recipe import precision_lines
    monkeypatch.setattr(C, "hyperparameters", lambda m, ds, prof, budget=False: {})
    cs = C.precision_configs("lfw", get_profile("paper"))
    assert [(c.seed, c.precision) for c in cs] == [(s, x) for s in (0, 1, 2) for x in ("fp32", "bf16")]
    assert {c.eval_split for c in cs} == {"val"} and len({c.name() for c in cs}) == 6
    # fp32 0.60 0.62 0.64 (std 0.02), bf16 0.55 0.56 0.57 (std 0.01): -0.06 = -3.0 seed std
    df = pd.DataFrame({"dataset": ["LFW", "LFW", "Pins", "Pins"], "precision": ["fp32", "bf16"] * 2,
                       "seeds": [3, 3, 1, 1], "val mAP@all mean": [0.62, 0.56, 0.3, 0.3],
                       "std": [0.02, 0.01, float("nan"), float("nan")],
                       "bf16 - fp32 in seed std": [-3.0, -3.0, float("nan"), float("nan")]})
    lfw, pins = precision_lines(df).split("\nPins")
    assert " ".join(lfw.split()) == ("LFW: bf16 - fp32 = -0.0600 over 3 and 3 seeds (-3.0 seed std, "
                                     "beyond two seed stds): a cost.")
    assert pins == ": 1 seed(s) of each precision so far: no seed spread to judge by."


def test_center_sampler_grid_and_lines_by_hand(monkeypatch):
    import pandas as pd

    from dmh.experiments import configs as C
    from dmh.experiments.profiles import get_profile
    from dmh.report.batch_k import center_sampler_lines
    monkeypatch.setattr(C, "hyperparameters", lambda m, ds, prof, budget=False: {})
    p = get_profile("paper")
    cs = C.center_sampler_configs("pins", p)
    assert [(c.method, c.sampler) for c in cs] == [(m, s) for m in ("dmh", "dcdh", "csq")
                                                   for s in ("random", "pk4")]
    # the random-batch runs are the ladder's 1x runs (cached)
    ladder = {c.name() for c in C.ladder_configs("pins", p)}
    assert {c.name() for c in cs if c.sampler == "random"} <= ladder
    df = pd.DataFrame({"dataset": ["LFW", "LFW", "Pins"], "method": ["DMH", "CSQ", "DMH"],
                       "change": [0.03, -0.001, 0.0], "in seed std": [3.0, -0.2, 0.0]})
    lfw, pins = center_sampler_lines(df).split("\n")
    assert lfw == "LFW: P x K batches move DMH +0.0300 (+3.0 seed std) beyond two seed stds."
    assert pins == "Pins: P x K batches move none of DMH beyond two seed stds."


def test_batch_k_grid_and_lines_by_hand(monkeypatch):
    import math

    import pandas as pd

    from dmh.experiments import configs as C
    from dmh.experiments.profiles import get_profile
    from dmh.experiments.batch_k import batch_k_configs
    from dmh.report.batch_k import batch_k_lines
    monkeypatch.setattr(C, "hyperparameters", lambda m, ds, prof, budget=False: {})
    p = get_profile("paper")
    cs = batch_k_configs("pins", p)
    assert [(c.method, c.sampler, c.eval_split) for c in cs] == [
        (m, f"pk{k}", "val") for m in ("dsh", "dpsh", "hashnet", "dmh", "dcdh", "csq") for k in (4, 16)]
    # K = 4 are the sampler studies' P x K runs (cached), not new ones
    pk4 = {c.name() for c in C.sampler_configs("pins", p) + C.center_sampler_configs("pins", p)
           if c.sampler == "pk4"}
    assert {c.name() for c in cs if c.sampler == "pk4"} == pk4
    df = pd.DataFrame({"dataset": ["LFW", "LFW", "Pins", "Pins"], "method": ["DPSH", "DMH", "DPSH", "CSQ"],
                       "change": [0.05, -0.03, 0.001, math.nan], "in seed std": [5.0, -3.0, 0.1, math.nan]})
    lfw, pins = batch_k_lines(df).split("\nPins")
    assert " ".join(lfw.split()) == ("LFW: 16 photos a person in a batch move DPSH +0.0500 (+5.0 seed std), DMH -0.0300 "
                   "(-3.0 seed std) beyond two seed stds (against 4).")
    assert " ".join(pins.split()) == ": 16 photos a person in a batch move none of DPSH beyond two seed stds (against 4)."
    assert batch_k_lines(df.iloc[3:]) == "Pins: no method has landed at both Ks yet."
