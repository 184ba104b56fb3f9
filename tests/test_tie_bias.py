"""Why the headline mAP is the expected one: with many ties, a stable tie-break over a
gallery sorted by identity rewards the order the gallery happens to be stored in."""
import numpy as np

from dmh.metrics import mean_average_precision


def test_expected_map_ignores_gallery_order_stable_does_not():
    rng = np.random.default_rng(0)
    gl = np.repeat(np.arange(20), 10)                      # sorted by identity
    ql = np.arange(20)
    dist = rng.integers(0, 3, size=(20, len(gl)))          # 12-bit-like: few distinct distances
    perm = rng.permutation(len(gl))                        # the same gallery, stored shuffled
    exp_sorted = mean_average_precision(dist, ql, gl, ties="expected")
    exp_shuffled = mean_average_precision(dist[:, perm], ql, gl[perm], ties="expected")
    assert np.isclose(exp_sorted, exp_shuffled)
    # a query's relevant items sit in one contiguous block of the sorted gallery; identity 0's
    # block comes first, so for query 0 the stable order ranks it ahead of every tie
    first = mean_average_precision(dist[:1], ql[:1], gl, ties="stable")
    first_exp = mean_average_precision(dist[:1], ql[:1], gl, ties="expected")
    assert first > first_exp + 0.05
    stable_shuffled = [mean_average_precision(dist[:, p], ql, gl[p], ties="stable")
                       for p in (rng.permutation(len(gl)) for _ in range(200))]
    # over random storage orders the stable mAP averages to the expected one
    assert abs(np.mean(stable_shuffled) - exp_sorted) < 3 * np.std(stable_shuffled) / np.sqrt(200) + 1e-3
