import itertools
import json

import numpy as np
import pytest
import torch

from dmh.metrics import (
    evaluate_codes,
    evaluate_distances,
    mean_average_precision,
    mean_average_precision_float,
    pr_curve,
    precision_at_k,
    precision_recall_within_radius,
)
from dmh.retrieval import hamming_distances


# ---------------------------------------------------------------- reference helpers
# Plain-Python definitions, independent of dmh.


def _ap_of_list(rel):
    """AP of a ranked relevance list: mean of P@p over relevant positions p."""
    hits, total = 0, 0.0
    for p, is_rel in enumerate(rel, start=1):
        if is_rel:
            hits += 1
            total += hits / p
    return total / hits if hits else 0.0


def _tie_orderings(dist_row):
    """Every ranking obtainable by permuting items within equal-distance groups."""
    groups = [list(np.flatnonzero(dist_row == v)) for v in np.unique(dist_row)]
    for perms in itertools.product(*(itertools.permutations(g) for g in groups)):
        yield [j for perm in perms for j in perm]


def _pack_pm1(pm1):
    return np.packbits((pm1 > 0).astype(np.uint8), axis=1)


# ------------------------------------------------------------------ hand-computed


def test_two_tied_items_one_relevant():
    dist = np.array([[1, 1]])
    ql, gl = np.array([0]), np.array([1, 0])  # the relevant item is second in gallery order
    # stable: relevant at rank 2 -> AP = 1/2
    assert mean_average_precision(dist, ql, gl, ties="stable") == pytest.approx(0.5)
    # expected: rank 1 or 2 with prob 1/2 each -> (1 + 1/2) / 2
    assert mean_average_precision(dist, ql, gl, ties="expected") == pytest.approx(0.75)


def test_three_way_tie_hand_value():
    # distances 0 | 1 1 1 | 2, relevance 0 | 1 1 0 | 1 (R = 3)
    dist = np.array([[0, 1, 1, 1, 2]])
    ql, gl = np.array([5]), np.array([0, 5, 5, 0, 5])
    # stable: relevant at ranks 2, 3, 5 -> (1/2 + 2/3 + 3/5) / 3 = 53/90
    assert mean_average_precision(dist, ql, gl) == pytest.approx(53 / 90)
    # expected: the non-relevant tie member is first/middle/last with prob 1/3:
    # precision sums (1/3 + 2/4), (1/2 + 2/4), (1/2 + 2/3), plus 3/5 for rank 5
    # -> ((5/6 + 1 + 7/6) / 3 + 3/5) / 3 = 8/15
    assert mean_average_precision(dist, ql, gl, ties="expected") == pytest.approx(8 / 15)


def test_only_relevant_item_is_last():
    g = 7
    dist = np.arange(g)[None, :]
    ql, gl = np.array([1]), np.array([0] * (g - 1) + [1])
    for ties in ("stable", "expected"):
        assert mean_average_precision(dist, ql, gl, ties=ties) == pytest.approx(1 / g)


def test_query_without_relevant_items_scores_zero():
    dist = np.array([[0, 1], [0, 1]])
    ql, gl = np.array([0, 9]), np.array([0, 1])
    # query 0: AP 1, query 1 (label absent): 0
    for ties in ("stable", "expected"):
        assert mean_average_precision(dist, ql, gl, ties=ties) == pytest.approx(0.5)


def test_map_at_k_hand():
    dist = np.tile(np.arange(6), (2, 1))
    ql = np.array([1, 2])
    # query 0 relevance by rank: 1 0 1 0 0 1 ; query 1: 0 0 0 0 1 0
    gl = np.array([1, 0, 1, 0, 2, 1])
    # mAP@4: q0 -> (1 + 2/3) / 2 = 5/6 (R = relevant in top 4), q1 -> nothing in top 4 -> 0
    assert mean_average_precision(dist, ql, gl, k=4) == pytest.approx(5 / 12)
    # mAP@all: q0 -> (1 + 2/3 + 3/6) / 3 = 13/18, q1 -> 1/5
    assert mean_average_precision(dist, ql, gl) == pytest.approx((13 / 18 + 1 / 5) / 2)
    # k = G equals mAP@all
    assert mean_average_precision(dist, ql, gl, k=6) == pytest.approx((13 / 18 + 1 / 5) / 2)


def test_precision_at_k_hand():
    dist = np.array([[0, 1, 1, 2]])
    ql, gl = np.array([3]), np.array([3, 0, 3, 3])
    # stable order 0,1,2,3 -> relevance 1 0 1 1
    np.testing.assert_allclose(precision_at_k(dist, ql, gl, [1, 2, 3, 4]), [1, 1 / 2, 2 / 3, 3 / 4])
    # expected: at k=2 the tie {1, 2} (one relevant) straddles, taking 1 slot -> (1 + 1/2) / 2
    np.testing.assert_allclose(
        precision_at_k(dist, ql, gl, [1, 2, 3, 4], ties="expected"), [1, 3 / 4, 2 / 3, 3 / 4]
    )


def test_radius_precision_recall_hand_with_empty_ball():
    dist = np.array([[3, 4, 5], [0, 5, 2]])
    ql, gl = np.array([0, 0]), np.array([0, 1, 0])
    # query 0: ball empty -> precision 0, recall 0; query 1: ball {0, 2}, both relevant
    p, r = precision_recall_within_radius(dist, ql, gl, radius=2)
    assert p == pytest.approx(0.5) and r == pytest.approx(0.5)
    # radius 0: query 1 ball {0}: precision 1, recall 1/2
    p, r = precision_recall_within_radius(dist, ql, gl, radius=0)
    assert p == pytest.approx(0.5) and r == pytest.approx(0.25)


def test_pr_curve_hand():
    dist = np.array([[0, 2, 2, 5]])
    ql, gl = np.array([1]), np.array([1, 0, 1, 1])
    c = pr_curve(dist, ql, gl, n_bits=5)
    np.testing.assert_array_equal(c["radius"], np.arange(6))
    np.testing.assert_allclose(c["precision"], [1, 1, 2 / 3, 2 / 3, 2 / 3, 3 / 4])
    np.testing.assert_allclose(c["recall"], [1 / 3, 1 / 3, 2 / 3, 2 / 3, 2 / 3, 1])


# ------------------------------------------------------------------- brute force


def test_expected_ap_equals_mean_over_all_tie_permutations():
    dist = np.array(
        [
            [1, 0, 1, 2, 1, 0, 2],
            [3, 3, 3, 3, 1, 1, 0],
            [0, 0, 0, 0, 0, 0, 0],  # one 7-item tie: 5040 orderings
            [2, 1, 0, 3, 4, 5, 6],  # no ties
        ]
    )
    gl = np.array([0, 1, 0, 1, 1, 0, 2])
    ql = np.array([0, 1, 1, 2])
    per_query = []
    for i in range(len(ql)):
        aps = [_ap_of_list(gl[order] == ql[i]) for order in _tie_orderings(dist[i])]
        per_query.append(np.mean(aps))
    assert mean_average_precision(dist, ql, gl, ties="expected") == pytest.approx(
        np.mean(per_query), abs=1e-12
    )
    # and the stable value is the gallery-order member of that family
    stable = np.mean([_ap_of_list(gl[np.argsort(dist[i], kind="stable")] == ql[i]) for i in range(4)])
    assert mean_average_precision(dist, ql, gl) == pytest.approx(stable, abs=1e-12)


def test_expected_precision_at_k_equals_mean_over_permutations():
    dist = np.array([[1, 0, 1, 2, 1, 0, 2], [1, 1, 1, 1, 0, 0, 1]])
    gl = np.array([0, 1, 0, 1, 1, 0, 0])
    ql = np.array([0, 1])
    ks = [1, 2, 3, 4, 5, 7]
    ref = np.zeros(len(ks))
    for i in range(2):
        orders = list(_tie_orderings(dist[i]))
        for t, k in enumerate(ks):
            ref[t] += np.mean([np.sum(gl[o[:k]] == ql[i]) / k for o in orders]) / 2
    np.testing.assert_allclose(precision_at_k(dist, ql, gl, ks, ties="expected"), ref, atol=1e-12)


def test_expected_ap_close_to_random_tie_shuffles():
    rng = np.random.default_rng(0)
    n_q, n_g, n_bits = 4, 150, 8
    q = rng.integers(0, 2, (n_q, n_bits))
    g = rng.integers(0, 2, (n_g, n_bits))
    dist = (q[:, None, :] != g[None, :, :]).sum(-1)
    ql = rng.integers(0, 3, n_q)
    gl = rng.integers(0, 3, n_g)
    n_shuffles = 1000
    acc = np.zeros(n_q)
    for _ in range(n_shuffles):
        # random secondary key = random order inside each tie group
        tiebreak = rng.random((n_q, n_g))
        order = np.lexsort((tiebreak, dist), axis=1)
        rel = gl[order] == ql[:, None]
        hits = np.cumsum(rel, axis=1)
        acc += (hits / np.arange(1, n_g + 1) * rel).sum(1) / rel.sum(1)
    mc = acc.mean() / n_shuffles
    expected = mean_average_precision(dist, ql, gl, ties="expected")
    assert expected == pytest.approx(mc, abs=3e-3)
    # ties matter here: gallery-order ranking is a single draw, not the mean
    assert abs(mean_average_precision(dist, ql, gl) - expected) > 1e-6


# ----------------------------------------------------------- independent libraries


class _StableHammingKNN:
    """knn_func for pytorch-metric-learning: stable Hamming ranking on ±1 codes (plain torch)."""

    def __call__(self, query, k, reference, ref_includes_query):
        n_bits = query.shape[1]
        dist = (n_bits - query.double() @ reference.double().T) / 2
        values, indices = torch.sort(dist, dim=1, stable=True)
        return values[:, :k], indices[:, :k]


def test_map_all_stable_equals_pytorch_metric_learning():
    from pytorch_metric_learning.utils.accuracy_calculator import AccuracyCalculator

    rng = np.random.default_rng(7)
    n_q, n_g, n_bits = 40, 300, 24
    q_pm1 = rng.choice([-1.0, 1.0], size=(n_q, n_bits))
    g_pm1 = rng.choice([-1.0, 1.0], size=(n_g, n_bits))
    ql = rng.integers(0, 5, n_q)
    gl = rng.integers(0, 5, n_g)
    assert set(ql) <= set(gl)  # PML drops queries without relevant items; we score them 0
    calc = AccuracyCalculator(
        include=("mean_average_precision",),
        k=n_g,
        knn_func=_StableHammingKNN(),
        device=torch.device("cpu"),
    )
    ref = calc.get_accuracy(
        torch.from_numpy(q_pm1), torch.from_numpy(ql), torch.from_numpy(g_pm1), torch.from_numpy(gl)
    )["mean_average_precision"]
    q_codes, g_codes = _pack_pm1(q_pm1), _pack_pm1(g_pm1)
    dist = (n_bits - q_pm1 @ g_pm1.T).astype(np.int64) // 2
    assert mean_average_precision(dist, ql, gl) == pytest.approx(ref, abs=1e-9)
    res = evaluate_codes(q_codes, g_codes, ql, gl, n_bits)
    assert res["map_all_stable"] == pytest.approx(ref, abs=1e-9)


def test_map_float_equals_sklearn_average_precision():
    from sklearn.metrics import average_precision_score

    rng = np.random.default_rng(3)
    qf = rng.normal(size=(15, 6))
    gf = rng.normal(size=(120, 6))
    ql = rng.integers(0, 4, 15)
    gl = rng.integers(0, 4, 120)
    d = np.sqrt(((qf[:, None, :] - gf[None, :, :]) ** 2).sum(-1))
    # sklearn's AP = sum_n (R_n - R_{n-1}) P_n, identical to ours without ties
    ref = np.mean([average_precision_score(gl == ql[i], -d[i]) for i in range(15)])
    assert mean_average_precision_float(qf, gf, ql, gl) == pytest.approx(ref, abs=1e-12)
    assert mean_average_precision(d, ql, gl) == pytest.approx(ref, abs=1e-12)


def test_map_float_hand():
    # 1-D features: distances 1, 2, 3 -> relevance 0 1 1 -> (1/2 + 2/3) / 2
    v = mean_average_precision_float(np.array([[0.0]]), np.array([[1.0], [-2.0], [3.0]]), [0], [1, 0, 0])
    assert v == pytest.approx(7 / 12)


# ------------------------------------------------------------ consistency, packing


def test_pr_curve_consistent_with_radius_function():
    rng = np.random.default_rng(5)
    dist = rng.integers(0, 9, (10, 60))
    ql, gl = rng.integers(0, 4, 10), rng.integers(0, 4, 60)
    c = pr_curve(dist, ql, gl, n_bits=8)
    for r in range(9):
        p, rec = precision_recall_within_radius(dist, ql, gl, radius=r)
        assert c["precision"][r] == pytest.approx(p) and c["recall"][r] == pytest.approx(rec)


def test_evaluate_codes_hand_and_json():
    # 12-bit codes (padded when packed); query 0 = all zeros
    qb = np.zeros((1, 12), dtype=np.uint8)
    gb = np.zeros((4, 12), dtype=np.uint8)
    gb[1, :1] = 1  # distance 1
    gb[2, :1] = 1  # distance 1
    gb[3, :12] = 1  # distance 12
    ql, gl = np.array([0]), np.array([1, 1, 0, 0])
    res = evaluate_codes(np.packbits(qb, axis=1), np.packbits(gb, axis=1), ql, gl, 12, ks=(1, 2))
    # ranks: item 0 (d=0, irrelevant), tie {1 irrelevant, 2 relevant} at d=1, item 3 relevant at d=12
    # stable relevance 0 0 1 1 -> (1/3 + 2/4) / 2 = 5/12
    assert res["map_all_stable"] == pytest.approx(5 / 12)
    # expected: item 2 at rank 2 or 3 -> ((1/2 + 2/4) + (1/3 + 2/4)) / 2 / 2 = 11/24
    assert res["map_all"] == pytest.approx(11 / 24)
    # radius 2 ball = {0, 1, 2}: precision 1/3, recall 1/2
    assert res["p_at_r2"] == pytest.approx(1 / 3) and res["r_at_r2"] == pytest.approx(1 / 2)
    # expected P@1 = 0, P@2 = (0 + 1/2) / 2
    assert res["precision_at_k"][1] == pytest.approx(0.0)
    assert res["precision_at_k"][2] == pytest.approx(1 / 4)
    assert res["pr_curve"]["radius"] == list(range(13))
    assert res["pr_curve"]["recall"][12] == pytest.approx(1.0)
    json.dumps(res)  # JSON-friendly


def _two_query_case():
    """2-bit codes with hand-built distances [[0, 1, 1, 2], [2, 1, 1, 0]]; query 1 has no
    relevant item, query 0 has relevance 1 | 0 1 | 0 (a tie at distance 1)."""
    qb = np.array([[0, 0], [1, 1]], dtype=np.uint8)
    gb = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.uint8)
    dist = np.array([[0, 1, 1, 2], [2, 1, 1, 0]])
    return np.packbits(qb, axis=1), np.packbits(gb, axis=1), dist, np.array([0, 5]), np.array([0, 1, 0, 1])


def test_evaluate_distances_equals_evaluate_codes():
    q, g, dist, ql, gl = _two_query_case()
    assert np.array_equal(hamming_distances(q, g), dist)
    assert evaluate_distances(dist, ql, gl, 2, ks=(1, 2, 4)) == evaluate_codes(q, g, ql, gl, 2, ks=(1, 2, 4))
    rng = np.random.default_rng(11)
    q, g = rng.integers(0, 256, (7, 3), dtype=np.uint8), rng.integers(0, 256, (50, 3), dtype=np.uint8)
    ql, gl = rng.integers(0, 3, 7), rng.integers(0, 3, 50)
    ks = (1, 10, 50)
    assert evaluate_distances(hamming_distances(q, g), ql, gl, 24, ks) == evaluate_codes(q, g, ql, gl, 24, ks)


def test_evaluate_distances_hand():
    _, _, dist, ql, gl = _two_query_case()
    res = evaluate_distances(dist, ql, gl, 2, ks=(1, 2, 4))
    # query 1 scores 0 everywhere; query 0: stable relevance 1 0 1 0 -> (1 + 2/3) / 2 = 5/6,
    # expected: item 2 at rank 2 or 3 -> ((1 + 2/2) + (1 + 2/3)) / 2 / 2 = 11/12
    assert res["map_all_stable"] == pytest.approx(5 / 12)
    assert res["map_all"] == pytest.approx(11 / 24)
    # radius 2 ball = whole gallery: query 0 precision 2/4, recall 1
    assert res["p_at_r2"] == pytest.approx(1 / 4) and res["r_at_r2"] == pytest.approx(1 / 2)
    # query 0 expected P@1 = 1, P@2 = (1 + 1/2) / 2, P@4 = 2/4
    assert res["precision_at_k"] == pytest.approx({1: 1 / 2, 2: 3 / 8, 4: 1 / 4})
    # query 0 balls: r=0 {0}, r=1 {0, 1, 2}, r=2 all
    assert res["pr_curve"]["radius"] == [0, 1, 2]
    assert res["pr_curve"]["precision"] == pytest.approx([1 / 2, 1 / 3, 1 / 4])
    assert res["pr_curve"]["recall"] == pytest.approx([1 / 4, 1 / 2, 1 / 2])
    with pytest.raises(ValueError):
        evaluate_distances(dist.astype(float), ql, gl, 2)
    with pytest.raises(ValueError):
        evaluate_distances(dist, ql, gl, 1)  # distances above n_bits


# ------------------------------------------------------------------------ errors


def test_errors():
    dist = np.zeros((2, 3), dtype=np.int64)
    ql, gl = np.array([0, 1]), np.array([0, 1, 1])
    with pytest.raises(ValueError):
        mean_average_precision(dist, ql, gl, k=2, ties="expected")
    with pytest.raises(ValueError):
        mean_average_precision(dist.astype(float), ql, gl, ties="expected")
    with pytest.raises(ValueError):
        mean_average_precision(dist, ql, gl, ties="random")
    with pytest.raises(ValueError):
        mean_average_precision(dist, ql, gl, k=4)
    with pytest.raises(ValueError):
        mean_average_precision(dist, ql[:1], gl)
    with pytest.raises(ValueError):
        mean_average_precision(dist, ql.astype(float), gl)
    with pytest.raises(ValueError):
        mean_average_precision(dist[0], ql, gl)
    with pytest.raises(ValueError):
        mean_average_precision(np.full((2, 3), np.nan), ql, gl)
    with pytest.raises(ValueError):
        precision_at_k(dist, ql, gl, [0])
    with pytest.raises(ValueError):
        precision_at_k(dist, ql, gl, [4], ties="expected")
    with pytest.raises(ValueError):
        precision_recall_within_radius(dist, ql, gl, radius=-1)
    with pytest.raises(ValueError):
        pr_curve(dist + 5, ql, gl, n_bits=4)  # distances above n_bits
    with pytest.raises(ValueError):
        mean_average_precision_float(np.zeros((2, 3)), np.zeros((3, 4)), ql, gl)
    unpacked = np.zeros((2, 12), dtype=np.uint8)
    with pytest.raises(ValueError, match="pack_bits"):
        evaluate_codes(unpacked, np.zeros((3, 12), dtype=np.uint8), ql, gl, 12)
