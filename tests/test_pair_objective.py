"""The pair-objective check of the recipe chapter: perfect codes, each loss's pair term on them
by hand, its closed forms at zero outputs, and the verdict lines."""
import math

import numpy as np
import pandas as pd
import pytest
import torch

from dmh.report import pair_objective as PO

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_perfect_codes_give_each_person_one_sign_code():
    labels = np.array(["b", "a", "b", "c", "a", "b"])
    codes = PO.perfect_codes(labels, 16, seed=3)
    assert codes.shape == (6, 16) and set(codes.unique().tolist()) == {-1.0, 1.0}
    for person in "abc":
        rows = codes[torch.from_numpy(labels == person)]
        assert (rows == rows[0]).all()
    assert not torch.equal(codes[0], codes[1]) and not torch.equal(codes[1], codes[3])
    assert torch.equal(codes, PO.perfect_codes(labels, 16, seed=3))


def test_dpsh_pair_term_of_a_perfect_code_by_hand():
    labels = np.array([0, 0, 1, 1])
    codes = PO.perfect_codes(labels, 6, seed=0)
    s, y = 0.7, torch.tensor([0, 0, 1, 1])
    like = []
    for i in range(4):
        for j in range(i + 1, 4):
            theta = 0.5 * s * s * float(codes[i] @ codes[j])
            like.append(math.log1p(math.exp(theta)) - float(y[i] == y[j]) * theta)
    got = PO.pair_term("dpsh", s * codes, y, [torch.arange(4)])
    assert got == pytest.approx(sum(like) / len(like))


@pytest.mark.parametrize("method, expected", [
    ("dpsh", math.log(2)),            # softplus(0)
    ("hashnet", 2 * math.log(2)),     # both groups' means weigh one each
])
def test_zero_outputs_closed_forms(method, expected):
    labels = np.repeat(np.arange(8), 4)
    assert PO.best_scale(method, labels, 12)[2] == pytest.approx(expected)


def test_dsh_zero_outputs_and_its_perfect_code_reaches_zero():
    """At zero outputs every other-person pair pays margin/2 = K; perfect codes far enough
    apart pay nothing: DSH's minimum is a perfect code."""
    labels = np.repeat(np.arange(8), 4)  # P x K = 4: a batch of 32 holds all 8 people
    y, batches = PO.drawn_batches(labels, "pk4", 32)
    other = np.mean([float((y[b][:, None] != y[b][None, :]).triu(1).sum()) / (len(b) * (len(b) - 1) / 2)
                     for b in batches])
    best, scale, zero = PO.best_scale("dsh", labels, 12, batch_size=32)
    assert zero == pytest.approx(12 * other)
    assert best == 0.0
    codes = PO.perfect_codes(labels, 12)
    nearest = min(int((codes[a] != codes[b]).sum()) for a in range(0, 32, 4) for b in range(a + 4, 32, 4))
    # D = 4 s^2 (differing bits) must reach the margin 2K for the nearest two people
    assert 4 * scale ** 2 * nearest >= 2 * 12
    smaller = [s for s in PO.SCALES if s < scale]
    assert not smaller or 4 * smaller[-1] ** 2 * nearest < 2 * 12


def test_hashnet_scales_stop_at_its_tanh_bound():
    labels = np.repeat(np.arange(6), 4)
    assert PO.best_scale("hashnet", labels, 8, batch_size=24)[1] <= 1.0


def _row(epochs, term, val):
    return {"dataset": "LFW", "method": "DPSH", "epochs": epochs, "precision": "fp32",
            "training pair term": term, "perfect code": 0.6758, "its scale": 0.26,
            "zero outputs": 0.6931, "val mAP@all": val}


def test_lines_below_the_perfect_code_and_falling():
    text = PO.objective_lines(pd.DataFrame([_row(640, 0.6095, 0.04), _row(40, 0.6683, 0.103)]))
    flat = " ".join(text.split())
    assert flat.startswith("LFW DPSH: a perfect code scores 0.6758 at best (scale 0.26; zero outputs 0.6931)")
    assert "0.6683 after 40 epochs (fp32, val mAP@all 0.1030); 0.6095 after 640 epochs" in flat
    assert flat.endswith("so the loss rewards more than telling people apart, and validation "
                         "mAP fell as training lowered it.")


def test_lines_above_the_perfect_code():
    text = " ".join(PO.objective_lines(pd.DataFrame([_row(10, 0.6851, 0.03)])).split())
    assert text.endswith("above the perfect code's, which a code that tells people apart would still lower.")
    below_not_fallen = " ".join(PO.objective_lines(pd.DataFrame([_row(40, 0.6, 0.1), _row(80, 0.5, 0.2)])).split())
    assert below_not_fallen.endswith("rewards more than telling people apart.")


def test_paper_pairs_lines_read_the_grid(tmp_path, monkeypatch):
    """The line from stand-in records of the two runs and of the random floor."""
    from dataclasses import replace

    from dmh.core.atomic import write_json
    from dmh.experiments.configs import dpsh_pairs_configs
    from dmh.experiments.profiles import PROFILES

    monkeypatch.setenv("DMH_RUNS", str(tmp_path))
    p = replace(PROFILES["quick"], name="test-quick")
    write_json(p.store.chosen_path("dpsh", "lfw"), {"chosen": {"lr": 0.1}})
    stored = {}
    monkeypatch.setattr(type(p.store), "has_run", lambda self, c: c.name() in stored)
    monkeypatch.setattr(type(p.store), "load_run",
                        lambda self, c, cmd=None: type("R", (), {"metrics": {"map_all": stored[c.name()]}}))
    monkeypatch.setattr("dmh.report.recipe.floors_frame", lambda p: pd.DataFrame(
        [{"dataset": "lfw", "method": "random", "bits": p.longest, "map_all": 0.01}]))
    batch, paper = dpsh_pairs_configs("lfw", p)
    assert paper.method_kwargs["pairs"] == "all" and "pairs" not in batch.method_kwargs
    assert " ".join(PO.paper_pairs_lines(p).split()).endswith(
        "has not landed (`dmh grid dpshpairs-lfw --profile test-quick`).")
    stored.update({batch.name(): 0.1, paper.name(): 0.013})
    assert " ".join(PO.paper_pairs_lines(p).split()) == (
        "LFW: DPSH with its paper's pairs (each image against every training image) val mAP@all "
        "0.0130, with the batch's own pairs 0.1000; twice the random codes' 0.0200: learns nothing.")


def test_model_pair_terms_leave_the_model_as_it_was():
    """Running statistics: the pair term of what retrieval encodes (by hand from `encode`);
    batch statistics differ; the model's BatchNorm state is untouched by either."""
    from conftest import TINY
    from dmh.core.config import TrainConfig
    from dmh.methods import create_method
    from dmh.run.encode import Normalizer, encode

    torch.manual_seed(0)
    cfg = TrainConfig(method="dpsh", bits=8, model_kwargs=TINY, method_kwargs={"outputs": "linear"})
    model, _ = create_method(cfg, n_classes=4)
    images = np.random.default_rng(0).integers(0, 256, (32, 3, 32, 32), dtype=np.uint8)
    labels = np.repeat(np.arange(4), 8)
    norm = Normalizer.fit(images)
    model.train()  # as a model fresh from training would be
    before = {k: v.clone() for k, v in model.state_dict().items()}
    terms = PO.model_pair_terms(model, "dpsh", images, labels, norm, batch_size=16)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items()) and model.training
    y, batches = PO.drawn_batches(labels, "pk4", 16)
    u = torch.from_numpy(encode(model, images, norm).features)
    assert terms["running"] == pytest.approx(PO.pair_term("dpsh", u, y, batches), rel=1e-5)
    assert terms["batch"] != pytest.approx(terms["running"], rel=1e-3)
