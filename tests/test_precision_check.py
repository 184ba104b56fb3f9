"""Each baseline's float32 / bfloat16 check: one change per pair, and its lines by hand."""
import pandas as pd

from dmh.experiments import configs as C
from dmh.experiments.profiles import get_profile
from dmh.report.precision_check import precision_check_lines


def test_each_baseline_in_both_precisions_and_nothing_else(monkeypatch):
    p = get_profile("paper")
    monkeypatch.setattr(C, "method_config", lambda m, ds, p, budget=False, **kw: C.base_config(ds, p, method=m, **kw))
    cs = C.precision_check_configs("lfw", p)
    assert "dmh" not in {c.method for c in cs} and len(cs) % 2 == 0
    for a, b in zip(cs[::2], cs[1::2]):
        assert (a.method, a.precision, b.precision) == (b.method, "fp32", "bf16")
        assert a.eval_split == "val" and a.key() != b.key()
        assert a.to_dict() | {"precision": "bf16"} == b.to_dict() | {"precision": "bf16"}


def test_precision_check_lines_by_hand():
    row = lambda m, a, b, z: {"dataset": "LFW", "method": m, "fp32 val mAP@all": a,  # noqa: E731
                              "bf16 val mAP@all": b, "bf16 - fp32": b - a, "in seed std": z}
    ok = pd.DataFrame([row("DDH", 0.2, 0.19, -0.5)])
    assert precision_check_lines(ok).replace("\n", " ").startswith(
        "LFW: bf16 costs none of the 1 baseline checked more than two seed stds (largest loss "
        "-0.0100). 1 of 1 lost some mAP under bf16 (mean -0.5 seed std)")
    bad = pd.concat([ok, pd.DataFrame([row("DPSH", 0.1, 0.02, -4.0)])])
    assert "bf16 costs DPSH -0.0800 (-4.0 seed std) beyond two seed stds" in \
        precision_check_lines(bad).replace("\n", " ")


def test_every_method_trains_a_step_under_bf16_autocast():
    """DCDH's centre update once mixed bf16 signs into float32 centres (index_add_ raised)."""
    import torch

    from dmh.core.config import TrainConfig
    from dmh.methods import METHODS, create_method
    from dmh.run.fit import sgd_step

    for m in METHODS:
        torch.manual_seed(0)
        model, criterion = create_method(TrainConfig(dataset="lfw", method=m, bits=12), n_classes=4)
        opt = torch.optim.SGD(list(model.parameters()) + list(criterion.parameters()), lr=0.01)
        x, y = torch.randn(8, 3, 32, 32), torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])
        loss, _ = sgd_step(model, criterion, opt, x, y, "bf16")
        assert torch.isfinite(loss), m


def test_the_plateau_profile_trains_every_method_in_one_precision():
    from dmh.experiments.precision_twins import own_runs

    runs = {c.method: c.precision for c in C.comparison_configs("lfw", own_runs(get_profile("plateau")))}
    assert set(runs.values()) == {"fp32"} and len(runs) == 7
