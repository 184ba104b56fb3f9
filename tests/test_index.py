"""dmh.index: padding keeps Hamming distances, every backend ranks as the evaluation does
(dmh.retrieval, numpy), radius search is exact, Milvus agrees with faiss, the file format
refuses damage, and an index built from a run finds a photo as `dmh search` does."""
import argparse
import json
import zipfile

import numpy as np
import pytest

from dmh.index import add_faces, empty_index, index_backend, load_index, open_backend, save_index
from dmh.index.faiss_binary import fast_width, pad_codes
from dmh.index.format import content_sha256
from dmh.retrieval import hamming_distances, hamming_radius_search, hamming_topk, stable_argsort

faiss = pytest.importorskip("faiss")


def _bits(rng, n, n_bits, p):
    return (rng.random((n, n_bits)) < p).astype(np.uint8)


def _near(rng, gb, n, flip):
    """Queries: gallery rows with each bit flipped with probability `flip`."""
    src = gb[rng.integers(0, len(gb), n)]
    return src ^ (rng.random(src.shape) < flip).astype(np.uint8)


def test_padding_leaves_distances_unchanged():
    assert [fast_width(b) for b in (1, 2, 4, 5, 6, 8, 9, 17, 21, 33, 64, 65)] == \
        [4, 4, 4, 8, 8, 8, 16, 20, 32, 64, 64, 72]
    # hand case, 48 bits: q = ff 00 00 00 00 0f; distances counted by hand
    q = np.array([[0xFF, 0, 0, 0, 0, 0x0F]], np.uint8)
    g = np.array([[0xFF, 0, 0, 0, 0, 0x0F],    # 0
                  [0x00, 0, 0, 0, 0, 0x00],    # 8 + 4 = 12
                  [0xFF, 0xFF, 0, 0, 0, 0xF0],  # 8 + 8 = 16
                  [0x7F, 0, 0, 0, 1, 0x0F]], np.uint8)  # 1 + 1 = 2
    (index := faiss.IndexBinaryFlat(64)).add(pad_codes(g, 8))
    d, i = index.search(pad_codes(q, 8), 4)
    assert pad_codes(g, 8).shape == (4, 8) and not pad_codes(g, 8)[:, 6:].any()
    assert d.tolist() == [[0, 2, 12, 16]] and i.tolist() == [[0, 3, 1, 2]]
    # random 48-bit codes: faiss on 8-byte padded codes = numpy on 6-byte codes = brute force
    rng = np.random.default_rng(0)
    qb, gb = _bits(rng, 30, 48, 0.3), _bits(rng, 200, 48, 0.3)
    qp, gp = np.packbits(qb, axis=1), np.packbits(gb, axis=1)
    (index := faiss.IndexBinaryFlat(64)).add(pad_codes(gp, 8))
    d, i = index.search(pad_codes(qp, 8), 200)
    full = np.zeros((30, 200), np.int64)
    np.put_along_axis(full, i, d, axis=1)
    np.testing.assert_array_equal(full, hamming_distances(qp, gp))
    np.testing.assert_array_equal(full, (qb[:, None] != gb[None]).sum(-1))  # from the bits


@pytest.mark.parametrize("kind", ["flat", "hash", "multihash", "scan", "mih"])
def test_topk_equals_the_evaluation_ranking(kind):
    """Exact top-k (hash indexes made exhaustive by visiting every bucket) on codes with big
    tie groups, added in two parts: equal to hamming_topk and to stable_argsort."""
    rng = np.random.default_rng(1)
    g = np.packbits(_bits(rng, 700, 12, 0.2), axis=1)
    q = np.packbits(_bits(rng, 40, 12, 0.2), axis=1)
    opts = {"flat": {}, "hash": {"b": 8, "nflip": 8}, "multihash": {"nhash": 2, "b": 6, "nflip": 6},
            "scan": {}, "mih": {"tables": 2}}
    (backend := open_backend(kind, 12, **opts[kind])).add(g[:300])
    backend.add(g[300:])  # a second add continues the ids
    assert backend.count() == 700
    for k in (1, 5, 50, 700):
        d, i = backend.search(q, k)
        np.testing.assert_array_equal(np.stack([d, i]), np.stack(hamming_topk(q, g, k)))
        np.testing.assert_array_equal(i, stable_argsort(hamming_distances(q, g))[:, :k])


def test_ties_hand_case_and_the_wide_tie_group():
    # q = 0000: distances 2, 1, 0, 1, 4 -> ids 2, 1, 3 (the tie at 1 in gallery order)
    q = np.packbits(np.zeros((1, 4), np.uint8), axis=1)
    g = np.packbits(np.array([[1, 1, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0], [1, 0, 0, 0],
                              [1, 1, 1, 1]], np.uint8), axis=1)
    (backend := open_backend("flat", 4)).add(g)
    d, i = backend.search(q, 3)
    assert d.tolist() == [[0, 1, 1]] and i.tolist() == [[2, 1, 3]]
    # 60 faces tied at distance 1 after 5 far ones: wider than the 2k + 16 asked of faiss,
    # so the tie group comes from the radius search: ids 5, 6, 7 in gallery order
    far, near = np.full((5, 1), 255, np.uint8), np.packbits(np.eye(8, dtype=np.uint8)[np.arange(60) % 8], axis=1)
    (backend := open_backend("flat", 8)).add(np.concatenate([far, near]))
    d, i = backend.search(np.zeros((1, 1), np.uint8), 3)
    assert d.tolist() == [[1, 1, 1]] and i.tolist() == [[5, 6, 7]]


def test_stable_topk_whatever_ties_the_library_keeps():
    """A library that keeps a random subset of each tie group, in random order: the
    re-ranking still returns the evaluation's top k (wide ask, then the radius fallback)."""
    from dmh.index.ties import stable_topk

    rng = np.random.default_rng(6)
    g = np.packbits(_bits(rng, 400, 8, 0.5), axis=1)  # ~100 faces per distance value
    q = np.packbits(_bits(rng, 30, 8, 0.5), axis=1)
    dist = hamming_distances(q, g)

    def knn(queries, m):
        order = np.lexsort((rng.random(dist.shape), dist), axis=-1)[:, :m]
        return np.take_along_axis(dist, order, 1), order

    def within(queries, r):
        rows = [int(np.flatnonzero((q == x).all(1))[0]) for x in queries]
        return [(dist[i][dist[i] <= r], np.flatnonzero(dist[i] <= r)) for i in rows]

    for k in (1, 7, 60, 400):
        got = stable_topk(knn, within, q, k, 400)
        np.testing.assert_array_equal(np.stack(got), np.stack(hamming_topk(q, g, k)))


@pytest.mark.parametrize("kind", ["flat", "hash", "multihash", "scan", "mih"])
def test_radius_search_is_exact_and_ordered(kind):
    rng = np.random.default_rng(2)
    gb = _bits(rng, 3000, 48, 0.4)
    g, q = np.packbits(gb, axis=1), np.packbits(_near(rng, gb, 40, 0.08), axis=1)
    opts = {"hash": {"nflip": 0}, "multihash": {"nflip": 0}}.get(kind, {})
    (backend := open_backend(kind, 48, **opts)).add(g)
    dist = hamming_distances(q, g)
    for r in (0, 3, 7):
        found = backend.search_radius(q, r)
        assert sum(len(p) for _, p in found) > 0
        for row, ((d, p), inside) in enumerate(zip(found, hamming_radius_search(q, g, r))):
            np.testing.assert_array_equal(np.sort(p), inside)
            order = stable_argsort(dist[row:row + 1])[0]
            np.testing.assert_array_equal(p, order[:len(p)])
            np.testing.assert_array_equal(d, dist[row, p])


def test_hash_topk_is_approximate_but_true():
    """A narrow probe misses neighbours; what it returns are real faces at their true
    distances, never better than the exact top k, ordered by (distance, id)."""
    rng = np.random.default_rng(3)
    gb = _bits(rng, 5000, 48, 0.5)
    g, q = np.packbits(gb, axis=1), np.packbits(_near(rng, gb, 50, 0.15), axis=1)
    (backend := open_backend("multihash", 48, nhash=3, b=16, nflip=0)).add(g)
    (d, i), ok = backend.search(q, 10), backend.search(q, 10)[1] >= 0
    true = np.take_along_axis(hamming_distances(q, g), np.where(ok, i, 0), 1)
    assert (d[ok] == true[ok]).all() and (d[ok] >= hamming_topk(q, g, 10)[0][ok]).all()
    assert (d != hamming_topk(q, g, 10)[0]).any() and (np.diff(d, axis=1) >= 0).all()


def test_milvus_topk_and_radius_equal_faiss(tmp_path):
    pytest.importorskip("pymilvus")
    pytest.importorskip("milvus_lite")
    rng = np.random.default_rng(4)
    gb = _bits(rng, 4000, 48, 0.35)
    g, q = np.packbits(gb, axis=1), np.packbits(_near(rng, gb, 30, 0.1), axis=1)
    milvus, flat = open_backend("milvus", 48, uri=str(tmp_path / "f.db"), collection="t"), \
        open_backend("flat", 48)
    try:
        milvus.add(g[:1500])
        milvus.add(g[1500:])
        flat.add(g)
        assert milvus.count() == flat.count() == 4000
        for k in (1, 10, 100):
            np.testing.assert_array_equal(np.stack(milvus.search(q, k)), np.stack(flat.search(q, k)))
            np.testing.assert_array_equal(milvus.search(q, k)[1], hamming_topk(q, g, k)[1])
        for m, f in zip(milvus.search_radius(q, 6), flat.search_radius(q, 6)):
            np.testing.assert_array_equal(np.stack(m), np.stack(f))
    finally:
        milvus.close()


def _index(n=6, n_bits=12):
    rng = np.random.default_rng(5)
    codes = np.packbits(_bits(rng, n, n_bits, 0.5), axis=1)
    index = empty_index(n_bits, "run-a", "abc123", "dmh-x-12b")
    return add_faces(index, codes, [f"id{j % 2}/img {j}.png" for j in range(n)],
                     np.arange(n) % 2, ["Ann Lee", "Bö"], dict(images="f", name="f",
                                                               checksum="c1", order="seed 0"))


def test_add_faces_merges_identities_and_continues_ids():
    index = _index()
    more = add_faces(index, index.codes[:2], ["x/1.png", "y/2.png"], np.array([1, 0]),
                     ["New", "Bö"], dict(images="g", name="g", checksum="c2", order="folder"))
    assert len(more) == 8 and more.identities == ["Ann Lee", "Bö", "New"]
    assert more.labels[6:].tolist() == [1, 2] and more.sources[1]["first_id"] == 6
    d, i = index_backend(more).search(index.codes[:1], 2)
    assert i.tolist() == [[0, 6]] and d.tolist() == [[0, 0]]  # the copy ranks after the original
    with pytest.raises(ValueError, match="already holds f"):
        add_faces(more, index.codes[:1], ["z"], np.array([0]), ["Z"],
                  dict(images="f again", name="f", checksum="c1", order="folder"))


def test_save_load_round_trip(tmp_path):
    index = _index()
    save_index(index, tmp_path / "i.npz")
    back = load_index(tmp_path / "i.npz")
    np.testing.assert_array_equal(np.c_[back.codes, back.labels], np.c_[index.codes, index.labels])
    assert (back.keys, back.identities, back.sources, back.run, back.n_bits) == \
        (index.keys, index.identities, index.sources, index.run, index.n_bits)
    with np.load(tmp_path / "i.npz", allow_pickle=False) as z:
        header = json.loads(z["header"].tobytes())
        assert header["sha256"] == content_sha256(header, {k: z[k] for k in z.files})
        assert z["ids"].tolist() == list(range(6))


def _rewrite(path, **changes):
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files} | changes
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def test_damage_is_a_one_line_error_naming_file_and_fix(tmp_path):
    path = tmp_path / "i.npz"
    fix = f"rebuild it with `dmh index build RUN FOLDER --out {path}`"
    save_index(_index(), path)
    with np.load(path, allow_pickle=False) as z:
        codes, header = z["codes"].copy(), json.loads(z["header"].tobytes())
    codes[2, 0] ^= 1  # one bit of one code
    _rewrite(path, codes=codes)
    with pytest.raises(ValueError, match="checksum mismatch") as e:
        load_index(path)
    assert str(e.value).startswith(f"{path}: ") and str(e.value).endswith(fix) and "\n" not in str(e.value)
    header["version"] = 2
    _rewrite(path, header=np.frombuffer(json.dumps(header).encode(), np.uint8))
    with pytest.raises(ValueError, match="version 2, this dmh reads version 1"):
        load_index(path)
    _rewrite(path, ids=np.array([object()] * 6, dtype=object))  # a pickled member
    with pytest.raises(ValueError, match="not a readable dmh index"):
        load_index(path)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match=f"{path}: not a readable dmh index"):
        load_index(path)
    zipfile.ZipFile(path, "w").close()  # an empty zip: no members at all
    with pytest.raises(ValueError, match="not a dmh index \\(no header"):
        load_index(path)
    with pytest.raises(FileNotFoundError, match="dmh index build"):
        load_index(tmp_path / "none.npz")


@pytest.fixture
def tiny_run(easy_pickle, tmp_path):
    from conftest import TINY

    from dmh.core.config import TrainConfig
    from dmh.experiments.jobs import train_run
    from dmh.run.store import Store, checkpoint_path

    cfg = TrainConfig(dataset=easy_pickle, bits=12, epochs=1, batch_size=32, model_kwargs=TINY, threads=1)
    train_run(cfg, Store(tmp_path / "store"), progress=False, save=False)
    return str(checkpoint_path(cfg))


def _cli(argv):
    from dmh.index.commands import add_commands

    p = argparse.ArgumentParser(prog="dmh")
    add_commands(p.add_subparsers(dest="command", required=True))
    (a := p.parse_args(argv)).func(a)


def test_build_add_search_from_a_run(tiny_run, tmp_path, capsys, one_torch_thread):
    from test_data import make_folder

    from dmh.data import Crop, decode_face, load_dataset
    from dmh.index.commands import cmd_search_index, search_index
    from dmh.ranking import top_k
    from dmh.run.checkpoint import load_trained
    from dmh.run.encode import encode

    folder = make_folder(tmp_path / "faces", {"Ann Lee": [10, 20, 30, 40], "Bo": [200, 210, 220]})
    idx, photo = tmp_path / "faces.npz", folder / "Bo" / "img 1.png"
    _cli(["index", "build", tiny_run, str(folder), "--out", str(idx)])
    assert "7 faces of 2 identities" in capsys.readouterr().out
    found = search_index(idx, photo, 5)
    assert found.keys[0] == "Bo/img 1.png" and found.top.distance[0] == 0
    # the same ranking as `dmh search RUN FOLDER PHOTO` (dmh.ranking.top_k, seed 0)
    model, norm, cfg = load_trained(tiny_run)
    fs = load_dataset(str(folder), size=cfg.image_size)
    qcode = encode(model, decode_face(photo.read_bytes(), Crop(), cfg.image_size)[None], norm).codes
    t = top_k(qcode, encode(model, fs.images, norm).codes, 5, seed=0)
    assert found.keys == [fs.keys[i] for i in t.index]
    assert (found.top.tied_at_cutoff, found.top.shown_at_cutoff) == (t.tied_at_cutoff, t.shown_at_cutoff)
    more = make_folder(tmp_path / "more", {"Cy": [90, 100]})
    _cli(["index", "add", str(idx), str(more)])
    assert "added 2 faces" in capsys.readouterr().out
    assert load_index(idx).identities == ["Ann Lee", "Bo", "Cy"] and len(load_index(idx)) == 9
    with pytest.raises(ValueError, match="already holds"):
        _cli(["index", "add", str(idx), str(more)])
    cmd_search_index(argparse.Namespace(index=str(idx), run=str(photo), images=None, photo=None, k=3))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("ties at equal Hamming distance are ordered by face id")
    assert len(lines) == 4 and "Bo/img 1.png" in lines[1] and "d= 0" in lines[1]
    with pytest.raises(ValueError, match="takes the photo only"):
        cmd_search_index(argparse.Namespace(index=str(idx), run="r", images="f", photo=None, k=3))
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("not an image")
    for bad, why in (("none.jpg", "not a file"), ("empty.jpg", "not a file, or empty"),
                     ("text.jpg", "text.jpg: not an image")):
        with pytest.raises(ValueError, match=f"query photo .*{why}"):
            search_index(idx, tmp_path / bad, 3)
    with pytest.raises(ValueError, match="is a folder: give a file name"):
        _cli(["index", "build", tiny_run, str(folder), "--out", str(tmp_path)])
    # an index whose run now loads as another config, or other weights: named, with the fix
    index = load_index(idx)
    for field, why in (("config_key", "is now run"), ("weights_sha256", "weights .* changed")):
        save_index(type(index)(**{**index.__dict__, field: "0" * 10}), idx)
        with pytest.raises(ValueError, match=f"{why}.*rebuild the index with `dmh index build"):
            search_index(idx, photo, 3)
