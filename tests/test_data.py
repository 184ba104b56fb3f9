import io
import os
import pickle
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from dmh.data import (Crop, load_dataset, load_ddh_pickle, make_closed_split, near_duplicate_groups)
from dmh.data import identity_folder
from dmh.data.faceset import FaceSet
from dmh.data.preprocess import MAX_PIXELS, ImageError, decode_face


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
    with pytest.raises(ValueError, match="broken.jpg: not an image.*; delete it") as e:
        load_dataset(str(root2), strict=True)
    assert "\n" not in str(e.value)
    fs = load_dataset(str(root2))  # without strict: skipped and listed
    assert fs.keys == ["a/img 0.png"]
    assert [(s.path.endswith("/a/broken.jpg"), s.kind) for s in fs.skipped] == [(True, "not an image")]


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


# --- untrusted files and messy folders ---------------------------------------------------

def encoded(im, fmt, **kw):
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def rgb(data, crop=Crop(center_fraction=None), size=2):
    """decode_face as (size, size, 3)."""
    return decode_face(data, crop, size).transpose(1, 2, 0)


@pytest.mark.parametrize("orientation, turns", [(6, -1), (8, 1)])  # 6: turn clockwise to view
def test_exif_orientation_is_applied(orientation, turns):
    y, x = np.mgrid[0:32, 0:48]  # 48 wide, 32 high: stored sideways
    a = np.stack([x * 5, y * 7, (x * y) % 256], -1).astype(np.uint8)
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encoded(Image.fromarray(a), "JPEG", quality=95, exif=exif)
    stored = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))  # as the file holds it
    upright = Image.fromarray(np.ascontiguousarray(np.rot90(stored, turns)))  # turned by hand
    crop = Crop(box=(0, 0, 24, 24))  # the top-left corner: a different one for each turn
    expected = np.asarray(crop.apply(upright).resize((8, 8), Image.Resampling.BOX))
    np.testing.assert_array_equal(rgb(data, crop, 8), expected)
    sideways = np.asarray(crop.apply(Image.fromarray(stored)).resize((8, 8), Image.Resampling.BOX))
    assert not np.array_equal(expected, sideways)


def _palette_with_transparency():
    im = Image.fromarray(np.array([[0, 1], [1, 0]], np.uint8), "P")
    im.putpalette([255, 0, 0, 0, 255, 0])
    return encoded(im, "PNG", transparency=1)


W, R = [255, 255, 255], [255, 0, 0]
# source bytes -> the decoded 2x2 RGB, worked out by hand
MODES = {
    # 16-bit: round(v / 257); clipping would give 255 for 2570 and 40000
    "I;16": (lambda: encoded(Image.fromarray(np.array([[0, 2570], [65535, 40000]], np.uint16)), "PNG"),
             [[0, 10], [255, 156]]),
    "I": (lambda: encoded(Image.fromarray(np.array([[0, 129], [65535, 128]], np.int32)), "TIFF"),
          [[0, 1], [255, 0]]),
    "F 0..1": (lambda: encoded(Image.fromarray(np.array([[0, .2], [1, .6]], np.float32)), "TIFF"),
               [[0, 51], [255, 153]]),
    "F 0..255": (lambda: encoded(Image.fromarray(np.array([[0, 100.4], [255, 7.6]], np.float32)), "TIFF"),
                 [[0, 100], [255, 8]]),
    "1": (lambda: encoded(Image.fromarray(np.array([[0, 1], [1, 0]], bool)), "PNG"), [[0, 255], [255, 0]]),
    # transparency over white: round((c * a + 255 * (255 - a)) / 255)
    "P+transparency": (_palette_with_transparency, [[R, W], [W, R]]),
    "LA": (lambda: encoded(Image.fromarray(np.array([[[100, 128], [100, 255]], [[100, 0], [0, 255]]],
                                                    np.uint8), "LA"), "PNG"), [[177, 100], [255, 0]]),
    "RGBA": (lambda: encoded(Image.fromarray(np.array([[[200, 0, 50, 64], [200, 0, 50, 0]],
                                                      [[10, 20, 30, 255], [0, 0, 0, 0]]], np.uint8)), "PNG"),
             [[[241, 191, 204], W], [[10, 20, 30], W]]),
    # CMYK: round((255 - c) * (255 - k) / 255) per channel
    "CMYK": (lambda: encoded(Image.new("CMYK", (2, 2), (100, 50, 0, 30)), "TIFF"),
             [[[137, 181, 225]] * 2] * 2),
}


@pytest.mark.parametrize("mode", MODES)
def test_pixel_modes_are_scaled_not_clipped(mode):
    make, expected = MODES[mode]
    expected = np.array(expected, np.uint8)
    if expected.ndim == 2:  # gray
        expected = np.repeat(expected[..., None], 3, -1)
        np.testing.assert_array_equal(decode_face(make(), Crop(center_fraction=None), 2, channels=1)[0],
                                      expected[..., 0])
    np.testing.assert_array_equal(rgb(make()), expected)


def test_float_pixels_out_of_range_are_refused():
    data = encoded(Image.fromarray(np.array([[0, 300]], np.float32)), "TIFF")
    with pytest.raises(ImageError, match=r"corrupt image: float pixels in 0\.\.300"):
        decode_face(data, Crop(), 2)


def test_every_pillow_format_loads(tmp_path, monkeypatch):
    monkeypatch.setenv("DMH_CACHE", str(tmp_path / "cache"))
    a = np.zeros((16, 16, 3), np.uint8)
    a[:8, :8], a[:8, 8:], a[8:, :8], a[8:, 8:] = (255, 0, 0), (0, 255, 0), (0, 0, 255), (90, 90, 90)
    im = Image.fromarray(a)
    (tmp_path / "f" / "id").mkdir(parents=True)
    for fmt, suffix, kw in [("PNG", "png", {}), ("GIF", "gif", {}), ("BMP", "bmp", {}), ("TIFF", "tif", {}),
                            ("WEBP", "webp", {"lossless": True}), ("PPM", "ppm", {}), ("TGA", "tga", {}),
                            ("JPEG", "jpg", {"quality": 95, "subsampling": 0})]:
        im.save(tmp_path / "f" / "id" / f"x.{suffix}", fmt, **kw)
    blue = Image.new("RGB", (16, 16), (0, 0, 255))  # the second frame of an animation is not read
    im.save(tmp_path / "f" / "id" / "y.gif", save_all=True, append_images=[blue], duration=100)
    fs = load_dataset(str(tmp_path / "f"), size=16)
    assert [k.split("/")[1] for k in fs.keys] == ["x.bmp", "x.gif", "x.jpg", "x.png", "x.ppm", "x.tga",
                                                  "x.tif", "x.webp", "y.gif"]
    assert fs.skipped == []
    for key, img in zip(fs.keys, fs.images):
        diff = np.abs(img.transpose(1, 2, 0).astype(int) - a).max()
        assert diff <= (4 if key.endswith(".jpg") else 0), key


def png_of_size(w, h):
    """A 1x1 PNG whose header claims w x h (checksum fixed): what a decompression bomb shows."""
    d = bytearray(encoded(Image.new("L", (1, 1)), "PNG"))
    d[16:24] = struct.pack(">II", w, h)
    d[29:33] = struct.pack(">I", zlib.crc32(bytes(d[12:29])))
    return bytes(d)


@pytest.mark.parametrize("w, h, mp", [(8000, 8000, "64.0"), (13000, 13000, "169.0"), (20000, 20000, "400.0")])
def test_pixel_limit_checked_from_the_header(w, h, mp):
    assert MAX_PIXELS == 40_000_000
    with pytest.raises(ImageError, match=rf"too large: .*{mp} megapixels, over the 40 megapixel limit"):
        decode_face(png_of_size(w, h), Crop(), 8)


def _messy_folder(root):
    make_folder(root, {"a": [10, 20], "b": [30]})
    a = root / "a"
    im = Image.fromarray(np.repeat(np.array([[0], [1]], np.uint8), 40, 1).repeat(20, 0), "P")
    im.putpalette([255, 0, 0, 0, 255, 0])
    im.save(a / "img 2.gif", transparency=1)  # top half red, bottom half transparent
    (a / "notes.txt").write_text("hello")
    (a / "new\nline.jpg").write_bytes(b"")  # a file name that would break the one-line report
    (a / "fake.jpg").write_bytes(b"not a jpeg")
    os.symlink(root / "missing.png", a / "gone.png")
    os.symlink("loop.png", a / "loop.png")
    os.mkfifo(a / "pipe.png")  # reading it would block forever
    _face(1).save(a / "locked.png")
    os.chmod(a / "locked.png", 0)
    (a / "sub").mkdir()
    _face(2).save(a / "sub" / "deep.png")
    (a / "huge.png").write_bytes(png_of_size(20000, 20000))
    with open(os.fsencode(a) + b"/bad\xff.png", "wb") as f:
        _face(3).save(f, "PNG")
    _face(4).save(root / "stray.png")
    (root / "MANIFEST.sha256").write_text("the dataset's own file: ignored\n")
    return root


def test_messy_folder_lists_every_skipped_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DMH_CACHE", str(tmp_path / "cache"))
    root = _messy_folder(tmp_path / "m")
    real_open = open
    if os.geteuid() == 0:  # root reads any file: refuse this one as the kernel would
        def fake_open(path, *a, **kw):
            if str(path).endswith("locked.png"):
                raise PermissionError(13, "Permission denied")
            return real_open(path, *a, **kw)
        monkeypatch.setattr(identity_folder, "open", fake_open, raising=False)
    fs = load_dataset(str(root))
    assert fs.keys == ["a/img 0.png", "a/img 1.png", "a/img 2.gif", "b/img 0.png"]
    gif = fs.images[2].transpose(1, 2, 0)
    assert (gif[:14] == R).all() and (gif[18:] == W).all()  # transparent -> white
    got = [(s.path[len(str(root)) + 1:], s.kind) for s in fs.skipped]
    assert got == [("a/bad\\xff.png", "name not UTF-8"), ("a/fake.jpg", "not an image"),
                   ("a/gone.png", "broken link"), ("a/huge.png", "too large"),
                   ("a/locked.png", "unreadable"), ("a/loop.png", "symlink loop"),
                   ("a/new\\nline.jpg", "not an image"), ("a/notes.txt", "not an image"),
                   ("a/pipe.png", "not a regular file"), ("a/sub/deep.png", "in a sub-folder"),
                   ("stray.png", "outside an identity folder")]
    assert "missing.png does not exist" in fs.skipped[2].reason
    assert "400.0 megapixels, over the 40 megapixel limit" in fs.skipped[3].reason
    summary = ("4 images, 11 skipped: 1 name not UTF-8, 3 not an image, 1 broken link, 1 too large, "
               "1 unreadable, 1 symlink loop, 1 not a regular file, 1 in a sub-folder, "
               "1 outside an identity folder")
    err = capsys.readouterr().err.splitlines()
    assert err[0] == summary and len(err) == 7 and err[1].endswith("bad\\xff.png: name not UTF-8")
    # a second load takes the decoded arrays and the decode failures from the cache
    monkeypatch.setattr(identity_folder, "decode_face", lambda *a: pytest.fail("decoded again"))
    again = load_dataset(str(root))
    assert again.skipped == fs.skipped and again.checksum == fs.checksum
    np.testing.assert_array_equal(again.images, fs.images)
    with pytest.raises(ValueError) as e:  # strict: the first bad file, on one line
        load_dataset(str(root), strict=True)
    assert str(e.value).startswith(f"{root}/a/bad\\xff.png: name not UTF-8; rename it")
    assert "\n" not in str(e.value)


def test_min_images_counts_only_decodable_images(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DMH_CACHE", str(tmp_path / "cache"))
    root = make_folder(tmp_path / "f", {"a": [10, 20], "b": [30, 40]})
    (root / "b" / "img 1.png").write_bytes((root / "b" / "img 1.png").read_bytes()[:60])  # cut short
    fs = load_dataset(str(root), min_images=2)
    assert fs.identities == ["a"] and fs.keys == ["a/img 0.png", "a/img 1.png"]
    assert [s.kind for s in fs.skipped] == ["corrupt image"]
    assert fs.checksum == load_dataset(str(make_folder(tmp_path / "g", {"a": [10, 20]})),
                                       min_images=2).checksum  # as if b were not there
    assert capsys.readouterr().err.startswith("2 images, 1 skipped: 1 corrupt image\n")


def test_protocol5_arrays_load(tmp_path):
    """numpy pickles arrays at protocol 5 through `_frombuffer`: admitted, as plain data."""
    x = np.arange(2 * 3072, dtype=np.uint8).reshape(2, 3072) % 251
    path = tmp_path / "p5.pkl"
    path.write_bytes(pickle.dumps((x, np.array([3, 4])), protocol=5))
    np.testing.assert_array_equal(load_ddh_pickle(path).images.reshape(2, -1), x)


@pytest.mark.parametrize("protocol", [2, 5])
def test_object_arrays_refused(tmp_path, protocol):
    """Raw bytes read as Python object pointers crash numpy (the fuzzer found it): refused."""
    path = tmp_path / "objects.pkl"
    path.write_bytes(pickle.dumps((np.array([1, "a"], dtype=object), np.zeros(2)), protocol=protocol))
    with pytest.raises(ValueError, match="objects.pkl.*refused dtype"):
        load_ddh_pickle(path)


def test_tighter_crop_by_hand():
    # LFW's 114-px box shrunk to its centred 80%: 11 px off each side
    assert Crop(box=(68, 68, 182, 182)).tighter(0.8) == Crop(box=(79, 79, 171, 171))
    assert Crop(box=(0, 0, 100, 50)).tighter(0.5) == Crop(box=(25, 12, 75, 38))
    assert Crop(center_fraction=0.85).tighter(0.8).center_fraction == pytest.approx(0.68)
    assert Crop(box=(1, 2, 3, 4)).tighter(1.0) == Crop(box=(1, 2, 3, 4))
    for bad in (0, -0.1, 1.5):
        with pytest.raises(ValueError, match="fraction must be in"):
            Crop().tighter(bad)
    with pytest.raises(ValueError, match="whole frame"):
        Crop(center_fraction=None).tighter(0.8)


def test_tighter_crops_keep_images_keys_labels_and_split(monkeypatch):
    """Each part's images are swapped, by key, for the same images decoded with the tighter
    crop; labels, keys, identities and checksum stay; a dataset decodes once."""
    from dmh.data import datasets as D
    from dmh.data.faceset import FaceSet

    keys = [f"p{i // 2}/{i}.jpg" for i in range(6)]
    calls = []

    def fake_load(name, *, size, channels, crop_fraction):
        calls.append((name, size, channels, crop_fraction))
        images = np.arange(6, dtype=np.uint8)[::-1, None, None, None] * np.ones((1, channels, size, size), np.uint8)
        return FaceSet(images, np.arange(6) // 2, ["a", "b", "c"], keys[::-1], "full", name)

    monkeypatch.setattr(D, "load_dataset", fake_load)
    part = lambda rows: FaceSet(np.zeros((len(rows), 3, 4, 4), np.uint8), np.array(rows) // 2,  # noqa: E731
                                ["a", "b", "c"], [keys[r] for r in rows], "sub", "lfw")
    train, query = D.with_tighter_crops(part([0, 1, 4]), part([5]))
    assert calls == [("lfw", 4, 3, D.TIGHT_FRACTION)]
    # the fake's image i is the one of key keys[i] (its array runs backwards, as its keys)
    assert train.images[:, 0, 0, 0].tolist() == [0, 1, 4] and query.images[:, 0, 0, 0].tolist() == [5]
    assert train.keys == [keys[0], keys[1], keys[4]] and train.checksum == "sub"
    assert train.labels.tolist() == [0, 0, 2]
    with pytest.raises(ValueError, match="tighter crop is defined for"):
        D.with_tighter_crops(FaceSet(np.zeros((1, 3, 4, 4), np.uint8), np.zeros(1, np.int64), ["a"],
                                     ["k"], "x", "my-folder"))
