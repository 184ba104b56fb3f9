"""Chunked npz caches that several processes may fill at once.

A grid's workers start together, and each one reads the same dlib pass of a dataset
(about 45 CPU minutes for Pins): without coordination every worker computes every chunk.
Here a worker claims a missing chunk with a lock file beside it (created exclusively), so
the workers split the chunks between them; then each reads all of them, waiting for a chunk
another worker is still computing. A lock left by a killed worker goes stale after
`LOCK_STALE_S` and is ignored. Chunks are npz files read without pickle; a damaged or
stale one is computed again.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable

import numpy as np

from ..core.atomic import atomic_write

# Longer than a chunk takes (500 dlib images: about 1.5 min on one core), so a live claim
# is waited for and a dead one is not waited for long.
LOCK_STALE_S = 900.0

Chunk = tuple[Path, Callable[[dict], bool], Callable[[], dict]]  # path, fits(arrays), compute()


def cached_chunk(path: Path, fits, compute, report) -> dict:
    """The arrays of npz `path` where it reads without pickle and `fits(arrays)`; else
    `compute()`'s arrays, written there atomically (a damaged or stale file is reported)."""
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as z:
                got = {k: z[k] for k in z.files}
            if fits(got):
                return got
        except (OSError, ValueError, KeyError):
            pass
        report(f"{path}: damaged or stale chunk; computing it again")
    got = compute()
    atomic_write(path, lambda f: np.savez(f, **got), mode="wb")
    return got


def _lock(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def _claimed_elsewhere(path: Path) -> bool:
    try:
        return time.time() - _lock(path).stat().st_mtime < LOCK_STALE_S
    except FileNotFoundError:
        return False


def _claim(path: Path) -> bool:
    """Whether this process may compute `path`: it made the lock, or the lock is stale."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(_lock(path), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        return True
    except FileExistsError:
        return not _claimed_elsewhere(path)


def cached_chunks(chunks: list[Chunk], report, computed=lambda i: None, poll_s: float = 1.0) -> list[dict]:
    """Every chunk's arrays, in order. Missing chunks that no other process has claimed are
    computed here first (`computed(i)` is called after each); then the rest are read, each
    waited for while another process's claim on it is live."""
    got: dict[int, dict] = {}
    for i, (path, fits, compute) in enumerate(chunks):
        if not path.exists() and _claim(path):
            try:
                if path.exists():  # its worker finished between the look and the claim
                    continue
                got[i] = cached_chunk(path, fits, compute, report)
            finally:
                _lock(path).unlink(missing_ok=True)
            computed(i)
    for i, (path, fits, compute) in enumerate(chunks):
        while i not in got and not path.exists() and _claimed_elsewhere(path):
            time.sleep(poll_s)
        if i not in got:
            got[i] = cached_chunk(path, fits, compute, report)
    return [got[i] for i in range(len(chunks))]


__all__ = ["LOCK_STALE_S", "cached_chunk", "cached_chunks"]
