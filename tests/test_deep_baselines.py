"""Deep hashing baselines of the comparison chapter: each loss against a by-hand loop,
HashNet's continuation, CSQ's centers, two baselines in the shared loop and the comparison
grid (every method's one-step contract: tests/test_methods.py)."""
import itertools
import math
from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conftest import TINY
from dmh.core.atomic import write_json
from dmh.core.config import TrainConfig
from dmh.experiments.configs import comparison_configs, main_configs
from dmh.experiments.jobs import train_run
from dmh.experiments.profiles import PROFILES
from dmh.losses import CSQLoss, DCDHLoss, DDHLoss, DPSHLoss, DSHLoss, HashNetLoss, hash_centers
from dmh.methods import METHODS, create_method
from dmh.models import ContinuationHashHead, continuation_beta
from dmh.report.comparison import same_identity_pair_fraction, winners
from dmh.run.store import MissingRecord, Store

K = 4
Y = torch.tensor([0, 1, 0, 2])  # pairs: one similar (0, 2), five dissimilar
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _h(seed=0, n=4, k=K):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, k, generator=g, dtype=torch.float64) * 1.8 - 0.9).requires_grad_()


def _pairs(n):
    return list(itertools.combinations(range(n), 2))


def _sgn(v):
    return 1.0 if v >= 0 else -1.0


def test_ddh_by_hand():
    h, logits = _h(), torch.randn(4, 3, dtype=torch.float64)
    total, terms = DDHLoss(mu=0.3)(h, logits, Y)
    ce = -sum(math.log(math.exp(logits[b, Y[b]]) / sum(math.exp(v) for v in logits[b]))
              for b in range(4)) / 4
    quant = sum((h[b, k].item() - _sgn(h[b, k].item())) ** 2 for b in range(4) for k in range(K)) / 4
    assert terms["ce"].item() == pytest.approx(ce) and terms["quant"].item() == pytest.approx(quant)
    assert total.item() == pytest.approx(ce + 0.3 * quant)


def test_dsh_by_hand():
    h = _h()
    total, terms = DSHLoss(n_bits=K)(h, None, Y)
    m, ls = 2 * K, []
    for i, j in _pairs(4):
        d = sum((h[i, k].item() - h[j, k].item()) ** 2 for k in range(K))
        reg = sum(abs(abs(h[b, k].item()) - 1) for b in (i, j) for k in range(K))
        ls.append((0.5 * d if Y[i] == Y[j] else 0.5 * max(m - d, 0.0)) + 0.01 * reg)
    assert total.item() == pytest.approx(sum(ls) / len(ls))
    assert set(terms) == {"pair", "reg"}


def test_dpsh_by_hand():
    h = _h()
    total, _ = DPSHLoss(eta=0.7)(h, None, Y)
    like = []
    for i, j in _pairs(4):
        theta = 0.5 * sum(h[i, k].item() * h[j, k].item() for k in range(K))
        like.append(math.log(1 + math.exp(theta)) - float(Y[i] == Y[j]) * theta)
    quant = sum((_sgn(h[b, k].item()) - h[b, k].item()) ** 2 for b in range(4) for k in range(K)) / 4
    assert total.item() == pytest.approx(sum(like) / len(like) + 0.7 * quant)


def test_dpsh_stable_for_large_inner_products():
    h = torch.full((2, 64), 30.0, requires_grad=True)  # theta = 28,800: exp overflows
    total, _ = DPSHLoss()(h, None, torch.tensor([1, 2]))
    total.backward()
    assert torch.isfinite(total) and torch.isfinite(h.grad).all()


def test_hashnet_by_hand():
    h = _h()
    total, terms = HashNetLoss(n_bits=K)(h, None, Y)
    alpha, pairs = 10 / K, _pairs(4)
    n1 = sum(Y[i] == Y[j] for i, j in pairs)
    n0 = len(pairs) - n1
    acc = 0.0
    for i, j in pairs:
        s = float(Y[i] == Y[j])
        ip = alpha * sum(h[i, k].item() * h[j, k].item() for k in range(K))
        w = len(pairs) / (n1 if s else n0)
        acc += w * (math.log(1 + math.exp(ip)) - s * ip)
    assert total.item() == pytest.approx(acc / len(pairs))
    assert total.item() == pytest.approx((terms["similar"] + terms["dissimilar"]).item())


def test_csq_by_hand():
    loss = CSQLoss(n_classes=3, n_bits=K, lam=0.5)
    h = _h()
    total, _ = loss(h.float(), None, Y)
    bce = 0.0
    for b, k in itertools.product(range(4), range(K)):
        p, t = (h[b, k].item() + 1) / 2, (loss.centers[Y[b], k].item() + 1) / 2
        bce -= t * math.log(p) + (1 - t) * math.log(1 - p)
    quant = sum((abs(h[b, k].item()) - 1) ** 2 for b in range(4) for k in range(K))
    assert total.item() == pytest.approx(bce / 16 + 0.5 * quant / 16, rel=1e-5)
    assert not loss.centers.requires_grad and len(list(loss.parameters())) == 0


def test_dcdh_by_hand():
    loss = DCDHLoss(n_classes=3, n_bits=K).double()
    h, c = _h(), loss.centers.detach()
    total, terms = loss(h, None, Y)
    intra = 0.0
    for b in range(4):
        z = [-0.125 * sum((h[b, k].item() - c[j, k].item()) ** 2 for k in range(K)) for j in range(3)]
        intra -= z[Y[b]] - math.log(sum(math.exp(v) for v in z))
    inter = [math.log(1 + math.exp(K / 2 * F.cosine_similarity(c[j], c[l], dim=0).item()))
             for j in range(3) for l in range(3) if j != l]
    quant = 0.0
    for b in range(4):
        same = [i for i in range(4) if Y[i] == Y[b]]
        for k in range(K):
            w = sum(_sgn(h[i, k].item()) for i in same) / len(same)  # class mean of the codes
            quant += (h[b, k].item() - _sgn(w + 0.01 * h[b, k].item())) ** 2
    assert terms["intra"].item() == pytest.approx(intra / 4)
    assert terms["inter"].item() == pytest.approx(sum(inter) / len(inter))
    assert terms["quant"].item() == pytest.approx(quant / 4)
    assert total.item() == pytest.approx(intra / 4 + 0.1 * sum(inter) / 6 + 0.01 * quant / 4)


@pytest.mark.parametrize("make", [lambda: DSHLoss(n_bits=K), lambda: DPSHLoss(),
                                  lambda: HashNetLoss(n_bits=K),
                                  lambda: CSQLoss(n_classes=3, n_bits=K).double(),
                                  lambda: DCDHLoss(n_classes=3, n_bits=K).double()])
def test_gradients_match_finite_differences(make):
    loss = make()
    assert torch.autograd.gradcheck(lambda h: loss(h, None, Y)[0], (_h(seed=3),))


@pytest.mark.parametrize("make", [lambda: DSHLoss(n_bits=K), lambda: DPSHLoss(),
                                  lambda: HashNetLoss(n_bits=K)])
def test_pair_losses_with_a_batch_of_one_are_zero_not_nan(make):
    h = _h(n=1)
    total, _ = make()(h, None, torch.tensor([0]))
    total.backward()
    assert torch.isfinite(total) and torch.isfinite(h.grad).all()


def test_hashnet_beta_schedule():
    assert continuation_beta(0.0, 10.0) == 1.0 and continuation_beta(1.0, 10.0) == pytest.approx(10.0)
    assert continuation_beta(0.5, 10.0) == pytest.approx(math.sqrt(1 + 99 * 0.5))
    betas = [continuation_beta(f / 10, 10.0) for f in range(11)]
    assert betas == sorted(betas) and continuation_beta(2.0, 10.0) == pytest.approx(10.0)
    head = ContinuationHashHead(8, 4, beta_max=5.0)
    x = torch.randn(2, 8, 3, 3)
    z = head.pool(head.conv(x)).flatten(1)
    head.set_progress(0.3)
    assert head.beta.item() == pytest.approx(math.sqrt(1 + 24 * 0.3))
    assert torch.allclose(head(x), torch.tanh(head.beta * z))
    assert "beta" in head.state_dict()  # a loaded model keeps the final beta


def test_hashnet_model_forwards_progress_to_its_head():
    model, _ = create_method(TrainConfig(method="hashnet", bits=8, model_kwargs=TINY), 3)
    model.set_progress(1.0)
    assert model.head.beta.item() == pytest.approx(10.0)


def _hamming(c):
    return (c.shape[1] - c @ c.T) / 2


def test_csq_hadamard_centers():
    c = hash_centers(16, 16)
    d = _hamming(c)
    assert torch.equal(d[~torch.eye(16, dtype=torch.bool)], torch.full((240,), 8.0))
    d32 = _hamming(hash_centers(32, 16))[~torch.eye(32, dtype=torch.bool)]
    assert set(d32.unique().tolist()) == {8.0, 16.0}  # c and -c are K apart, others K/2


@pytest.mark.parametrize("bits", [12, 16, 48])
def test_csq_random_centers_are_distinct_signs(bits):
    c = hash_centers(158, bits, seed=1)  # LFW's identities: more than 2K, so random
    assert c.shape == (158, bits) and set(c.unique().tolist()) == {-1.0, 1.0}
    assert len(torch.unique(c, dim=0)) == 158
    assert torch.equal(c, hash_centers(158, bits, seed=1))
    if bits == 48:  # long codes keep the paper's ~K/2 separation
        assert _hamming(c)[~torch.eye(158, dtype=torch.bool)].min() >= 16


def test_baselines_run_in_the_shared_loop(easy_pickle, tmp_path):
    for method in ("hashnet", "dcdh"):  # the scheduled head and the trained centers
        cfg = TrainConfig(dataset=easy_pickle, method=method, bits=12, epochs=1, batch_size=32,
                          model_kwargs=TINY, threads=1)
        rec = train_run(cfg, Store(tmp_path / "store"), progress=False, save=False)
        assert np.isfinite(rec.history[0]["total"]) and 0 <= rec.metrics["map_all"] <= 1


def _with_choices(profile, tmp_path, monkeypatch, dataset, chosen):
    """`profile` renamed, its store in the test's folder holding the validation `chosen`."""
    monkeypatch.setenv("DMH_RUNS", str(tmp_path))
    p = replace(PROFILES[profile], name=f"test-{profile}")
    for method, hp in chosen.items():
        write_json(p.store.chosen_path(method, dataset), {"chosen": hp})
    return p


def test_comparison_grid_quick(tmp_path, monkeypatch):
    p = _with_choices("quick", tmp_path, monkeypatch, "lfw", {})
    with pytest.raises(MissingRecord, match="dmh grid tune-lfw"):
        comparison_configs("lfw", p)
    p = _with_choices("quick", tmp_path, monkeypatch, "lfw", {m: {} for m in p.search})
    cfgs = comparison_configs("lfw", p)
    assert len(cfgs) == len(METHODS) * len(p.bits)  # one seed in quick
    dmh = {c.key() for c in cfgs if c.method == "dmh"}
    assert dmh == {c.key() for c in main_configs("lfw", p)}
    assert len({c.key() for c in cfgs}) == len(cfgs) and len({c.epochs for c in cfgs}) == 1


def test_comparison_grid_paper(tmp_path, monkeypatch):
    chosen = {"dmh": {"lr": 0.1, "lam": 0.01, "mu": 0.001}, "dsh": {"lr": 0.01}, "dpsh": {"lr": 0.01}}
    p = _with_choices("paper", tmp_path, monkeypatch, "pins", chosen)
    cfgs = comparison_configs("pins", p)
    assert len(cfgs) == len(METHODS) * (3 + 3)  # 3 seeds at 48 bits, 1 at 12/24/36
    main = {c.key() for c in main_configs("pins", p)}
    d = TrainConfig()
    for m in METHODS:
        runs = [c for c in cfgs if c.method == m]
        assert sorted((c.bits, c.seed) for c in runs) == [(12, 0), (24, 0), (36, 0), (48, 0),
                                                           (48, 1), (48, 2)]
        assert all(c.epochs == p.epochs["pins"] == 10 for c in runs)
        if m == "dmh":
            assert all(c.key() in main for c in runs) and all(c.lam == 0.01 for c in runs)
        else:  # the pairwise baselines' chosen lr; every other setting the default
            lr = chosen.get(m, {}).get("lr", d.lr)
            assert all((c.lr, c.lam, c.mu) == (lr, d.lam, d.mu) for c in runs), m


def test_same_identity_pair_fraction_by_brute_force():
    from itertools import combinations

    labels = [0, 0, 0, 1, 1, 2, 3, 3, 3, 3]
    pairs = list(combinations(labels, 2))
    assert same_identity_pair_fraction(labels) == pytest.approx(
        sum(a == b for a, b in pairs) / len(pairs))  # (6 + 2 + 0 + 12) / 90
    assert same_identity_pair_fraction(labels) == pytest.approx(10 / 45)
    with pytest.raises(ValueError, match="at least 2"):
        same_identity_pair_fraction([7])


def test_winners_margin_in_seed_spread():
    import pandas as pd

    rows = [("A", 48, 0, 0.30), ("A", 48, 1, 0.32), ("A", 48, 2, 0.34),  # mean .32, std .02
            ("B", 48, 0, 0.25), ("B", 48, 1, 0.26), ("B", 48, 2, 0.27),  # mean .26, std .01
            ("C", 48, 0, 0.01), ("C", 48, 1, 0.01), ("C", 48, 2, 0.01),
            ("A", 12, 0, 0.10), ("B", 12, 0, 0.14), ("C", 12, 0, 0.02)]
    df = pd.DataFrame([{"dataset": "x", "method": m, "bits": k, "seed": s, "map_all": v}
                       for m, k, s, v in rows])
    w = winners(df).set_index("bits")
    assert (w.loc[48, "winner"], w.loc[48, "runner_up"]) == ("A", "B")
    assert w.loc[48, "margin"] == pytest.approx(0.06)
    assert w.loc[48, "seed_std_48"] == pytest.approx(0.02)  # the larger of the two stds
    assert w.loc[48, "margin_over_std"] == pytest.approx(3.0)
    # 12 bits: one seed each; B wins by .04, measured against the 48-bit spread of B and A
    assert (w.loc[12, "winner"], w.loc[12, "seeds"]) == ("B", 1)
    assert w.loc[12, "margin_over_std"] == pytest.approx(2.0)


def test_winners_borrow_the_spread_of_the_method_that_has_one():
    import pandas as pd

    rows = [("A", 0, 0.30), ("A", 1, 0.32), ("A", 2, 0.34), ("S", 0, 0.36)]  # S: one seed
    df = pd.DataFrame([{"dataset": "x", "method": m, "bits": 48, "seed": s, "map_all": v}
                       for m, s, v in rows])
    w = winners(df).iloc[0]
    assert (w["winner"], w["runner_up"]) == ("S", "A")
    assert w["seed_std_48"] == pytest.approx(0.02) and w["margin_over_std"] == pytest.approx(2.0)


def test_dpsh_paper_pairs_by_hand():
    """pairs='all': each batch image against every training image's latest output (its own
    row updated first, the others as their batches left them; zero before)."""
    y_all = torch.tensor([0, 1, 0, 2, 1, 0])
    loss = DPSHLoss(eta=0.3, pairs="all")
    loss.bind_training_set(y_all, K)
    first = _h(1, n=3).detach()
    loss.set_batch_index(torch.tensor([1, 3, 5]))
    loss(first, None, y_all[[1, 3, 5]])
    h = _h(2, n=3)
    idx = [0, 2, 4]
    loss.set_batch_index(torch.tensor(idx))
    total, terms = loss(h, None, y_all[idx])
    memory = torch.zeros(6, K, dtype=torch.float64)
    memory[[1, 3, 5]] = first
    memory[idx] = h.detach()
    like = []
    for a, i in enumerate(idx):
        for j in range(6):
            theta = 0.5 * sum(h[a, k].item() * memory[j, k].item() for k in range(K))
            like.append(math.log1p(math.exp(theta)) - float(y_all[i] == y_all[j]) * theta)
    quant = sum((_sgn(h[b, k].item()) - h[b, k].item()) ** 2 for b in range(3) for k in range(K)) / 3
    assert terms["pair"].item() == pytest.approx(sum(like) / len(like))
    assert total.item() == pytest.approx(sum(like) / len(like) + 0.3 * quant)
    assert torch.allclose(loss.memory[idx].double(), h.detach(), atol=1e-7)  # kept in float32


def test_dpsh_paper_pairs_need_the_loop():
    loss = DPSHLoss(pairs="all")
    with pytest.raises(ValueError, match="bind_training_set"):
        loss(_h(), None, Y)
    with pytest.raises(ValueError, match="pairs must be"):
        DPSHLoss(pairs="some")


def test_dpsh_paper_pairs_resume_to_the_same_weights_and_memory(easy_pickle, tmp_path):
    """Its memory is part of the checkpoint: a run stopped after one epoch and resumed ends
    where the uninterrupted run does. It never stacks (vmap cannot index the memory)."""
    from dmh.experiments.jobs import stack_groups
    from dmh.run.fit import fit, protocol_parts

    cfg = TrainConfig(dataset=easy_pickle, method="dpsh", bits=12, epochs=2, batch_size=32,
                      model_kwargs=TINY, threads=1, sampler="pk4",
                      method_kwargs={"outputs": "linear", "eta": 0.002, "pairs": "all"})
    train = protocol_parts(cfg)[0]
    whole = fit(cfg, train, resume=False, progress=False)
    assert fit(cfg, train, resume=False, progress=False, stop_after_epochs=1) is None
    resumed = fit(cfg, train, progress=False)
    for a, b in zip(whole.model.state_dict().values(), resumed.model.state_dict().values()):
        assert torch.equal(a, b)
    assert whole.history == [{**h, "seconds": w["seconds"]} for h, w in zip(resumed.history, whole.history)]
    assert stack_groups([cfg, replace(cfg, seed=1)], 2) == [[cfg], [replace(cfg, seed=1)]]
