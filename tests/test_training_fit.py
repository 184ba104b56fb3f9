"""The training-set fit beside a record's test mAP: alternate halves per person, mAP by hand."""
import numpy as np
import pytest

from dmh.run.evaluate import alternate_halves, training_fit


def test_alternate_halves_split_each_person_in_order():
    labels = np.array([5, 3, 5, 3, 5, 7])
    assert alternate_halves(labels).tolist() == [True, True, False, False, True, True]
    many = np.random.default_rng(0).integers(0, 9, size=200)
    first = alternate_halves(many)
    for c in np.unique(many):  # each person: ceil(n/2) query, floor(n/2) gallery images
        n = int((many == c).sum())
        assert int(first[many == c].sum()) == (n + 1) // 2


def test_training_fit_by_hand():
    labels = np.array([0, 0, 1, 1])  # queries: images 0 (A) and 2 (B); gallery: 1 (A), 3 (B)
    same = np.array([[0x00], [0x00], [0xFF], [0xFF]], dtype=np.uint8)
    assert training_fit(same, labels) == pytest.approx(1.0)
    # each query's nearest gallery image (distance 0) is the other person, its own at 8:
    # AP = 1/2 for both
    crossed = np.array([[0x00], [0xFF], [0xFF], [0x00]], dtype=np.uint8)
    assert training_fit(crossed, labels) == pytest.approx(0.5)
    # every code equal: ties in expectation, the own image first or second with equal odds
    tied = np.zeros((4, 1), dtype=np.uint8)
    assert training_fit(tied, labels) == pytest.approx((1 + 0.5) / 2)
