"""dlib's descriptor of the networks' own crops (`data/dlib_crops.py`) and the report that
reads it (`report/pixel_ceiling.py`)."""
import numpy as np
import pandas as pd
import pytest

import dmh.data.dlib_crops as DC
from dmh.experiments.anchor_specs import AnchorSpec, crop_anchor_specs
from dmh.experiments.profiles import get_profile
from dmh.report.pixel_ceiling import pixel_ceiling_frame, pixel_ceiling_lines

from conftest import real_data_or_skip


def test_crops_must_be_rgb_uint8():
    with pytest.raises(ValueError, match=r"\(N, 3, S, S\) uint8 RGB crops, got float32"):
        DC.crop_descriptors(np.zeros((2, 3, 32, 32), np.float32))
    with pytest.raises(ValueError, match="got uint8"):
        DC.crop_descriptors(np.zeros((2, 1, 32, 32), np.uint8))


def test_descriptors_are_cached_per_chunk_of_pixels(tmp_path, monkeypatch):
    """Each chunk is computed once, keyed by its pixels: a second pass computes nothing, a
    changed crop recomputes only its chunk, a damaged chunk file is computed again."""
    monkeypatch.setenv("DMH_CACHE", str(tmp_path))
    monkeypatch.setattr(DC, "CHUNK", 2)
    monkeypatch.setattr(DC, "load_models", lambda: None)
    seen = []

    def fake(chw):
        seen.append(int(chw[0, 0, 0]))
        return np.full(128, chw[0, 0, 0], np.float32)

    monkeypatch.setattr(DC, "describe_crop", fake)
    images = np.arange(5, dtype=np.uint8)[:, None, None, None] * np.ones((1, 3, 4, 4), np.uint8)
    first = DC.crop_descriptors(images, "t", report=lambda line: None)
    assert seen == [0, 1, 2, 3, 4] and first[:, 0].tolist() == [0, 1, 2, 3, 4]
    seen.clear()
    assert np.array_equal(DC.crop_descriptors(images, "t", report=lambda line: None), first) and seen == []
    images[3, 0, 0, 0] = 9
    assert DC.crop_descriptors(images, "t", report=lambda line: None)[3, 0] == 9 and seen == [2, 9]
    seen.clear()
    files = sorted((tmp_path / "dlib").glob("t-crop-*.npz"))
    assert len(files) == 4  # 3 chunks, and the stale one of the changed chunk
    for f in files:
        f.write_bytes(b"not an npz")
    said = []
    DC.crop_descriptors(images, "t", report=said.append)
    assert seen == [0, 1, 2, 9, 4] and sum("damaged or stale chunk" in s for s in said) == 3


def test_a_person_is_nearer_to_themself_in_32_pixels():
    """dlib on real 32x32 LFW crops: two photos of one person are nearer than photos of two
    people, by a clear margin (mean distances over 4 photos each of two people); the same
    crops upside down miss it."""
    pytest.importorskip("dlib", reason="face detection needs dlib-bin (requirements.txt)")
    real_data_or_skip("lfw")
    from dmh.data.datasets import load_dataset

    fs = load_dataset("lfw")
    people = [fs.identities.index(n) for n in ("George_W_Bush", "Colin_Powell")]
    rows = [np.flatnonzero(fs.labels == i)[:4] for i in people]
    d = [np.stack([DC.describe_crop(fs.images[j]) for j in r]) for r in rows]
    dist = lambda a, b: np.linalg.norm(a[:, None] - b[None], axis=-1)  # noqa: E731
    same = np.mean([dist(x, x)[np.triu_indices(4, 1)].mean() for x in d])
    assert same < dist(d[0], d[1]).mean() - 0.2  # measured 0.44 vs 0.81; upside down 0.49 vs 0.51


def test_crop_anchor_specs():
    p = get_profile("paper")
    specs = crop_anchor_specs("pins", p)
    assert [s.name() for s in specs] == ["dlib-float-pins-box-crop"] + [
        f"dlib-DMH-head-pins-48b-s{s}-box-crop" for s in (0, 1, 2)]
    assert crop_anchor_specs("pins", get_profile("plateau"))[0].name() == "dlib-float-pins-aligned-crop"
    assert AnchorSpec("float", "lfw", 0, 0).name() == "dlib-float-lfw"
    with pytest.raises(ValueError, match="crops on the closed protocol only"):
        AnchorSpec("float", "open-lfw", 0, 0, "box")
    with pytest.raises(ValueError, match="anchor pixels"):
        AnchorSpec("float", "lfw", 0, 0, "blurred")


def test_pixel_ceiling_lines_by_hand():
    """DMH's network is set against dlib's reading of its own crop only: the hash layer on
    it, else the float reading, else no ratio at all (never one across crops)."""
    box, aligned = "box crop, 32x32", "aligned crop, 32x32"
    hashed = "dlib + DMH hash layer"
    pins = [{"dataset": "Pins", "reads": "photos", "method": "dlib float", "mAP@all": 0.9},
            {"dataset": "Pins", "reads": box, "method": "dlib float", "mAP@all": 0.6},
            {"dataset": "Pins", "reads": box, "method": "DMH, 10 epochs", "mAP@all": 0.1},
            {"dataset": "Pins", "reads": aligned, "method": "DMH, 320 epochs", "mAP@all": 0.3}]
    lfw = [{"dataset": "LFW", "reads": "photos", "method": "dlib float", "mAP@all": 0.9},
           {"dataset": "LFW", "reads": box, "method": "dlib float", "mAP@all": 0.8},
           {"dataset": "LFW", "reads": box, "method": hashed, "bits": 48, "mAP@all": 0.64},
           {"dataset": "LFW", "reads": box, "method": "DMH, 40 epochs", "mAP@all": 0.48}]
    assert pixel_ceiling_lines(pd.DataFrame(pins + lfw)).split("\n") == [
        "Pins: dlib's embedding of the networks' 32x32 crops scores mAP@all 0.600 on the box crop "
        "(67% of its 0.900 on the photos). DMH's best landed network (DMH, 320 epochs, aligned crop) "
        "0.300, and dlib's reading of that crop has not landed yet: no ratio across crops.",
        "LFW: dlib's embedding of the networks' 32x32 crops scores mAP@all 0.800 on the box crop "
        "(89% of its 0.900 on the photos), a 48-bit hash layer on it trained with DMH's losses 0.640. "
        "DMH's best landed network (DMH, 40 epochs, box crop) 0.480, 75% of that hash layer on the "
        "same crop."]
    # the aligned crop's float reading lands: the ratio is to it; its hash layer lands: to that
    pins.append({"dataset": "Pins", "reads": aligned, "method": "dlib float", "mAP@all": 0.5})
    line = pixel_ceiling_lines(pd.DataFrame(pins))
    assert ("0.600 on the box crop (67% of its 0.900 on the photos); 0.500 on the aligned crop (56% "
            "of its 0.900 on the photos). DMH's best" in line)
    assert line.endswith("0.300, 60% of what dlib reads from the same pixels.")
    pins.append({"dataset": "Pins", "reads": aligned, "method": hashed, "bits": 48, "mAP@all": 0.4})
    assert pixel_ceiling_lines(pd.DataFrame(pins)).endswith(
        "a 48-bit hash layer on it trained with DMH's losses 0.400. DMH's best landed network "
        "(DMH, 320 epochs, aligned crop) 0.300, 75% of that hash layer on the same crop.")


def test_pixel_ceiling_frame_reads_the_committed_records():
    """The photo row is the anchor grid's record; the 1x DMH row is the main grid's 48-bit
    mean over its three seeds."""
    import json
    from pathlib import Path

    from dmh.report.reading import landed_records

    df = pixel_ceiling_frame("paper").set_index(["dataset", "method", "reads"])
    root = Path(__file__).resolve().parents[1] / "results" / "anchors"
    photo = json.loads((root / "dlib-float-lfw.json").read_text())["metrics"]["map_all"]
    assert df.loc[("LFW", "dlib float", "photos"), "mAP@all"] == pytest.approx(photo, abs=1e-12)
    main = [r.metrics["map_all"] for r in landed_records("main", "paper")
            if r.dataset == "lfw" and r.config.bits == 48]
    row = df.loc[("LFW", "DMH, 40 epochs", "box crop, 32x32")]
    assert row.seeds == 3 and row["mAP@all"] == pytest.approx(np.mean(main), abs=1e-12)
