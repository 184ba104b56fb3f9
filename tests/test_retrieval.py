import numpy as np
import pytest

import dmh.retrieval as retrieval
from dmh.retrieval import hamming_distances, hamming_radius_search, hamming_rank, hamming_topk

faiss = pytest.importorskip("faiss")
from faiss.contrib.evaluation import check_ref_knn_with_draws  # noqa: E402


def _random_codes(rng, n, n_bits, p_one=0.5):
    """Random {0,1} bits and their packed form, built without dmh.codes."""
    bits = (rng.random((n, n_bits)) < p_one).astype(np.uint8)
    return bits, np.packbits(bits, axis=1)


def _brute_dist(qb, gb):
    return (qb[:, None, :] != gb[None, :, :]).sum(-1)


def _brute_rank(dist):
    # reference ranking via Python tuple ordering (distance, index)
    return np.array([[j for _, j in sorted((int(d), j) for j, d in enumerate(row))] for row in dist])


@pytest.mark.parametrize("n_bits", [3, 12, 48, 64, 72])
def test_distances_match_bruteforce(n_bits):
    rng = np.random.default_rng(n_bits)
    qb, q = _random_codes(rng, 17, n_bits)
    gb, g = _random_codes(rng, 41, n_bits)
    d = hamming_distances(q, g)
    assert d.dtype == np.int32 and d.shape == (17, 41)
    np.testing.assert_array_equal(d, _brute_dist(qb, gb))


def test_distances_popcount_table_fallback_and_chunking(monkeypatch):
    rng = np.random.default_rng(1)
    qb, q = _random_codes(rng, 23, 20)
    gb, g = _random_codes(rng, 31, 20)
    monkeypatch.setattr(retrieval, "_HAS_BITWISE_COUNT", False)
    monkeypatch.setattr(retrieval, "_CHUNK_BYTES", 1)  # one query per chunk
    np.testing.assert_array_equal(hamming_distances(q, g), _brute_dist(qb, gb))


def test_rank_hand_example_ties_in_gallery_order():
    # 4-bit codes; query 0000
    q = np.packbits(np.array([[0, 0, 0, 0]], dtype=np.uint8), axis=1)
    gb = np.array(
        [[1, 1, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0], [1, 0, 0, 0], [1, 1, 1, 1]], dtype=np.uint8
    )
    g = np.packbits(gb, axis=1)
    # distances 2, 1, 0, 1, 4 -> order 2, 1, 3, 0, 4 (1 before 3: tie kept in gallery order)
    np.testing.assert_array_equal(hamming_distances(q, g), [[2, 1, 0, 1, 4]])
    r = hamming_rank(q, g)
    assert r.dtype == np.int64
    np.testing.assert_array_equal(r, [[2, 1, 3, 0, 4]])
    D, I = hamming_topk(q, g, 3)
    np.testing.assert_array_equal(I, [[2, 1, 3]])
    np.testing.assert_array_equal(D, [[0, 1, 1]])


def test_rank_and_topk_match_tuple_sort_with_many_ties():
    rng = np.random.default_rng(2)
    qb, q = _random_codes(rng, 12, 6)  # 6 bits, 80 items: lots of ties
    gb, g = _random_codes(rng, 80, 6)
    ref = _brute_rank(_brute_dist(qb, gb))
    np.testing.assert_array_equal(hamming_rank(q, g), ref)
    for k in (1, 7, 79, 80):
        D, I = hamming_topk(q, g, k)
        assert D.shape == I.shape == (12, k) and D.dtype == np.int32 and I.dtype == np.int64
        np.testing.assert_array_equal(I, ref[:, :k])
        np.testing.assert_array_equal(D, np.take_along_axis(_brute_dist(qb, gb), ref[:, :k], 1))


@pytest.mark.parametrize("n_bits", [12, 48])
def test_topk_numpy_equals_faiss_up_to_ties(n_bits):
    rng = np.random.default_rng(3)
    _, q = _random_codes(rng, 50, n_bits)
    _, g = _random_codes(rng, 600, n_bits)
    k = 25
    index = faiss.IndexBinaryFlat(g.shape[1] * 8)
    index.add(g)
    Dref, Iref = index.search(q, k)
    Dnew, Inew = hamming_topk(q, g, k, backend="numpy")
    check_ref_knn_with_draws(Dref, Iref, Dnew, Inew)
    Df, If = hamming_topk(q, g, k, backend="faiss")
    assert Df.dtype == np.int32 and If.dtype == np.int64
    check_ref_knn_with_draws(Dref, Iref, Df, If)


def test_check_ref_knn_with_draws_can_fail():
    # guard: the comparison used above does detect a wrong neighbour
    Dref = np.array([[0, 1, 2]], dtype=np.int32)
    Iref = np.array([[4, 5, 6]])
    with pytest.raises(AssertionError):
        check_ref_knn_with_draws(Dref, Iref, Dref, np.array([[4, 7, 6]]))


@pytest.mark.parametrize("radius", [0, 1, 3, 5])
def test_radius_search_matches_faiss_and_bruteforce(radius):
    rng = np.random.default_rng(4)
    qb, q = _random_codes(rng, 20, 12)
    gb, g = _random_codes(rng, 300, 12)
    q[0] = g[7]  # guarantee an exact match at distance 0
    qb[0] = gb[7]
    res = hamming_radius_search(q, g, radius)
    assert len(res) == 20
    brute = _brute_dist(qb, gb)
    index = faiss.IndexBinaryFlat(16)
    index.add(g)
    # faiss binary range_search keeps distance < radius (strict), ours <= radius
    lims, _, I = index.range_search(q, radius + 1)
    for i, got in enumerate(res):
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got, np.flatnonzero(brute[i] <= radius))
        np.testing.assert_array_equal(got, np.sort(I[lims[i] : lims[i + 1]]))
    assert 7 in res[0]


def test_radius_search_empty_ball():
    q = np.packbits(np.zeros((1, 8), dtype=np.uint8), axis=1)
    g = np.packbits(np.ones((3, 8), dtype=np.uint8), axis=1)
    res = hamming_radius_search(q, g, 7)
    assert len(res) == 1 and res[0].size == 0


@pytest.mark.parametrize(
    "q, g",
    [
        (np.zeros((2, 2), dtype=np.uint8), np.zeros((3, 3), dtype=np.uint8)),  # width mismatch
        (np.zeros((2, 2), dtype=np.int32), np.zeros((3, 2), dtype=np.uint8)),  # dtype
        (np.zeros(2, dtype=np.uint8), np.zeros((3, 2), dtype=np.uint8)),  # ndim
        (np.zeros((2, 0), dtype=np.uint8), np.zeros((3, 0), dtype=np.uint8)),  # empty codes
    ],
)
def test_bad_codes_raise(q, g):
    with pytest.raises(ValueError):
        hamming_distances(q, g)
    with pytest.raises(ValueError):
        hamming_radius_search(q, g, 1)


def test_bad_k_radius_backend_raise():
    q = np.zeros((2, 1), dtype=np.uint8)
    g = np.zeros((5, 1), dtype=np.uint8)
    for k in (0, 6, 2.5):
        with pytest.raises(ValueError):
            hamming_topk(q, g, k)
    with pytest.raises(ValueError):
        hamming_topk(q, g, 2, backend="annoy")
    with pytest.raises(ValueError):
        hamming_radius_search(q, g, -1)


@pytest.mark.parametrize(
    "values",
    [
        np.array([3, 1, 3, 0, 1, 1, 2]),  # uint8 radix path
        np.array([300, 5, 300, 70000 - 69999, 5, 1000]),  # uint16 path
        np.array([70000, 3, 70000, 3, -1]),  # wide / negative: plain stable sort
        np.array([0.5, 0.25, 0.5, 0.25]),
    ],
)
def test_stable_argsort_matches_tuple_sort(values):
    dist = np.stack([values, values[::-1]])
    ref = [[j for _, j in sorted((v, j) for j, v in enumerate(row))] for row in dist]
    np.testing.assert_array_equal(retrieval.stable_argsort(dist), ref)
