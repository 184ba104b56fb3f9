"""Commands on faces: split, pack, encode, search."""
from __future__ import annotations

import time
from pathlib import Path


def cmd_split(a) -> None:
    from ..data import load_protocol

    t = time.perf_counter()
    parts, split = load_protocol(a.dataset, seed=a.seed)
    print(f"{a.dataset}: {split['n_identities']} identities, {split['n_images']} images; "
          + ", ".join(f"{k} {len(v)}" for k, v in parts.items())
          + f"; near-duplicate pairs {split['near_duplicate_pairs']}; split {split['split_checksum'][:16]}"
          f" data {split['data_checksum'][:16]} ({time.perf_counter() - t:.1f} s)")


def cmd_pack(a) -> None:
    from ..data import load_dataset, write_pack
    from ..data.dlib_faces import load_aligned
    from ..data.pack import pack_name

    for name in a.datasets:
        fs = load_aligned(name, min_images=a.min_images) if a.face_crop == "aligned" else \
            load_dataset(name, min_images=a.min_images)
        _, channels, size, _ = fs.images.shape
        stem = name if a.face_crop == "box" else f"{name}-{a.face_crop}"
        path = write_pack(fs, a.out / pack_name(stem, size, channels, a.min_images),
                          min_images=a.min_images)
        print(f"{name}: {len(fs)} images -> {path} ({path.stat().st_size / 2**20:.1f} MiB)")


def _faces(a, size: int):
    """The FaceSet of `a.images`: as cropped by its loader, or detected and aligned (--align)."""
    if not a.align:
        from ..data import load_dataset

        return load_dataset(a.images, size=size, strict=a.strict)
    if Path(a.images).suffix in (".pkl", ".pickle"):
        raise ValueError(f"--align takes lfw, pins or a folder of photos, not {a.images}: a DDH "
                         f"pickle holds face crops already")
    from ..data.faces import load_aligned_folder

    return load_aligned_folder(a.images, size, strict=a.strict)


def cmd_encode(a) -> None:
    import numpy as np

    from ..core.atomic import atomic_write
    from ..run.encode import encode
    from .runs import trained

    if Path(a.out).is_dir():
        raise ValueError(f"--out {a.out} is a folder: give a file name, e.g. {Path(a.out) / 'codes.npz'}")
    model, norm, cfg = trained(a.run, a.allow_partial)
    fs = _faces(a, cfg.image_size)
    t = time.perf_counter()
    enc = encode(model, fs.images, norm)
    arrays = dict(codes=enc.codes, labels=fs.labels, keys=np.array(fs.keys),
                  identities=np.array(fs.identities), n_bits=cfg.bits, run=cfg.name(),
                  aligned=a.align)
    if a.features:
        arrays["features"] = enc.features
    atomic_write(Path(a.out), lambda f: np.savez(f, **arrays), mode="wb")
    print(f"{len(fs)} images of {len(fs.identities)} identities -> {a.out} ({cfg.bits}-bit codes"
          f"{' and float features' if a.features else ''}; encoded in {time.perf_counter() - t:.1f} s)")


def _gallery(a, model, norm, cfg):
    """(codes, features or None, labels, identities, keys) of the gallery: saved codes
    (`--codes`, made by `dmh encode`) or the folder encoded now."""
    import numpy as np

    from ..run.encode import encode

    if a.codes:
        z = np.load(a.codes, allow_pickle=False)
        if str(z["run"]) != cfg.name():
            raise ValueError(f"{a.codes} holds codes of run {z['run']}, not {cfg.name()}: "
                             f"encode the gallery with this run (`dmh encode {a.run} ...`)")
        saved = bool(z["aligned"]) if "aligned" in z.files else False
        if saved != a.align:
            raise ValueError(f"{a.codes} holds codes of {'aligned faces' if saved else 'crops'}: "
                             f"search {'with' if saved else 'without'} --align, or encode again")
        feats = z["features"] if "features" in z.files else None
        return z["codes"], feats, z["labels"], list(z["identities"]), list(z["keys"])
    t = time.perf_counter()
    fs = _faces(a, cfg.image_size)
    enc = encode(model, fs.images, norm)
    print(f"encoded {len(fs)} gallery images in {time.perf_counter() - t:.1f} s (to reuse them: "
          f"`dmh encode {a.run} {a.images} --features --out codes.npz`, then --codes codes.npz)")
    return enc.codes, enc.features, fs.labels, fs.identities, fs.keys


def cmd_search(a) -> None:
    from ..data import DATASETS, Crop, decode_face
    from ..ranking import top_k
    from ..run.encode import encode
    from .runs import trained

    if a.index:
        from ..index.commands import cmd_search_index

        return cmd_search_index(a)
    if not (a.run and a.images and a.photo):
        raise ValueError("dmh search takes RUN FOLDER PHOTO, or --index IDX PHOTO")
    if not Path(a.photo).is_file() or Path(a.photo).stat().st_size == 0:
        raise ValueError(f"query photo {a.photo}: not a file, or empty; give an image file")
    model, norm, cfg = trained(a.run, a.allow_partial)
    # the query first (a photo without a face fails before the gallery is encoded); it
    # gets the gallery's crop: a named dataset's, else the whole image
    crop = DATASETS[a.images].crop if a.images in DATASETS else Crop()
    if a.align:  # the query's largest face, aligned like the gallery
        from ..data.faces import faces_from_photo

        (face, box), = faces_from_photo(a.photo, cfg.image_size, strict=True)[:1]
        print(f"query face: box {box} (left, top, right, bottom) in {a.photo}")
    else:
        try:
            face = decode_face(Path(a.photo).read_bytes(), crop, cfg.image_size)
        except ValueError as e:
            raise ValueError(f"query photo {a.photo}: {e}") from None
    gcodes, gfeats, labels, identities, keys = _gallery(a, model, norm, cfg)
    q = encode(model, face[None], norm)
    use_float = a.ties == "float" and gfeats is not None
    t = top_k(q.codes, gcodes, a.k, seed=a.seed, qfeature=q.features[0] if use_float else None,
              gfeatures=gfeats if use_float else None)
    print(f"ties at equal Hamming distance are ordered {t.ties}; {t.tied_at_cutoff} gallery items "
          f"are at the cut-off distance {int(t.distance[-1])}, {t.shown_at_cutoff} of them shown")
    for rank, (dist, idx) in enumerate(zip(t.distance, t.index), 1):
        print(f"{rank:3d}  d={int(dist):2d}  {identities[labels[idx]]:30s}  {keys[idx]}")
    if a.sheet:
        found = [(int(d), identities[labels[i]], keys[i]) for d, i in zip(t.distance, t.index)]
        box = box if a.align else None
        write_sheet(a, found, identities, _gallery_root(a.images), box)


def _gallery_root(images: str) -> Path:
    from ..core.paths import data_root
    from ..data import DATASETS

    return data_root() / DATASETS[images].subdir if images in DATASETS else Path(images)


def write_sheet(a, found: list[tuple[int, str, str]], identities: list[str], root: Path,
                box=None) -> None:
    """`--sheet`: the query photo (its face when aligned) and the hits' photos, the query's
    person marked when known (`--identity`, else the photo's folder when the gallery has
    that identity)."""
    from ..contact_sheet import Tile, contact_sheet
    from ..data import DATASETS
    from ..data.detect import open_photo

    def photo(path: Path):
        try:
            return open_photo(path.read_bytes())
        except (OSError, ValueError):
            return None

    folder = Path(a.photo).parent.name
    name_of = DATASETS[a.images].identity_name if a.images in DATASETS else (lambda d: d)
    person = a.identity or (name_of(folder) if name_of(folder) in set(identities) else None)
    q = photo(Path(a.photo))
    if q is not None and box is not None:
        left, top, right, bottom = box
        m = (right - left) // 2
        q = q[max(0, top - m):bottom + m, max(0, left - m):right + m]
    tiles = [Tile(q, "query" + (f"\n{person}" if person else ""))]
    for rank, (d, who, key) in enumerate(found, 1):
        mark = None if person is None else ("same person" if who == person else "someone else")
        tiles.append(Tile(photo(root / key), f"{rank}. d={d}\n{who}", mark))
    out = contact_sheet(tiles, Path(a.sheet))
    hits = sum(t.mark == "same person" for t in tiles)
    print(f"contact sheet -> {out}" + (f" ({hits} of {len(found)} are {person}, framed green)"
                                       if person else " (the query's person is unknown: "
                                       "--identity NAME marks matches)"))
