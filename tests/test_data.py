import pickle
import struct

import numpy as np
import pytest
from PIL import Image

from dmh.data import (Crop, load_dataset, load_ddh_pickle, make_closed_split, near_duplicate_groups)
from dmh.data.faceset import FaceSet


# --- DDH pickles -------------------------------------------------------------------------

class _Py2Str(bytes):
    """Bytes that pickle as a Python-2 `str` (BINSTRING), as the DDH releases hold them."""


class _Py2Pickler(pickle._Pickler):
    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2str(self, obj):
        self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + bytes(obj))
        self.memoize(obj)

    dispatch[_Py2Str] = save_py2str


class _Py2Array:
    """Reduces like a numpy array pickled by Python 2: raw data as a py2 str."""

    def __init__(self, a):
        self.a = np.ascontiguousarray(a)

    def __reduce__(self):
        fn, args, state = self.a.__reduce__()
        version, shape, dtype, fortran, raw = state
        return fn, args, (version, shape, dtype, fortran, _Py2Str(raw))


def write_ddh_pickle(path, x, y):
    with open(path, "wb") as f:
        _Py2Pickler(f, protocol=2).dump((_Py2Array(x), _Py2Array(y)))


def test_ddh_pickle_python2_format(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(6, 3 * 32 * 32), dtype=np.uint8)
    x[:, :5] = 200  # bytes > 127 are what break a non-latin1 load
    y = np.array([7, 3, 7, 9, 3, 3], dtype=np.int32)
    path = tmp_path / "youtube_test.pkl"
    write_ddh_pickle(path, x, y)
    with pytest.raises(UnicodeDecodeError):  # proves the file is Python-2 style
        pickle.loads(path.read_bytes())
    fs = load_ddh_pickle(path)
    assert fs.images.shape == (6, 3, 32, 32) and fs.images.dtype == np.uint8
    # channel-major: row[0:1024] is the first channel's 32x32 image, row-major
    np.testing.assert_array_equal(fs.images[2, 1], x[2, 1024:2048].reshape(32, 32))
    assert fs.identities == ["3", "7", "9"]
    np.testing.assert_array_equal(fs.labels, [1, 0, 1, 2, 0, 0])
    assert load_dataset(str(path)).checksum == fs.checksum


def test_ddh_pickle_bad_shape_names_file(tmp_path):
    path = tmp_path / "bad.pkl"
    path.write_bytes(pickle.dumps((np.zeros((2, 100), np.uint8), np.zeros(2))))
    with pytest.raises(ValueError, match="bad.pkl.*3x32x32"):
        load_ddh_pickle(path)
    with pytest.raises(FileNotFoundError, match="nothere.pkl"):
        load_ddh_pickle(tmp_path / "nothere.pkl")


# --- identity folders --------------------------------------------------------------------

def _face(value, size=40, mode="RGB"):
    a = np.full((size, size, 3), value, np.uint8)
    a[size // 2:, :, 0] = 255 - value  # a feature the crop and resize keep
    return Image.fromarray(a).convert(mode)


def make_folder(root, spec, mode="RGB"):
    for ident, values in spec.items():
        d = root / ident
        d.mkdir(parents=True)
        for i, v in enumerate(values):
            _face(v, mode=mode).save(d / f"img {i}.png")
    return root


def test_identity_folder_names_verbatim_and_pixels(tmp_path, monkeypatch):
    monkeypatch.setenv("DMH_CACHE", str(tmp_path / "cache"))
    root = make_folder(tmp_path / "faces", {"Mary J. Blige": [10, 20], "ab cd": [30], "Zed": [40]})
    fs = load_dataset(str(root))
    assert fs.identities == ["Mary J. Blige", "Zed", "ab cd"]  # sorted, verbatim
    assert fs.keys[0] == "Mary J. Blige/img 0.png"
    np.testing.assert_array_equal(fs.labels, [0, 0, 1, 2])  # folders in sorted order
    assert fs.images.shape == (4, 3, 32, 32)
    # top half keeps the fill value in every channel; bottom half's red is 255 - value
    assert (fs.images[1, :, :8] == 20).all() and (fs.images[1, 0, 24:] == 235).all()


def test_gray_images_become_three_equal_channels(tmp_path, monkeypatch):
    monkeypatch.setenv("DMH_CACHE", str(tmp_path / "cache"))
    root = make_folder(tmp_path / "g", {"a": [50, 60]}, mode="L")
    fs = load_dataset(str(root))
    assert fs.images.shape[1] == 3
    np.testing.assert_array_equal(fs.images[:, 0], fs.images[:, 2])


def test_cache_is_keyed_by_content(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("DMH_CACHE", str(cache))
    root = make_folder(tmp_path / "f", {"a": [10, 20], "b": [30]})
    first = load_dataset(str(root))
    assert len(list(cache.glob("*.npy"))) == 1
    again = load_dataset(str(root))
    np.testing.assert_array_equal(first.images, again.images)
    assert len(list(cache.glob("*.npy"))) == 1  # second load hit the cache
    _face(99).save(root / "b" / "img 0.png")  # same name, new content
    changed = load_dataset(str(root))
    assert changed.checksum != first.checksum
    assert (changed.images[2] != first.images[2]).any()
    assert len(list(cache.glob("*.npy"))) == 2


def test_bad_folders_name_the_path(tmp_path, monkeypatch):
    monkeypatch.setenv("DMH_CACHE", str(tmp_path / "cache"))
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_dataset(str(tmp_path / "nowhere"))
    root = make_folder(tmp_path / "e", {"a": [1]})
    (root / "empty one").mkdir()
    with pytest.raises(ValueError, match="empty one"):
        load_dataset(str(root))
    root2 = make_folder(tmp_path / "u", {"a": [1]})
    (root2 / "a" / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(ValueError, match="broken.jpg"):
        load_dataset(str(root2))


def test_named_dataset_missing_says_where_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("DMH_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="data/README.md"):
        load_dataset("pins")


def test_center_crop():
    im = Image.new("L", (100, 60))
    assert Crop(center_fraction=0.5).apply(im).size == (30, 30)
    assert Crop(box=(10, 10, 50, 50)).apply(im).size == (40, 40)
    assert Crop(center_fraction=None).apply(im).size == (100, 60)


# --- closed protocol -----------------------------------------------------------------------

def synthetic_faces(n_ids=6, per_id=12, dup_pairs=((0, 0, 1), (2, 3, 4))):
    """Random images; `dup_pairs` (identity, i, j) makes image j a near-copy of image i."""
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(n_ids), per_id)
    labels = np.concatenate([labels, [n_ids] * 4])  # an identity with too few images
    images = rng.integers(0, 256, size=(len(labels), 3, 32, 32), dtype=np.uint8)
    for ident, i, j in dup_pairs:
        a, b = ident * per_id + i, ident * per_id + j
        images[b] = np.clip(images[a].astype(int) + rng.integers(-3, 4, images[a].shape), 0, 255)
    return FaceSet(images, labels, [f"id{i}" for i in range(n_ids + 1)],
                   [f"k{i}" for i in range(len(labels))], "c" * 64, "synthetic")


def test_near_duplicate_groups_by_hand():
    fs = synthetic_faces()
    groups, n_pairs = near_duplicate_groups(fs.images, fs.labels)
    assert n_pairs == 2
    assert groups[0] == groups[1] and groups[2 * 12 + 3] == groups[2 * 12 + 4]
    assert len(np.unique(groups)) == len(fs) - 2


def test_closed_split_protocol():
    fs = synthetic_faces()
    s = make_closed_split(fs, seed=3, n_queries=5, min_images=10, n_val_queries=2)
    q, g, vq, vg = (np.array(s[p]) for p in ("query", "gallery", "val_query", "val_gallery"))
    labels = fs.labels[: 6 * 12]
    assert s["n_identities"] == 6 and s["near_duplicate_pairs"] == 2
    assert len(q) == 30 and len(g) == 6 * 12 - 30 and len(vq) == 12
    assert (np.bincount(labels[q]) == 5).all() and (np.bincount(labels[vq]) == 2).all()
    assert set(q).isdisjoint(g) and set(q) | set(g) == set(range(72))
    assert set(vq) <= set(g) and set(vg) == set(g) - set(vq)
    for a, b in ((0, 1), (27, 28)):  # near-duplicate pairs stay on one side
        assert a in g and b in g
    assert not (np.diff(labels[g]) >= 0).all()  # gallery is not sorted by identity
    again = make_closed_split(fs, seed=3)
    assert again["split_checksum"] == s["split_checksum"]
    assert make_closed_split(fs, seed=4)["split_checksum"] != s["split_checksum"]


class _RunsCode:
    """A pickle that would call os.system on load: what a crafted .pkl does."""

    def __reduce__(self):
        import os

        return os.system, ("touch pwned",)


def test_ddh_pickle_refuses_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "crafted.pkl"
    path.write_bytes(pickle.dumps((_RunsCode(), np.zeros(2)), protocol=2))
    with pytest.raises(ValueError, match="crafted.pkl.*refused to load (posix|os).system"):
        load_ddh_pickle(path)
    assert not (tmp_path / "pwned").exists()
    # arrays pickled by today's numpy (numpy._core names) still load
    ok = tmp_path / "new.pkl"
    ok.write_bytes(pickle.dumps((np.zeros((2, 3072), np.uint8), np.array([1, 2])), protocol=4))
    assert load_ddh_pickle(ok).images.shape == (2, 3, 32, 32)
