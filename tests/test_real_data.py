"""The committed split files are what the protocol makes from the shared data."""
import numpy as np
import pytest

from conftest import real_data_or_skip
from dmh.data import load_dataset, make_closed_split, read_split, split_path
from dmh.data.splits import apply_split

EXPECTED = {"lfw": (158, 4324, 790), "pins": (105, 17534, 525)}


@pytest.mark.parametrize("name", ["lfw", "pins"])
def test_committed_split_reproduces(name):
    real_data_or_skip(name)
    committed = read_split(split_path(name, 0))
    fs = load_dataset(name, min_images=10)
    view = load_dataset(name, min_images=10, channels=1, full_frame=True).images
    fresh = make_closed_split(fs, dup_view=view, seed=0)
    assert fresh["data_checksum"] == committed["data_checksum"]
    assert fresh["split_checksum"] == committed["split_checksum"]
    n_ids, n_images, n_queries = EXPECTED[name]
    assert (fresh["n_identities"], fresh["n_images"], len(fresh["query"])) == EXPECTED[name]
    assert len(fresh["gallery"]) == n_images - n_queries
    if name == "pins":
        assert fresh["near_duplicate_pairs"] == 116  # the count the dataset README gives
    parts = apply_split(fs, committed)
    assert set(np.unique(parts["query"].labels)) == set(np.unique(parts["gallery"].labels))
