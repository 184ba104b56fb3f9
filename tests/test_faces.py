"""Face detection and alignment (dmh.data.detect, dmh.data.align, dmh.data.faces).

Real faces come from 2-3 LFW / Pins photos read from DMH_DATA at test time (skipped when
absent); the odd cases (no face, several faces, a tiny face, gray, EXIF-rotated) are made
from them or drawn. Photos are kept small: the no-face fallback costs ~1 s on a 250x250."""
import io
import re

import numpy as np
import pytest
from PIL import Image

from conftest import real_data_or_skip

dlib = pytest.importorskip("dlib", reason="face detection needs dlib-bin (requirements.txt)")

from dmh.data.align import DLIB_5POINT, TEMPLATE, align_face, similarity  # noqa: E402
from dmh.data.detect import MIN_FACE, FaceError, find_faces, model_file, open_photo  # noqa: E402
from dmh.data.faces import (AlignedCrop, aligned_faces, faces_from_photo,  # noqa: E402
                            load_aligned_folder)


def lfw(name: str) -> Image.Image:
    return Image.open(real_data_or_skip("lfw") / name / f"{name}_0001.jpg")


def pins_photo() -> Image.Image:
    root = real_data_or_skip("pins")
    return Image.open(sorted(sorted(root.glob("pins_*"))[0].glob("*.jpg"))[0])


def save(im: Image.Image, path, **kw):
    im.save(path, **kw)
    return path


def jpeg_bytes(im: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=95, **kw)
    return buf.getvalue()


def test_similarity_is_the_least_squares_fit():
    rng = np.random.default_rng(0)
    src = rng.uniform(0, 100, (5, 2))
    a, b, t = 1.7 * np.cos(0.3), 1.7 * np.sin(0.3), np.array([4.0, -9.0])
    dst = src @ np.array([[a, -b], [b, a]]).T + t
    assert np.allclose(similarity(src, dst), [[a, -b, t[0]], [b, a, t[1]]])
    # noisy points: the residual is orthogonal to every parameter's direction (normal equations)
    noisy = dst + rng.normal(0, 2, dst.shape)
    m = similarity(src, noisy)
    r = (src @ m[:, :2].T + m[:, 2] - noisy).reshape(-1)
    rows = np.zeros((10, 4))
    rows[0::2] = np.c_[src[:, 0], -src[:, 1], np.ones(5), np.zeros(5)]
    rows[1::2] = np.c_[src[:, 1], src[:, 0], np.zeros(5), np.ones(5)]
    assert np.allclose(rows.T @ r, 0, atol=1e-8)
    # a mirrored point set is not reached by a reflection: no similarity has det < 0
    assert np.linalg.det(similarity(src, src * [-1, 1])[:, :2]) >= 0


def test_align_is_an_exact_crop_when_the_face_sits_on_the_template():
    rng = np.random.default_rng(1)
    photo = rng.integers(0, 256, (80, 90, 3), dtype=np.uint8)
    size, dx, dy = 32, 17, 9
    landmarks = TEMPLATE * size + [dx, dy] - 0.5  # dlib's convention: pixel centres at integers
    out = align_face(photo, landmarks, size)
    assert out.shape == (3, size, size) and out.dtype == np.uint8
    want = photo[dy:dy + size, dx:dx + size].transpose(2, 0, 1).astype(int)
    assert np.abs(out - want).max() <= 1  # Pillow's 8-bit bilinear rounds at exact centres


def test_a_real_face_matches_dlib_get_face_chip_and_the_training_crop():
    from dmh.data import DATASETS, decode_face

    im = lfw("AJ_Cook")
    assert im.mode == "L"  # this copy of LFW is grayscale: the gray path on a real photo
    rgb = open_photo(jpeg_bytes(im))
    (face,) = find_faces(rgb)
    shape = dlib.shape_predictor(str(model_file("shape_predictor_5_face_landmarks.dat")))(
        rgb, dlib.rectangle(*face.box))
    assert np.allclose([(p.x, p.y) for p in shape.parts()], face.landmarks)
    for size, pad in [(150, 0.2), (100, 0.25)]:  # near the face's own scale: both bilinear
        chip = dlib.get_face_chip(rgb, shape, size, pad).astype(int)
        ours = align_face(rgb, face.landmarks, size, (pad + DLIB_5POINT) / (1 + 2 * pad))
        assert np.abs(chip - ours.transpose(1, 2, 0)).mean() < 1.5
    # the template frames an LFW face like the training crop (box (68, 68, 182, 182))
    ours = aligned_faces(jpeg_bytes(im), 32)[0][0].astype(float)
    crop = decode_face(jpeg_bytes(im), DATASETS["lfw"].crop, 32).astype(float)
    assert np.corrcoef(ours.ravel(), crop.ravel())[0, 1] > 0.9


def test_faces_from_photo_gray_and_colour(tmp_path):
    (arr, box), = faces_from_photo(save(lfw("Aaron_Eckhart"), tmp_path / "a.jpg"), 32)
    assert arr.shape == (3, 32, 32) and arr.dtype == np.uint8
    assert (arr[0] == arr[1]).all() and (arr[1] == arr[2]).all()  # a gray photo: 3 equal channels
    left, top, right, bottom = box
    assert 30 < left < right < 220 and 30 < top < bottom < 220 and right - left > 80
    colour = pins_photo().convert("RGB")
    (c, _), = faces_from_photo(save(colour, tmp_path / "c.png"), 48)
    assert c.shape == (3, 48, 48) and np.abs(c[0].astype(int) - c[2]).mean() > 3
    (g, _), = faces_from_photo(save(colour.convert("L"), tmp_path / "g.png"), 48)
    assert (g[0] == g[2]).all()
    luma = np.asarray(Image.fromarray(c.transpose(1, 2, 0)).convert("L"))
    assert np.abs(g[0].astype(int) - luma).mean() < 4


def test_a_photo_without_a_face_is_skipped_by_path_or_refused_with_strict(tmp_path):
    rng = np.random.default_rng(2)
    noise = Image.fromarray(rng.integers(0, 256, (120, 120), dtype=np.uint8))
    path = save(noise, tmp_path / "wall.png")
    lines = []
    assert faces_from_photo(path, 32, report=lines.append) == []
    assert lines == [f"{path}: no face: none found (it finds frontal faces of ~40 pixels and up, "
                     f"~10-20 in photos up to 500x500, more over 1 megapixel); skipped"]
    with pytest.raises(ValueError) as e:
        faces_from_photo(path, 32, strict=True)
    assert str(e.value) == lines[0].removesuffix("; skipped") and "\n" not in str(e.value)
    (tmp_path / "notes.jpg").write_text("not a photo")
    assert faces_from_photo(tmp_path / "notes.jpg", 32, report=lines.append) == []
    assert lines[-1].startswith(f"{tmp_path / 'notes.jpg'}: not an image")
    assert faces_from_photo(tmp_path / "missing.jpg", 32, report=lines.append) == []
    assert lines[-1] == f"{tmp_path / 'missing.jpg'}: unreadable: not a file; skipped"


def test_several_faces_largest_by_default_every_with_the_option(tmp_path):
    big, small = lfw("AJ_Cook").convert("RGB"), lfw("Aaron_Eckhart").convert("RGB")
    group = Image.new("RGB", (420, 260), (128, 128, 128))
    group.paste(small.resize((160, 160), Image.Resampling.BOX), (255, 50))
    group.paste(big, (0, 0))
    path = save(group, tmp_path / "group.png")
    (one, box), = faces_from_photo(path, 32)
    assert box[2] < 250  # the big face, on the left
    every = faces_from_photo(path, 32, every=True)
    assert [b for _, b in every][0] == box and len(every) == 2 and every[1][1][0] > 250
    assert np.array_equal(every[0][0], one)


def test_a_face_under_20_pixels_is_refused_with_its_size(tmp_path):
    tiny = Image.new("RGB", (120, 120), (128, 128, 128))
    tiny.paste(lfw("AJ_Cook").convert("RGB").resize((34, 34), Image.Resampling.BOX), (30, 30))
    path = save(tiny, tmp_path / "far.png")
    faces = find_faces(np.asarray(tiny))  # found by the fallback (upsampled 8x)
    assert len(faces) == 1 and faces[0].side < MIN_FACE
    lines = []
    assert faces_from_photo(path, 32, report=lines.append) == []
    assert faces_from_photo(path, 32, every=True, report=lines.append) == []
    assert re.fullmatch(rf"{re.escape(str(path))}: face too small: \d+x\d+ pixels \(the largest "
                        rf"found\), under the 20-pixel minimum; skipped", lines[0])
    with pytest.raises(ValueError, match="face too small"):
        faces_from_photo(path, 32, strict=True)


def test_a_large_photo_is_scanned_downscaled_and_aligned_at_full_size(tmp_path):
    face = lfw("AJ_Cook").convert("RGB").resize((600, 600), Image.Resampling.BICUBIC)
    big = Image.new("RGB", (2600, 2000), (128, 128, 128))
    big.paste(face, (1500, 900))
    (box, _), = [(f.box, f) for f in find_faces(np.asarray(big))]
    assert 1500 + 140 < box[0] < box[2] < 1500 + 460 and 900 + 160 < box[1] < box[3] < 900 + 480
    (arr, _), = faces_from_photo(save(big, tmp_path / "big.png"), 32)
    (ref, _), = faces_from_photo(save(face, tmp_path / "face.png"), 32)
    assert np.abs(arr.astype(int) - ref).mean() < 8


def test_an_exif_rotated_photo_is_turned_upright_first(tmp_path):
    upright = lfw("AJ_Cook").convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation 6: display rotated 90 degrees clockwise
    sideways = upright.transpose(Image.Transpose.ROTATE_90)
    path = tmp_path / "phone.jpg"
    path.write_bytes(jpeg_bytes(sideways, exif=exif.tobytes()))
    assert find_faces(np.asarray(sideways)) == []  # the frontal detector needs it upright
    (arr, box), = faces_from_photo(path, 32)
    (ref, ref_box), = faces_from_photo(save(upright, tmp_path / "up.jpg", quality=95), 32)
    assert np.abs(np.subtract(box, ref_box)).max() <= 8
    assert np.abs(arr.astype(int) - ref).mean() < 8


def test_load_aligned_folder_lists_skips_and_caches(tmp_path, monkeypatch):
    monkeypatch.setenv("DMH_CACHE", str(tmp_path / "cache"))
    root = tmp_path / "faces"
    for name in ("AJ_Cook", "Aaron_Eckhart"):
        (root / name).mkdir(parents=True)
        save(lfw(name), root / name / "1.jpg")
    save(Image.new("L", (64, 64), 90), root / "AJ_Cook" / "wall.png")
    (root / "Aaron_Eckhart" / "broken.jpg").write_bytes(b"\xff\xd8 not really")
    lines = []
    fs = load_aligned_folder(root, 32, report=lines.append)
    assert fs.images.shape == (2, 3, 32, 32) and fs.identities == ["AJ_Cook", "Aaron_Eckhart"]
    assert fs.keys == ["AJ_Cook/1.jpg", "Aaron_Eckhart/1.jpg"] and list(fs.labels) == [0, 1]
    assert [(s.path.rsplit("/", 1)[1], s.kind) for s in fs.skipped] == [
        ("wall.png", "no face"), ("broken.jpg", "not an image")]
    assert lines[0] == "2 images, 2 skipped: 1 no face, 1 not an image"
    cached = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert len(cached) == 3 and cached[0].startswith("faces-aligned-32px-3c-")
    # a second load reads the cache: no detection at all
    monkeypatch.setattr(AlignedCrop, "apply", lambda self, im: pytest.fail("detected again"))
    again = load_aligned_folder(root, 32, report=None)
    assert np.array_equal(again.images, fs.images) and again.skipped == fs.skipped
    assert again.checksum == fs.checksum
    with pytest.raises(ValueError, match=r"wall\.png: no face: none found"):
        load_aligned_folder(root, 32, strict=True)


def test_the_folder_cache_key_holds_the_settings():
    key = repr(AlignedCrop(32))
    assert "template=" in key and "min_face=20" in key and f"dlib={dlib.__version__}" in key
    assert repr(AlignedCrop(32)) != repr(AlignedCrop(16))


def test_missing_models_name_the_install_command():
    with pytest.raises(ImportError, match="reinstall face_recognition_models"):
        model_file("no_such_model.dat")
    assert issubclass(FaceError, ValueError)
