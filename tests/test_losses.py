import itertools
import math

import pytest
import torch
import torch.nn.functional as F

from dmh.losses import CenterLoss, DMHLoss, QuantizationLoss
from dmh.losses.pairs import all_pairs

CENTERS = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [5.0, 5.0]])


def _center_loss(alpha=0.5):
    loss = CenterLoss(n_classes=4, dim=2, alpha=alpha)
    loss.centers.copy_(CENTERS)
    return loss


def test_centers_start_at_zero_and_are_a_buffer():
    loss = CenterLoss(n_classes=3, dim=5)
    assert torch.equal(loss.centers, torch.zeros(3, 5))
    assert "centers" in dict(loss.named_buffers())
    assert len(list(loss.parameters())) == 0


def test_center_loss_value_and_gradient_by_hand():
    loss = _center_loss()
    h = torch.tensor([[1.0, 1.0], [3.0, 0.0], [0.0, 0.0], [-1.0, 2.0]], requires_grad=True)
    y = torch.tensor([0, 1, 2, 0])
    # squared distances to own centers: 2, 4, 4, 5 -> 0.5 * mean = 0.5 * 15 / 4
    value = loss(h, y)
    assert value.item() == pytest.approx(1.875)
    value.backward()
    expected_grad = (h.detach() - CENTERS[y]) / 4
    assert torch.allclose(h.grad, expected_grad)
    assert not loss.centers.requires_grad


def test_center_update_by_hand():
    loss = _center_loss(alpha=0.5)
    h = torch.tensor([[1.0, 1.0], [3.0, 0.0], [-1.0, 2.0]])
    y = torch.tensor([0, 1, 0])
    loss.update_centers(h, y)
    # class 0 (2 samples): sum(c0 - h_i) = (0, -3), / (1 + 2) = (0, -1); c0 = (0, 0) - 0.5 * (0, -1)
    # class 1 (1 sample): (c1 - h) = (-2, 0), / (1 + 1) = (-1, 0); c1 = (1, 0) - 0.5 * (-1, 0)
    # classes 2, 3 absent: unchanged
    expected = torch.tensor([[0.0, 0.5], [1.5, 0.0], [0.0, 2.0], [5.0, 5.0]])
    assert torch.allclose(loss.centers, expected)


def test_center_update_ignores_other_classes_in_batch():
    # A class's update depends only on its own samples, not on batch size.
    small, large = _center_loss(), _center_loss()
    h = torch.tensor([[1.0, 1.0], [-1.0, 2.0]])
    small.update_centers(h, torch.tensor([0, 0]))
    large.update_centers(torch.cat([h, torch.randn(6, 2)]), torch.tensor([0, 0, 1, 1, 1, 2, 2, 2]))
    assert torch.allclose(small.centers[0], large.centers[0])
    assert torch.allclose(small.centers[3], CENTERS[3]) and torch.allclose(large.centers[3], CENTERS[3])


def test_center_update_invariant_to_lam():
    torch.manual_seed(0)
    h, y = torch.tanh(torch.randn(6, 3)), torch.tensor([0, 1, 1, 2, 2, 2])
    losses = [DMHLoss(n_classes=4, n_bits=3, lam=lam) for lam in (0.001, 0.1, 10.0)]
    for loss in losses:
        loss.update_centers(h, y)
    for loss in losses[1:]:
        assert torch.equal(loss.center.centers, losses[0].center.centers)
    assert torch.equal(losses[0].center.centers[3], torch.zeros(3))


def test_quantization_loss_by_hand():
    h = torch.tensor([[0.5, -0.25], [0.0, 1.0]])
    # row 0: (0.5 - 1)^2 + (0.25 - 1)^2 = 0.8125; row 1: 1 + 0 = 1; mean = 0.90625
    assert QuantizationLoss()(h).item() == pytest.approx(0.90625)
    sign = torch.where(h >= 0, 1.0, -1.0)
    assert QuantizationLoss()(h).item() == pytest.approx((h - sign).pow(2).sum(1).mean().item())


def _inputs():
    torch.manual_seed(1)
    h = torch.tanh(torch.randn(5, 3)).requires_grad_()
    logits = torch.randn(5, 4, requires_grad=True)
    y = torch.tensor([0, 1, 3, 3, 2])
    return h, logits, y


def test_cross_entropy_term_matches_torch():
    h, logits, y = _inputs()
    total, terms = DMHLoss(n_classes=4, n_bits=3, use_center=False, use_quantization=False)(h, logits, y)
    assert torch.allclose(total, F.cross_entropy(logits, y))
    assert set(terms) == {"ce"}


@pytest.mark.parametrize("flags", [f for f in itertools.product([True, False], repeat=3) if any(f)])
def test_total_with_terms_switched_off(flags):
    use_softmax, use_center, use_quant = flags
    h, logits, y = _inputs()
    loss = DMHLoss(n_classes=4, n_bits=3, lam=0.3, mu=0.7, use_softmax=use_softmax,
                   use_center=use_center, use_quantization=use_quant)
    loss.center.centers.copy_(torch.tensor([[0.5, 0.0, -0.5], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [-1.0, 0.2, 0.3]]))
    total, terms = loss(h, logits if use_softmax else None, y)

    hd = h.detach()
    ce = F.cross_entropy(logits.detach(), y)
    center = 0.5 * ((hd - loss.center.centers[y]) ** 2).sum(1).mean()
    quant = ((hd.abs() - 1) ** 2).sum(1).mean()
    expected = use_softmax * ce + use_center * 0.3 * center + use_quant * 0.7 * quant
    assert total.item() == pytest.approx(expected.item(), rel=1e-6)
    assert set(terms) == {k for k, on in zip(("ce", "center", "quant"), flags) if on}
    for k, ref in (("ce", ce), ("center", center), ("quant", quant)):
        if k in terms:
            assert not terms[k].requires_grad and terms[k].item() == pytest.approx(ref.item(), rel=1e-6)
    total.backward()
    # Gradient reaches h iff a term on h is on (logits are a separate leaf here).
    assert (h.grad is not None) == (use_center or use_quant)
    assert (logits.grad is not None) == use_softmax


def test_all_terms_off_rejected():
    with pytest.raises(ValueError):
        DMHLoss(n_classes=4, n_bits=3, use_softmax=False, use_center=False, use_quantization=False)


def test_update_is_noop_when_center_off():
    loss = DMHLoss(n_classes=4, n_bits=3, use_center=False)
    loss.update_centers(torch.ones(2, 3), torch.tensor([0, 1]))
    assert torch.equal(loss.center.centers, torch.zeros(4, 3))


# ------------------------------------------------------------- pairs of a batch


def _labels(seed, n):
    return torch.randint(0, max(1, n // 3), (n,), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("n", [0, 1, 2, 5, 17])
def test_all_pairs_by_double_loop(n):
    y = _labels(n, n)
    i, j, same = all_pairs(y)
    expected = [(a, b, bool(y[a] == y[b])) for a in range(n) for b in range(a + 1, n)]
    assert list(zip(i.tolist(), j.tolist(), same.tolist())) == expected
    assert i.dtype == j.dtype == torch.int64 and same.dtype == torch.bool


@pytest.mark.parametrize("seed", range(3))
def test_all_pairs_match_pytorch_metric_learning(seed):
    lmu = pytest.importorskip("pytorch_metric_learning.utils.loss_and_miner_utils")
    y = _labels(seed, 24)
    i, j, same = all_pairs(y)
    a1, p, a2, n = lmu.get_all_pairs_indices(y)  # ordered pairs, i == j excluded

    def unordered(a, b):
        return {(min(u, v), max(u, v)) for u, v in zip(a.tolist(), b.tolist())}

    assert unordered(i[same], j[same]) == unordered(a1, p)
    assert unordered(i[~same], j[~same]) == unordered(a2, n)
    assert len(i) == len(unordered(i, j)) == 24 * 23 // 2


def test_all_pairs_rejects_non_1d_labels():
    with pytest.raises(ValueError):
        all_pairs(torch.zeros(3, 2, dtype=torch.int64))


def test_dpsh_papers_eta_per_pair_by_hand():
    """DPSH's objective (Li et al. 2016) over a training set of n samples:
    sum over its n^2 pairs of [log(1 + e^theta) - s theta] + eta * sum over its n samples of
    ||b - u||^2, with eta = 10 at n = 5000 (CIFAR-10). Divided by the n^2 pairs, as the loss
    averages over pairs, the quantization weight per sample mean is eta / n = 0.002 (what
    the paper's configs pass), not the 10 / B ~ 0.1 (B = batch size, the default of earlier
    records) that drowned the likelihood on faces (random-level mAP)."""
    from dmh.losses import DPSHLoss

    u = torch.tensor([[0.9, -0.2, 0.5], [0.7, 0.1, -0.6], [-0.3, 0.8, 0.4], [0.2, -0.9, 0.1]],
                     dtype=torch.float64)
    y = torch.tensor([0, 0, 1, 2])
    like, pairs = 0.0, list(itertools.combinations(range(4), 2))
    for i, j in pairs:
        theta = 0.5 * float(u[i] @ u[j])
        like += math.log1p(math.exp(theta)) - float(y[i] == y[j]) * theta
    quant = sum(float(((torch.sign(u[b]) - u[b]) ** 2).sum()) for b in range(4))
    eta, n = 10.0, 5000
    expected = like / len(pairs) + eta / n * quant / 4
    from dmh.experiments.tuning import METHOD_DEFAULTS

    kw = {k: v for k, v in METHOD_DEFAULTS["dpsh"]["method_kwargs"].items() if k != "outputs"}
    total, terms = DPSHLoss(**kw)(u, None, y)
    assert total.item() == pytest.approx(expected, rel=1e-9)
    assert terms["quant"].item() == pytest.approx(quant / 4)
