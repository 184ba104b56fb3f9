"""Top-k lists for a person: ties ordered by a seeded permutation or float distance, counted."""
import numpy as np

from dmh.codes import pack_bits
from dmh.ranking import top_k


def _codes(bits):
    return pack_bits(np.array(bits, dtype=np.uint8))


def test_ties_not_in_gallery_order_and_counted():
    # query 0000; gallery: eight items at distance 1 and one at distance 0 placed last
    q = _codes([[0, 0, 0, 0, 0, 0, 0, 0]])
    g = _codes([[1, 0, 0, 0, 0, 0, 0, 0]] * 8 + [[0] * 8])
    t = top_k(q, g, 3, seed=0)
    assert t.index[0] == 8 and list(t.distance) == [0, 1, 1]
    assert t.tied_at_cutoff == 8 and t.shown_at_cutoff == 2
    # the two distance-1 items shown follow the seeded permutation, not indices 0 and 1
    perm = np.random.default_rng(0).permutation(9)
    expected = [i for i in np.argsort(perm, kind="stable") if i != 8][:2]
    assert list(t.index[1:]) == expected and "seed 0" in t.ties
    assert list(top_k(q, g, 3, seed=0).index) == list(t.index)  # reproducible


def test_float_features_break_ties():
    q = _codes([[0] * 8])
    g = _codes([[1, 0, 0, 0, 0, 0, 0, 0]] * 3)
    feats = np.array([[3.0], [1.0], [2.0]])
    t = top_k(q, g, 3, qfeature=np.array([0.0]), gfeatures=feats)
    assert list(t.index) == [1, 2, 0] and "float" in t.ties
