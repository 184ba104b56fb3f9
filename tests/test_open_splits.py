"""Open-set and cross-dataset protocols: hand-counted small folders, and the committed files
regenerated from the shared data (skipped without it)."""
import json

import numpy as np
import pytest
from PIL import Image

from conftest import real_data_or_skip
from dmh.data import load_dataset, read_split, split_path
from dmh.data.open_splits import (PROTOCOLS, apply_open_split, load_open_protocol,
                                  make_cross_split, make_open_split_by_count,
                                  make_open_split_by_identity, make_open_splits, open_split_path,
                                  read_open_split, view_record)


def noise_folder(root, spec, seed=0):
    """`spec`: identity -> number of images; images are seeded noise, so no two correlate,
    except that identity names listed in `twins` get image 1 = image 0 (a near-duplicate)."""
    rng = np.random.default_rng(seed)
    twins = spec.pop("twins", ())
    for ident, n in spec.items():
        d = root / ident
        d.mkdir(parents=True)
        first = None
        for i in range(n):
            a = rng.integers(0, 256, size=(40, 40, 3), dtype=np.uint8)
            if i == 1 and ident in twins:
                a = first
            first = a if i == 0 else first
            Image.fromarray(a).save(d / f"img {i}.png")
    return root


@pytest.fixture
def by_count(tmp_path, monkeypatch):
    monkeypatch.setenv("DMH_CACHE", str(tmp_path / "cache"))
    # A, B train (>= 4 images); C, D one query each; E's two images are twins: no query, both
    # distract; F, G single images distract.
    root = noise_folder(tmp_path / "faces", {"A": 5, "B": 4, "C": 3, "D": 2, "E": 2, "F": 1,
                                             "G": 1, "twins": ("E",)})
    return load_dataset(str(root))


def _names(fs, ix):
    return {fs.identities[fs.labels[i]] for i in ix}


def _counts(s) -> dict:
    """{part: (identities, images)} of a split's counts."""
    return {k: (v["identities"], v["images"]) for k, v in s["counts"].items()}


def test_open_by_count_hand_counts(by_count):
    fs = by_count
    s = make_open_split_by_count(fs, dataset="faces", train_min=4, seed=0)
    assert _counts(s) == {"train": (2, 9), "query": (2, 2), "gallery": (5, 7), "distractors": (3, 4)}
    assert s["identities_without_free_query"] == 1 and s["near_duplicate_pairs"] == 1
    assert _names(fs, s["train"]) == {"A", "B"}
    assert _names(fs, s["query"]) == {"C", "D"}
    assert _names(fs, s["gallery"]) == {"C", "D", "E", "F", "G"}
    # every image in exactly one part; no identity both trained on and retrieved
    every = s["train"] + s["query"] + s["gallery"]
    assert sorted(every) == list(range(len(fs)))
    assert not _names(fs, s["train"]) & _names(fs, s["query"] + s["gallery"])
    # each query's identity has a gallery image; distractors only in the gallery
    assert _names(fs, s["query"]) <= _names(fs, s["gallery"])
    assert {"E", "F", "G"}.isdisjoint(_names(fs, s["query"] + s["train"]))


def test_open_by_count_is_seeded(by_count):
    runs = [make_open_split_by_count(by_count, dataset="faces", train_min=4, seed=k)
            for k in (0, 0, 1, 2, 3)]
    assert runs[0]["split_checksum"] == runs[1]["split_checksum"]
    assert runs[0] == runs[1]
    assert len({r["split_checksum"] for r in runs}) > 1


@pytest.fixture
def by_identity(tmp_path, monkeypatch):
    monkeypatch.setenv("DMH_CACHE", str(tmp_path / "cache"))
    names = "PQRSTU"
    root = noise_folder(tmp_path / "people", {n: 6 for n in names} | {"twins": tuple(names)})
    return load_dataset(str(root))


def test_open_by_identity_hand_counts(by_identity):
    fs = by_identity
    s = make_open_split_by_identity(fs, dataset="people", n_train_identities=4, n_queries=2)
    assert _counts(s) == {"train": (4, 24), "query": (2, 4), "gallery": (2, 8), "distractors": (0, 0)}
    assert s["near_duplicate_pairs"] == 6
    assert sorted(s["train"] + s["query"] + s["gallery"]) == list(range(len(fs)))
    assert not _names(fs, s["train"]) & _names(fs, s["query"] + s["gallery"])
    assert _names(fs, s["query"]) == _names(fs, s["gallery"])
    assert set(s["train_identities"]) == _names(fs, s["train"])
    # no query is one of a twin pair (img 0 / img 1 of each identity)
    assert not any(fs.keys[i].endswith(("img 0.png", "img 1.png")) for i in s["query"])
    again = make_open_split_by_identity(fs, dataset="people", n_train_identities=4, n_queries=2)
    assert again == s
    others = {make_open_split_by_identity(fs, dataset="people", n_train_identities=4,
                                          n_queries=2, seed=k)["split_checksum"] for k in range(4)}
    assert len(others) > 1
    with pytest.raises(ValueError, match="without near-duplicates"):
        make_open_split_by_identity(fs, dataset="people", n_train_identities=4, n_queries=5)


def test_apply_and_cross_refuse_other_data(by_count, by_identity, tmp_path):
    src = make_open_split_by_count(by_count, dataset="faces", train_min=4)
    cross = make_cross_split("cross-x", by_identity, view_record(by_identity, "people", 1), src,
                             "faces-open.json", by_count.labels)
    assert cross["counts"]["train"] == {"identities": 6, "images": 36}
    assert cross["counts"]["query"] == src["counts"]["query"]
    assert cross["derived_from"]["split_checksum"] == src["split_checksum"]
    parts = apply_open_split(cross, {("people", 1): by_identity, ("faces", 1): by_count})
    assert len(parts["train"]) == 36 and len(parts["gallery"]) == 7
    assert parts["query"].keys == [by_count.keys[i] for i in src["query"]]
    with pytest.raises(ValueError, match="images differ"):
        apply_open_split(cross, {("people", 1): by_count, ("faces", 1): by_count})
    path = tmp_path / "s.json"
    edited = dict(cross, query=cross["query"][:-1])
    path.write_text(json.dumps(edited))
    with pytest.raises(ValueError, match="edited"):
        read_open_split(path)
    with pytest.raises(ValueError, match="unknown open protocol"):
        open_split_path("open-nothing")


# --- the committed files ------------------------------------------------------------------

EXPECTED = {  # (identities, images) of train, query, gallery, distractors
    "open-lfw": ((158, 4324), (1521, 1521), (5591, 7388), (4070, 4071)),
    "open-pins": ((70, 11635), (35, 175), (35, 5724), (0, 0)),
    "cross-pins-lfw": ((105, 17534), (1521, 1521), (5591, 7388), (4070, 4071)),
    "cross-lfw-pins": ((158, 4324), (105, 525), (105, 17009), (0, 0)),
}


def test_committed_open_splits_reproduce():
    real_data_or_skip("lfw")
    real_data_or_skip("pins")
    fresh = make_open_splits(0, log=lambda s: None)
    for name in PROTOCOLS:
        committed = read_open_split(open_split_path(name, 0))
        assert fresh[name]["split_checksum"] == committed["split_checksum"], name
        assert fresh[name]["views"] == committed["views"], name
        c = committed["counts"]
        got = tuple((c[k]["identities"], c[k]["images"])
                    for k in ("train", "query", "gallery", "distractors"))
        assert got == EXPECTED[name], name
    # cross files are copies of the lists of the files they name
    assert read_open_split(open_split_path("cross-pins-lfw"))["derived_from"]["split_checksum"] \
        == read_open_split(open_split_path("open-lfw"))["split_checksum"]
    closed = read_split(split_path("pins", 0))
    cross = read_open_split(open_split_path("cross-lfw-pins"))
    assert cross["derived_from"]["split_checksum"] == closed["split_checksum"]
    assert (cross["query"], cross["gallery"]) == (closed["query"], closed["gallery"])


def test_load_open_protocols():
    real_data_or_skip("lfw")
    real_data_or_skip("pins")
    lfw10 = load_dataset("lfw", min_images=10)
    for name in PROTOCOLS:
        parts, split = load_open_protocol(name)
        assert [len(parts[p]) for p in ("train", "query", "gallery")] == \
            [EXPECTED[name][i][1] for i in range(3)]
        q_ids = {parts["query"].identities[i] for i in parts["query"].labels}
        g_ids = {parts["gallery"].identities[i] for i in parts["gallery"].labels}
        assert q_ids <= g_ids
        if name.startswith("open-"):
            t_ids = {parts["train"].identities[i] for i in parts["train"].labels}
            assert not t_ids & (q_ids | g_ids)
        if name == "open-lfw":  # trains on exactly the closed protocol's images
            assert parts["train"].keys == lfw10.keys
