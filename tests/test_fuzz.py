"""Fuzzing the two readers of untrusted bytes: the image decoder and the DDH-pickle loader.

Each property takes arbitrary bytes and mutations (bytes set, inserted, deleted, the tail cut)
of valid files, and allows exactly two outcomes: a well-formed result or the project's clear
error (`ImageError`; ValueError naming the file). Runs are derandomised, so a failure repeats.
"""
import io
import pickle
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from PIL import Image

from dmh.data.ddh_pickle import load_ddh_pickle
from dmh.data.safe_pickle import _ALLOWED, safe_loads
from dmh.data.faceset import FaceSet
from dmh.data.preprocess import Crop, ImageError, decode_face
from test_data import write_ddh_pickle

# Hypothesis caches under ./.hypothesis by default: keep the repo clean (no example database)
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "dmh-hypothesis")


def fuzz(n):
    return settings(max_examples=n, deadline=None, database=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _bytes(im, fmt, **kw):
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def _image_seeds():
    y, x = np.mgrid[0:10, 0:12]
    im = Image.fromarray(np.stack([x * 20, y * 25, x * y], -1).astype(np.uint8))
    exif = Image.Exif()
    exif[0x0112] = 6
    pal = im.convert("P", palette=Image.Palette.ADAPTIVE, colors=8)
    return [_bytes(im, "PNG"), _bytes(im, "JPEG", quality=80), _bytes(im, "JPEG", exif=exif),
            _bytes(pal, "GIF", transparency=0), _bytes(im, "GIF", save_all=True, append_images=[pal]),
            _bytes(Image.fromarray((x * 5000).astype(np.uint16)), "PNG"), _bytes(im, "BMP"),
            _bytes(im.convert("RGBA"), "WEBP", lossless=True), _bytes(im.convert("CMYK"), "TIFF")]


IMAGE_SEEDS = _image_seeds()


@st.composite
def mutated(draw, seeds):
    """A seed with 1-4 edits: a byte run overwritten or inserted, a range deleted, the tail cut."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["set", "set", "set", "insert", "delete", "cut"]))
        i = draw(st.integers(0, len(data)))
        run = draw(st.binary(min_size=1, max_size=4))
        if op == "set":
            data[i:i + len(run)] = run
        elif op == "insert":
            data[i:i] = run
        elif op == "delete":
            del data[i:i + len(run) * 4]
        else:
            del data[i:]
    return bytes(data)


def check_decode(data: bytes, channels: int) -> None:
    try:
        out = decode_face(data, Crop(center_fraction=0.8), size=8, channels=channels)
    except ImageError as e:
        assert e.kind in ("not an image", "corrupt image", "too large") and "\n" not in str(e)
        return
    assert out.dtype == np.uint8 and out.shape == (channels, 8, 8)


@fuzz(2000)
@given(st.binary(max_size=600), st.sampled_from([1, 3]))
@example(b"", 3)
@example(b"\x89PNG\r\n\x1a\n", 3)
def test_decoder_on_arbitrary_bytes(data, channels):
    check_decode(data, channels)


@fuzz(3000)
@given(mutated(IMAGE_SEEDS), st.sampled_from([1, 3]))
def test_decoder_on_mutated_images(data, channels):
    check_decode(data, channels)


def test_image_seeds_decode_and_the_check_can_fail():
    for data in IMAGE_SEEDS:
        check_decode(data, 3)
        assert decode_face(data, Crop(), 8).shape == (3, 8, 8)  # every seed is a valid image
    with pytest.raises(AssertionError):  # a result of the wrong shape is caught
        check_decode(IMAGE_SEEDS[0], 2)


# --- DDH pickles ---------------------------------------------------------------------------

SIZE = 2  # 3x2x2 images keep the pickles small enough to mutate well


class _Runs:
    """Pickles as a call of `fn(arg)`: what a crafted file uses to run code on load."""

    def __init__(self, fn, arg):
        self.fn, self.arg = fn, arg

    def __reduce__(self):
        return self.fn, (self.arg,)


def _pickle_seeds(tmp):
    import os

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(3, 3 * SIZE * SIZE), dtype=np.uint8)
    y = np.array([4, 1, 4], np.int32)
    write_ddh_pickle(tmp / "py2.pkl", x, y)
    seeds = [(tmp / "py2.pkl").read_bytes()]
    seeds += [pickle.dumps((x, y), protocol=p) for p in (2, 4)]
    seeds += [pickle.dumps((x / 255.0, list(y)), protocol=2)]
    # refused: protocol 5 writes arrays through numpy._core.numeric._frombuffer; code calls
    seeds += [pickle.dumps((x, y), protocol=5)]
    canary = tmp / "ran"
    seeds += [pickle.dumps((_Runs(os.system, f"touch {canary}"), y), protocol=p) for p in (0, 2)]
    seeds += [pickle.dumps((_Runs(eval, f"open({str(canary)!r}, 'w')"), y), protocol=2)]
    return seeds, canary


@pytest.fixture(scope="module")
def pickles(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pickles")
    seeds, canary = _pickle_seeds(tmp)
    return seeds, canary, tmp / "fuzzed.pkl"


# what a pickle may build when only array names resolve: data, and the admitted names themselves
_ADMITTED = {id(v) for v in _ALLOWED.values()}
_INERT = (np.ndarray, np.generic, np.dtype, list, tuple, dict, set, frozenset, str, bytes,
          bytearray, int, float, complex, bool, type(None))


def _inert(obj, depth=0) -> bool:
    if id(obj) in _ADMITTED:
        return True
    if not isinstance(obj, _INERT):
        return False
    if isinstance(obj, dict):
        children = [*obj.keys(), *obj.values()]
    elif isinstance(obj, (list, tuple, set, frozenset)):
        children = list(obj)
    elif isinstance(obj, np.ndarray) and obj.dtype == object:
        children = list(obj.ravel())
    else:
        children = []
    return depth > 50 or all(_inert(c, depth + 1) for c in children)


def check_pickle(blob: bytes, pickles) -> None:
    _, canary, path = pickles
    try:
        obj = safe_loads(blob)
    except Exception:
        pass  # load_ddh_pickle turns any failure into its ValueError, checked below
    else:
        assert _inert(obj), f"safe_loads built {type(obj)}"
    path.write_bytes(blob)
    try:
        fs = load_ddh_pickle(path, size=SIZE)
    except ValueError as e:
        assert str(path) in str(e)  # one line too, once test_pickle_errors_are_one_line passes
    else:
        assert isinstance(fs, FaceSet) and fs.images.dtype == np.uint8
        assert fs.images.shape[1:] == (3, SIZE, SIZE)
    assert not canary.exists(), "a pickle ran code"


@fuzz(2000)
@given(st.binary(max_size=400))
@example(b"\x80\x02cposix\nsystem\nX\x04\x00\x00\x00trueq\x00\x85R.")
def test_pickle_loader_on_arbitrary_bytes(pickles, blob):
    check_pickle(blob, pickles)


def test_pickle_loader_on_mutated_pickles(pickles):
    seeds = pickles[0]

    @fuzz(3000)
    @given(mutated(seeds))
    def run(blob):
        check_pickle(blob, pickles)

    run()


def test_pickle_seeds_load_and_the_check_can_fail(pickles):
    seeds, canary, path = pickles
    for blob in seeds[:4]:
        path.write_bytes(blob)
        assert len(load_ddh_pickle(path, size=SIZE)) == 3
    for blob in seeds[4:]:
        check_pickle(blob, pickles)  # refused, and nothing ran
    with pytest.raises(AssertionError, match="ran code"):
        canary.touch()
        check_pickle(seeds[0], pickles)
    canary.unlink()


def test_pickle_errors_are_one_line(pickles):
    path = pickles[2]
    path.write_bytes(b"P")  # found by the fuzzer: a persistent-id opcode with no id
    with pytest.raises(ValueError) as e:
        load_ddh_pickle(path, size=SIZE)
    assert "\n" not in str(e.value)
