"""The binary-float gap trials: the bit-balance term and the classifier on the codes by hand,
and their grid changes one thing each from the chosen recipe."""
import pytest
import torch

from dmh.experiments import configs as C
from dmh.experiments.profiles import get_profile
from dmh.losses import BitBalanceLoss, DMHLoss
from dmh.models import DMHNet


def test_bit_balance_by_hand():
    h = torch.tensor([[1.0, 1.0, 0.5], [-1.0, 1.0, -0.1]])
    # bit means 0, 1, 0.2 -> 0 + 1 + 0.04
    assert BitBalanceLoss()(h).item() == pytest.approx(1.04)
    assert BitBalanceLoss()(torch.tensor([[1.0, -1.0], [-1.0, 1.0]])).item() == 0.0


def test_balance_weight_enters_the_dmh_total_only_when_set():
    torch.manual_seed(0)
    h, logits, y = torch.tanh(torch.randn(6, 8)), torch.randn(6, 3), torch.tensor([0, 1, 2, 0, 1, 2])
    plain = DMHLoss(n_classes=3, n_bits=8, lam=0.1, mu=0.01)
    total0, terms0 = plain(h, logits, y)
    assert "balance" not in terms0
    total, terms = DMHLoss(n_classes=3, n_bits=8, lam=0.1, mu=0.01, balance=0.5)(h, logits, y)
    expected = h.mean(0).pow(2).sum()
    assert terms["balance"].item() == pytest.approx(expected.item())
    assert total.item() == pytest.approx(total0.item() + 0.5 * expected.item(), rel=1e-6)
    with pytest.raises(ValueError, match="balance"):
        DMHLoss(n_classes=3, n_bits=8, balance=-1.0)


def test_classifier_on_the_codes_reads_signs_and_passes_gradients_straight():
    torch.manual_seed(0)
    net = DMHNet(n_classes=4, n_bits=8, classify_codes=True).eval()
    x = torch.randn(2, 3, 32, 32)
    h, logits = net(x)
    assert torch.allclose(logits, net.classifier(torch.sign(h)))
    # the gradient reaching h is the one the codes get: W^T dL/dlogits, not through sign's 0
    h.retain_grad()
    logits.sum().backward()
    assert torch.allclose(h.grad, net.classifier.weight.sum(0).expand(2, -1))
    # off (the paper's), the classifier reads h itself
    net.classify_codes = False
    h2, logits2 = net(x)
    assert torch.allclose(logits2, net.classifier(h2))


def test_gap_trials_change_one_thing_each(monkeypatch):
    p = get_profile("paper")
    monkeypatch.setattr(C, "method_config", lambda m, ds, p, budget=False, **kw: C.base_config(ds, p, **kw))
    trials = C.gap_configs("lfw", p)
    base = trials.pop("recipe as chosen")
    assert base.eval_split == "val" and base.bits == p.longest and base.precision == "fp32"
    for name, c in trials.items():
        changed = {f for f in ("method_kwargs", "model_kwargs") if getattr(c, f) != getattr(base, f)}
        assert len(changed) == 1, name
        assert c.key() != base.key()
    plateau = get_profile("plateau")
    assert {(c.epochs, c.precision) for c in C.gap_configs("lfw", plateau).values()} == \
        {(16 * base.epochs, "fp32")}


def test_plateau_gap_trials_start_from_the_quantization_grids_run():
    """With the validation choices, the plateau profile's untouched trial is the run the
    quantization grid trained (read, not retrained)."""
    plateau = get_profile("plateau")
    chosen = C.gap_configs("lfw", plateau)["recipe as chosen"]
    assert chosen.key() == C.quantization_configs("lfw", plateau)[0].key()
    assert plateau.store.has_run(chosen)


def test_gap_lines_by_hand():
    import pandas as pd

    from dmh.report.code_float_gap import gap_lines

    row = lambda t, codes, floats, diff, z: {"dataset": "LFW", "trial": t, "codes val mAP@all": codes,  # noqa: E731
                                             "float val mAP@all": floats, "codes - float": codes - floats,
                                             "codes vs chosen": diff, "in seed std": z}
    df = pd.DataFrame([row("recipe as chosen", 0.70, 0.75, 0.0, 0.0),
                       row("narrow but worse", 0.60, 0.62, -0.10, -5.0),
                       row("narrow and as good", 0.71, 0.735, 0.01, 0.5)])
    text = gap_lines(df).replace("\n", " ")
    assert "as chosen, the codes are 5.0 points under" in text
    assert "narrow but worse has the narrowest gap (2.0 points" in text
    assert "no loss beyond two seed stds: narrow and as good." in text
    assert "No trial's codes beat" in text
    better = pd.concat([df, pd.DataFrame([row("better codes", 0.80, 0.86, 0.10, 5.0)])])
    assert "two seed stds: better codes (+0.1000, +5.0 seed std)." in \
        gap_lines(better).replace("\n", " ")
    assert "No trial" in gap_lines(df.iloc[:2]).replace("\n", " ")
    assert "has not landed" in gap_lines(df.iloc[1:])
    assert "No seed spread" in gap_lines(df.assign(**{"in seed std": float("nan")}))


def test_gap_missing_names_the_untrained_trials(monkeypatch):
    from dmh.report import code_float_gap as CG

    p = get_profile("plateau")
    have = {C.gap_configs("lfw", p)["recipe as chosen"].key()}
    monkeypatch.setattr(type(p.store), "has_run", lambda self, c: c.key() in have)
    missing = CG.gap_missing(p)
    assert "LFW: recipe as chosen" not in missing
    assert "LFW: bit balance 0.1" in missing and "Pins: recipe as chosen" in missing
