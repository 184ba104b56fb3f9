"""The data chapter's numbers, against counts worked out by hand on a folder made here."""
import numpy as np
import pytest
from PIL import Image

from dmh.data import FaceSet, load_dataset
from dmh.data.summary import dataset_summary, example_grid, split_summary

# identity -> number of images; by hand: 3 identities, 24 images; with >= 10: Ann and Cid, 22
COUNTS = {"Ann": 10, "Bob": 2, "Cid Dee": 12}


@pytest.fixture
def faces(tmp_path):
    root = tmp_path / "faces"
    rng = np.random.default_rng(0)
    for ident, n in COUNTS.items():
        (root / ident).mkdir(parents=True)
        for i in range(n):
            pix = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
            Image.fromarray(pix).save(root / ident / f"{i:02d}.png")
    (root / "notes.txt").write_text("not an identity")
    return root


def test_dataset_summary_counts(faces):
    s = dataset_summary(str(faces), min_images=10)
    assert (s["n_identities"], s["n_images"]) == (3, 24)
    assert (s["n_identities_min"], s["n_images_min"]) == (2, 22)
    assert s["images_per_identity"] == COUNTS
    assert dataset_summary(str(faces), min_images=3)["n_identities_min"] == 2
    assert dataset_summary(str(faces), min_images=2)["n_images_min"] == 24


def test_example_grid(faces):
    fs = load_dataset(str(faces), size=8, use_cache=False)
    images, names = example_grid(fs, n_ids=2, n_per_id=3, seed=1)
    assert images.shape == (2, 3, 8, 8, 3) and images.dtype == np.uint8
    assert len(names) == 2 and names == sorted(names)
    # each row holds distinct images of the identity named on it
    for row, name in zip(images, names):
        own = fs.images[fs.labels == fs.identities.index(name)].transpose(0, 2, 3, 1)
        hits = [int(np.flatnonzero((own == im).all(axis=(1, 2, 3)))[0]) for im in row]
        assert len(set(hits)) == 3
    again, names2 = example_grid(fs, n_ids=2, n_per_id=3, seed=1)
    assert names2 == names and np.array_equal(again, images)
    # 11 images per row: only Cid Dee qualifies
    _, only = example_grid(fs, n_ids=1, n_per_id=11, seed=0)
    assert only == ["Cid Dee"]
    with pytest.raises(ValueError, match="only 1 identities"):
        example_grid(fs, n_ids=2, n_per_id=11)


def test_example_grid_gray():
    fs = FaceSet(np.arange(4 * 16, dtype=np.uint8).reshape(4, 1, 4, 4), np.array([0, 0, 1, 1]),
                 ["a", "b"], ["k0", "k1", "k2", "k3"], "x", "tiny")
    images, names = example_grid(fs, n_ids=2, n_per_id=2)
    assert images.shape == (2, 2, 4, 4, 1) and names == ["a", "b"]


def test_split_summary():
    split = {"dataset": "d", "n_identities": 2, "n_images": 9, "query": [1, 2], "gallery": [0, 3, 4, 5],
             "val_query": [3], "val_gallery": [0, 4, 5], "near_duplicate_pairs": 4,
             "split_checksum": "ab" * 32, "data_checksum": "cd" * 32}
    s = split_summary(split)
    assert (s["n_query"], s["n_gallery"], s["n_val_query"], s["n_val_gallery"]) == (2, 4, 1, 3)
    assert s["near_duplicate_pairs"] == 4
    assert s["split_checksum"] == "ab" * 8 and s["data_checksum"] == "cd" * 8

