"""The retrieval examples record (`dmh.run.examples`): top-k lists and distance counts on
hand-made codes, and the checks on reading a stored record."""
import json

import numpy as np
import pytest

from dmh.codes import pack_bits
from dmh.report.examples import spread_frame
from dmh.run.examples import PAIRS, distance_counts, read_examples, top_k_lists
from dmh.run.records import RecordError

# 8-bit codes: gallery 0,1 are person 0; gallery 2,3 person 1
G = pack_bits(np.array([[0] * 8, [1] + [0] * 7, [1] * 8, [1] * 7 + [0]]))
Q = pack_bits(np.array([[0] * 8, [1] * 6 + [0] * 2]))
QL, GL = np.array([0, 1]), np.array([0, 0, 1, 1])


def test_top_k_lists_by_hand():
    top = top_k_lists(Q, G, QL, GL, n=2, k=3, seed=0)
    assert sorted(top["query_index"]) == [0, 1]
    for r, qi in enumerate(top["query_index"]):
        want = {0: ([0, 1, 3], [0, 1, 7]), 1: ([3, 2, 1], [1, 2, 5])}[qi]
        assert top["gallery_index"][r].tolist() == want[0] and top["distance"][r].tolist() == want[1]
        assert top["correct"][r].tolist() == (GL[want[0]] == QL[qi]).tolist()


def test_distance_counts_by_hand():
    # query 0 (all zeros): same 0, 1; different 8, 7. Query 1 (six ones): same 2, 1; different 6, 5
    c = distance_counts(Q, G, QL, GL, bits=8)
    assert c["same person"] == [1, 2, 1, 0, 0, 0, 0, 0, 0]
    assert c["different people"] == [0, 0, 0, 0, 0, 1, 1, 1, 1]
    f = spread_frame(c)
    assert f.groupby("pair").share.sum().round(12).to_dict() == {p: 1.0 for p in PAIRS}


def _record():
    return {"name": "dmh-x", "config": {"bits": 8}, "n_query": 2, "n_gallery": 4,
            "query_keys": ["a/1.jpg"], "query_identities": ["a"], "top_keys": [["a/2.jpg", "b/1.jpg"]],
            "top_identities": [["a", "b"]], "top_distances": [[0, 5]], "top_correct": [[True, False]],
            "top_queried": [[True, False]],
            "pairs_at_distance": {"same person": [1] + [0] * 8, "different people": [0] * 5 + [1, 0, 0, 0]}}


@pytest.mark.parametrize("spoil", [
    lambda d: d.pop("top_keys"),
    lambda d: d["top_distances"][0].append(3),  # a list longer than the others
    lambda d: d["top_distances"].__setitem__(0, [0, 9]),  # beyond the code length
    lambda d: d["pairs_at_distance"].__setitem__("same person", [1, 0]),
    lambda d: d.__setitem__("config", "eight bits"),
    lambda d: d["top_distances"].__setitem__(0, [5, 0]),  # a top-k list out of order
    lambda d: d["top_correct"].__setitem__(0, [True, True]),  # 'b' marked as the query's person
    lambda d: d["top_queried"].__setitem__(0, [False, False]),  # the query's own person unqueried
    lambda d: d["top_queried"].pop(),
])
def test_a_spoiled_record_is_named_in_one_line(tmp_path, spoil):
    path = tmp_path / "dmh-x.json"
    path.write_text(json.dumps(_record()))
    assert read_examples(path)["top_correct"] == [[True, False]]
    d = _record()
    spoil(d)
    path.write_text(json.dumps(d))
    with pytest.raises(RecordError) as e:
        read_examples(path)
    assert str(path) in str(e.value) and "\n" not in str(e.value) and "rerun" in str(e.value)
