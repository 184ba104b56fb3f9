"""Chunked caches filled by several workers at once: each chunk is computed once."""
import os
import threading
import time

import numpy as np

from dmh.data import chunk_cache
from dmh.data.chunk_cache import cached_chunks


def _chunks(folder, n, log, delay=0.05):
    def compute(i):
        def run():
            log.append(i)
            time.sleep(delay)
            return {"x": np.full(3, i)}
        return run
    return [(folder / f"c{i}.npz", lambda got: got["x"].shape == (3,), compute(i)) for i in range(n)]


def test_two_workers_split_the_chunks_and_both_read_all_of_them(tmp_path):
    log, out = [], {}
    def worker(name):
        out[name] = cached_chunks(_chunks(tmp_path, 8, log), report=lambda line: None)
    threads = [threading.Thread(target=worker, args=(w,)) for w in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(log) == list(range(8))  # each chunk computed once, by one of them
    for got in out.values():
        assert [int(c["x"][0]) for c in got] == list(range(8))
    assert not list(tmp_path.glob("*.lock"))


def test_a_chunk_claimed_by_a_live_worker_is_waited_for_not_computed(tmp_path):
    log = []
    chunks = _chunks(tmp_path, 2, log)
    (tmp_path / "c1.npz.lock").touch()
    def other_worker_finishes():
        time.sleep(0.3)
        np.savez(tmp_path / "c1.npz", x=np.full(3, 7))
        (tmp_path / "c1.npz.lock").unlink()
    t = threading.Thread(target=other_worker_finishes)
    t.start()
    got = cached_chunks(chunks, report=lambda line: None, poll_s=0.05)
    t.join()
    assert log == [0] and int(got[1]["x"][0]) == 7


def test_a_stale_claim_left_by_a_killed_worker_is_computed_here(tmp_path):
    log = []
    lock = tmp_path / "c0.npz.lock"
    lock.touch()
    old = time.time() - chunk_cache.LOCK_STALE_S - 5
    os.utime(lock, (old, old))
    got = cached_chunks(_chunks(tmp_path, 1, log), report=lambda line: None)
    assert log == [0] and int(got[0]["x"][0]) == 0


def test_a_damaged_chunk_is_reported_and_computed_again(tmp_path):
    log, said = [], []
    (tmp_path / "c0.npz").write_bytes(b"not an npz")
    got = cached_chunks(_chunks(tmp_path, 1, log), report=said.append)
    assert log == [0] and int(got[0]["x"][0]) == 0 and "damaged or stale chunk" in said[0]
