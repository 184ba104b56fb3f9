"""Load an identity-folder dataset: `root/<identity>/<image>` (LFW, Pins, a user's faces).

An image is a file whose suffix belongs to a format Pillow reads (`preprocess.image_suffixes`)
and whose bytes decode. Every other file under an identity folder is skipped and listed with
its reason (`Skipped`): not an image, corrupt image, too large (`MAX_PIXELS`, `MAX_FILE_BYTES`),
broken link, symlink loop, unreadable, not a regular file (a pipe), in a sub-folder of an
identity folder, name not UTF-8; so is an image lying directly in `root` (other files there,
such as a MANIFEST, belong to the dataset and are ignored). The loader prints one summary line
to stderr; `strict=True` instead fails on the first such file, naming it.

Decoded arrays are cached outside the repo, keyed by a sha256 over every file's bytes and
the preprocessing, so a second load only reads and hashes the files. Files that fail to
decode are remembered beside the cached array (`*.skipped.json`).
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import numpy as np

from ..core.atomic import atomic_write
from ..core.paths import cache_root
from .faceset import FaceSet, Skipped, shown, skip_summary
from .preprocess import MAX_PIXELS, Crop, ImageError, decode_face, image_suffixes

GET_DATA_HELP = "see data/README.md for where to get LFW and Pins, and set DMH_DATA to the folder holding them"
# A file larger than this is not read at all (a 40-megapixel image is far smaller, even as BMP).
MAX_FILE_BYTES = 256 * 2**20
_FIX = {
    "not an image": "delete it or save it as JPEG or PNG",
    "corrupt image": "delete or replace it",
    "too large": f"downscale it below {MAX_PIXELS / 1e6:g} megapixels",
    "broken link": "remove the link or restore its target",
    "symlink loop": "remove the link",
    "unreadable": "fix its permissions or fetch it again",
    "not a regular file": "remove it",
    "in a sub-folder": "move it up into <root>/<identity>/ or remove the sub-folder",
    "name not UTF-8": "rename it with a UTF-8 name",
    "outside an identity folder": "move it into <root>/<identity>/",
}


def strict_error(s: Skipped) -> ValueError:
    return ValueError(f"{s.path}: {s.reason}; {_FIX.get(s.kind, 'remove it')} "
                      f"(without strict such files are skipped and listed)")


def _kind_of(path: str, is_link: bool) -> str:
    """`dir`, `file`, or the reason a path cannot be read as either."""
    try:
        st = os.stat(path)
    except OSError as e:
        if e.errno == errno.ELOOP:
            return "symlink loop"
        if e.errno == errno.ENOENT and is_link:
            return f"broken link: its target {shown(os.readlink(path))} does not exist"
        return f"unreadable: {e.strerror}"
    if stat.S_ISDIR(st.st_mode):
        return "dir"
    return "file" if stat.S_ISREG(st.st_mode) else "not a regular file"


def _files_below(folder: str) -> list[str]:
    """Every file, link and special file under `folder`, links not followed."""
    out: list[str] = []
    for top, dirs, files in os.walk(folder):
        out += [os.path.join(top, n) for n in files]
        out += [os.path.join(top, n) for n in dirs if os.path.islink(os.path.join(top, n))]
    return sorted(out)


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _entries(folder) -> list[os.DirEntry] | str:
    """The folder's entries sorted by name, or why it cannot be listed."""
    try:
        with os.scandir(folder) as it:
            return sorted(it, key=lambda e: e.name)
    except OSError as e:
        return f"unreadable: {e.strerror or e}"


def scan_identity_folder(root: Path, identity_name: Callable[[str], str] = lambda d: d,
                         min_images: int = 1, *, strict: bool = False,
                         skipped: list[Skipped] | None = None) -> list[tuple[str, str]]:
    """Sorted (relative path, identity) pairs of the images under `root/<identity>/`.

    Files left out are appended to `skipped` (see the module docstring); with `strict` the
    first one raises ValueError instead. Raises FileNotFoundError for a missing root and
    ValueError for an identity folder with no images, naming the path.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"face folder not found: {root}; {GET_DATA_HELP}")
    skipped = [] if skipped is None else skipped

    def skip(path, reason: str) -> None:
        s = Skipped(shown(path), reason)
        if strict:
            raise strict_error(s)
        skipped.append(s)

    suffixes = image_suffixes()
    items: list[tuple[str, str]] = []
    tops = _entries(root)
    if isinstance(tops, str):
        raise ValueError(f"cannot list the face folder {shown(root)}: {tops}; fix its permissions")
    for top in tops:
        kind = _kind_of(top.path, top.is_symlink())
        if kind == "file":
            if os.path.splitext(top.name)[1].lower() in suffixes:
                skip(top.path, "outside an identity folder")
            continue  # other files beside the identity folders are the dataset's own
        if kind != "dir":
            skip(top.path, kind)
            continue
        if not _utf8(top.name):
            for f in _files_below(top.path):
                skip(f, "name not UTF-8: of its identity folder")
            continue
        entries, files = _entries(top.path), []
        if isinstance(entries, str):
            skip(top.path, entries)
            continue
        for e in entries:
            kind = _kind_of(e.path, e.is_symlink())
            suffix = os.path.splitext(e.name)[1].lower()
            if not _utf8(e.name):
                skip(e.path, "name not UTF-8")
            elif kind == "dir":
                for f in _files_below(e.path) if not e.is_symlink() else [e.path]:
                    skip(f, "in a sub-folder")
            elif kind != "file":
                skip(e.path, kind)
            elif suffix not in suffixes:
                skip(e.path, f"not an image: {'suffix ' + suffix if suffix else 'no suffix'}, "
                             f"not one of the image formats Pillow reads")
            else:
                files.append(e.name)
        if not files:
            raise ValueError(f"identity folder has no images: {shown(top.path)}; remove it or "
                             f"add its images")
        if len(files) >= min_images:
            identity = identity_name(top.name)
            items.extend((f"{top.name}/{f}", identity) for f in files)
    if not items:
        raise ValueError(f"no identity folders with images under {root}; expected "
                         f"<root>/<identity>/<image>.jpg; {GET_DATA_HELP}")
    return items


def _read(path: Path) -> bytes | str:
    """The file's bytes, or the reason they cannot be had."""
    try:
        with open(path, "rb") as f:
            n = os.fstat(f.fileno()).st_size
            if n > MAX_FILE_BYTES:
                return f"too large: {n / 2**20:.0f} MiB, over the {MAX_FILE_BYTES >> 20} MiB file limit"
            return f.read()
    except OSError as e:
        return f"unreadable: {e.strerror or e}"


def _digest(images: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(images).tobytes()).hexdigest()


def _cached(cache_file: Path, n: int, shape: tuple,
            report: Callable[[str], None] | None) -> tuple[np.ndarray, dict[int, str]] | None:
    """The cached array and its decode failures, or None when absent or inconsistent. The
    array is checked against the sha256 written beside it; a damaged or unverifiable cache
    is named and decoded again."""
    if not cache_file.exists():
        return None
    side = cache_file.with_suffix(".skipped.json")
    try:
        images = np.load(cache_file, allow_pickle=False)
        failed = {int(i): str(r) for i, r in json.loads(side.read_text())} if side.exists() else {}
        ok = cache_file.with_suffix(".sha256").read_text().strip() == _digest(images)
    except (OSError, ValueError, TypeError):
        ok = False  # a torn, foreign or unverifiable file
    if not ok or images.shape != (n, *shape) or not all(0 <= i < n for i in failed):
        if report is not None:
            report(f"{cache_file}: cached array damaged or not verifiable; decoding the images again")
        return None
    return images, failed


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr)


def load_identity_folder(root: Path, *, name: str, crop: Crop, size: int = 32, channels: int = 3,
                         identity_name: Callable[[str], str] = lambda d: d, min_images: int = 1,
                         resample: str = "box", use_cache: bool = True, strict: bool = False,
                         report: Callable[[str], None] | None = _to_stderr) -> FaceSet:
    """Decode every image of identities with >= `min_images` images into a `FaceSet`.

    Skipped files are in `FaceSet.skipped`, and `report` (default: print to stderr) gets the
    `skip_summary` line and the first few of them; `strict=True` raises on the first instead.
    """
    root = Path(root)
    skipped: list[Skipped] = []
    items = scan_identity_folder(root, identity_name, min_images, strict=strict, skipped=skipped)
    paths = [root / rel for rel, _ in items]
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        blobs = list(pool.map(_read, paths))
    for path, blob in zip(paths, blobs):
        if isinstance(blob, str):
            if strict:
                raise strict_error(Skipped(shown(path), blob))
            skipped.append(Skipped(shown(path), blob))
    ok = [i for i, b in enumerate(blobs) if isinstance(b, bytes)]
    items, paths, blobs = [items[i] for i in ok], [paths[i] for i in ok], [blobs[i] for i in ok]
    # the checksum hashes, per image in order, its relative path, a NUL and its bytes' sha256
    parts = [rel.encode() + b"\0" + hashlib.sha256(blob).digest() for (rel, _), blob in zip(items, blobs)]
    content = hashlib.sha256(b"".join(parts)).hexdigest()
    key = hashlib.sha256(f"{content}|{crop}|{size}|{channels}|{resample}|v1".encode()).hexdigest()[:24]
    cache_file = cache_root() / f"{name}-{size}px-{channels}c-{key}.npy"
    hit = _cached(cache_file, len(items), (channels, size, size), report) if use_cache else None
    if hit is None:
        images, failed = np.zeros((len(items), channels, size, size), dtype=np.uint8), {}
        for i, (path, blob) in enumerate(zip(paths, blobs)):
            try:
                images[i] = decode_face(blob, crop, size, channels, resample)
            except ImageError as e:
                if strict:
                    raise strict_error(Skipped(shown(path), str(e))) from None
                failed[i] = str(e)
        if use_cache:
            if failed:  # written first: an array on disk always has its failures beside it
                atomic_write(cache_file.with_suffix(".skipped.json"),
                             lambda f: json.dump(sorted(failed.items()), f))
            atomic_write(cache_file, lambda f: np.save(f, images), mode="wb")
            atomic_write(cache_file.with_suffix(".sha256"), lambda f: f.write(_digest(images) + "\n"))
    else:
        images, failed = hit
    for i in sorted(failed):
        if strict:
            raise strict_error(Skipped(shown(paths[i]), failed[i]))
        skipped.append(Skipped(shown(paths[i]), failed[i]))
    keep = _enough_per_identity([i for i in range(len(items)) if i not in failed], items, min_images)
    if len(keep) < len(items):
        images, items = images[keep], [items[i] for i in keep]
        content = hashlib.sha256(b"".join(parts[i] for i in keep)).hexdigest()
    if not items:
        raise ValueError(f"no image under {shown(root)} could be decoded ({skip_summary(0, skipped)}); "
                         f"expected <root>/<identity>/<image>.jpg")
    skipped.sort(key=lambda s: s.path)
    if skipped and report is not None:
        report(skip_summary(len(items), skipped))
        for s in skipped[:5]:
            report(f"  skipped {s.path}: {s.reason}")
        if len(skipped) > 5:
            report(f"  ... and {len(skipped) - 5} more (FaceSet.skipped lists all; strict=True "
                   f"fails on the first)")
    identities = sorted({ident for _, ident in items})
    index = {n: i for i, n in enumerate(identities)}
    labels = np.array([index[ident] for _, ident in items], dtype=np.int64)
    return FaceSet(images, labels, identities, [rel for rel, _ in items], content, name, skipped)


def _enough_per_identity(rows: list[int], items: list[tuple[str, str]], min_images: int) -> list[int]:
    """`rows` whose identity still has >= `min_images` of them."""
    count: dict[str, int] = {}
    for i in rows:
        count[items[i][1]] = count.get(items[i][1], 0) + 1
    return [i for i in rows if count[items[i][1]] >= min_images]
