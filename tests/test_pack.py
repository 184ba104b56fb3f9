"""Packs stand in for the raw images on a machine without them, and refuse a corrupt copy."""
import numpy as np
import pytest

from dmh.data import apply_split, load_dataset, make_closed_split, read_pack, write_pack
from dmh.data.pack import pack_name
from test_data import make_folder


@pytest.fixture
def fake_lfw(tmp_path, monkeypatch):
    monkeypatch.setenv("DMH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("DMH_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("DMH_PACKS", raising=False)
    make_folder(tmp_path / "data" / "lfw" / "lfw",
                {f"person {i}": [10 * i + j for j in range(8)] for i in range(1, 4)})
    return tmp_path


def test_pack_replaces_the_raw_images(fake_lfw, monkeypatch):
    original = load_dataset("lfw", min_images=8)
    split = make_closed_split(original, seed=0, min_images=8)
    packs = fake_lfw / "packs"
    write_pack(original, packs / pack_name("lfw", 32, 3, 8), min_images=8)
    monkeypatch.setenv("DMH_PACKS", str(packs))
    monkeypatch.setenv("DMH_DATA", str(fake_lfw / "no-images-here"))
    fs = load_dataset("lfw", min_images=8)
    np.testing.assert_array_equal(fs.images, original.images)
    np.testing.assert_array_equal(fs.labels, original.labels)
    assert (fs.keys, fs.identities, fs.checksum) == (original.keys, original.identities,
                                                     original.checksum)
    parts = apply_split(fs, split)  # the split made from the originals applies unchanged
    assert len(parts["query"]) == 15
    with pytest.raises(FileNotFoundError, match="data/README.md"):
        load_dataset("lfw", min_images=2)  # no pack for these settings: back to the images


def test_corrupt_pack_names_file_and_fix(fake_lfw):
    fs = load_dataset("lfw", min_images=8)
    path = write_pack(fs, fake_lfw / "p.npz", min_images=8)
    fs.images[0, 0, 0, 0] ^= 1
    np.savez_compressed(path, images=fs.images, labels=fs.labels,
                        meta=np.load(path)["meta"])
    with pytest.raises(ValueError, match=r"p\.npz.*sha256.*dmh pack"):
        read_pack(path)
    path.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=r"p\.npz.*not a readable dmh pack"):
        read_pack(path)


def test_aligned_pack_stands_in_for_the_images_and_dlib(fake_lfw, monkeypatch):
    from argparse import Namespace
    from dataclasses import replace

    import dmh.data.dlib_faces as dlib_faces
    from dmh.cli.faces import cmd_pack

    # dlib's alignment stood in by an image negative (the pack must carry what it made)
    monkeypatch.setattr(dlib_faces, "with_aligned_faces",
                        lambda *parts: tuple(replace(p, images=255 - p.images) for p in parts))
    box = load_dataset("lfw", min_images=8)
    aligned = dlib_faces.load_aligned("lfw", min_images=8)
    np.testing.assert_array_equal(aligned.images, 255 - box.images)
    packs = fake_lfw / "packs"
    cmd_pack(Namespace(datasets=["lfw"], out=packs, min_images=8, face_crop="aligned"))
    assert [p.name for p in packs.iterdir()] == [pack_name("lfw-aligned", 32, 3, 8)]
    # a machine with the aligned pack alone: no raw images, no dlib, no box pack
    monkeypatch.setenv("DMH_PACKS", str(packs))
    monkeypatch.setenv("DMH_DATA", str(fake_lfw / "no-images-here"))
    monkeypatch.setattr(dlib_faces, "with_aligned_faces", lambda *p: pytest.fail("ran dlib"))
    fs = dlib_faces.load_aligned("lfw", min_images=8)
    np.testing.assert_array_equal(fs.images, aligned.images)
    assert (fs.keys, fs.checksum) == (box.keys, box.checksum)  # the same split applies
    with pytest.raises(FileNotFoundError, match="data/README.md"):
        load_dataset("lfw", min_images=8)  # the box crop is not in that pack
    from dmh.data.splits import load_protocol
    with pytest.raises(ValueError, match="face_crop 'aligned' is defined for"):
        load_protocol(str(fake_lfw / "x.pkl"), face_crop="aligned")
