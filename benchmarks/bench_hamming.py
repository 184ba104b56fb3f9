"""Exhaustive Hamming search: dmh's numpy code vs faiss IndexBinaryFlat.

Random 48-bit codes, 100k gallery items, 1k queries by default. Times
(best of --repeats) the full (Q, G) distance matrix and the top-k search,
and checks both backends return the same distances.

    python benchmarks/bench_hamming.py [--n-gallery 100000] [--n-query 1000]
        [--n-bits 48] [--k 100] [--threads 2] [--repeats 3]
"""

from __future__ import annotations

import argparse
import platform
import time
from typing import Callable

import numpy as np

from dmh.retrieval import hamming_distances, hamming_topk


def best_time(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Smallest wall time over `repeats` calls, and the last result."""
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-gallery", type=int, default=100_000)
    ap.add_argument("--n-query", type=int, default=1_000)
    ap.add_argument("--n-bits", type=int, default=48)
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import faiss

    faiss.omp_set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    n_bytes = (args.n_bits + 7) // 8
    gallery = np.packbits(rng.integers(0, 2, (args.n_gallery, args.n_bits), dtype=np.uint8), axis=1)
    queries = np.packbits(rng.integers(0, 2, (args.n_query, args.n_bits), dtype=np.uint8), axis=1)

    def faiss_full() -> np.ndarray:
        out = np.empty((args.n_query, args.n_gallery), dtype=np.int32)
        faiss.hammings(
            faiss.swig_ptr(queries), faiss.swig_ptr(gallery),
            args.n_query, args.n_gallery, n_bytes, faiss.swig_ptr(out),
        )
        return out

    def faiss_topk() -> tuple[np.ndarray, np.ndarray]:
        index = faiss.IndexBinaryFlat(n_bytes * 8)  # index build included in the time
        index.add(gallery)
        return index.search(queries, args.k)

    t_np_full, d_np = best_time(lambda: hamming_distances(queries, gallery), args.repeats)
    t_fs_full, d_fs = best_time(faiss_full, args.repeats)
    same_full = bool(np.array_equal(d_np, d_fs))
    del d_np, d_fs  # two (Q, G) int32 matrices are 400 MB each at the default size
    t_np_topk, (dn, _) = best_time(lambda: hamming_topk(queries, gallery, args.k), args.repeats)
    t_fs_topk, (df, _) = best_time(faiss_topk, args.repeats)
    same_topk = bool(np.array_equal(dn, df))

    print(
        f"gallery {args.n_gallery} x {args.n_bits} bits, {args.n_query} queries, k={args.k}, "
        f"faiss {faiss.__version__} ({args.threads} OpenMP threads), numpy {np.__version__}, "
        f"{platform.processor() or platform.machine()}; best of {args.repeats}"
    )
    rows = [
        ("numpy (dmh)", t_np_full, t_np_topk),
        ("faiss IndexBinaryFlat", t_fs_full, t_fs_topk),
    ]
    print(f"{'backend':<24}{'full distances [s]':>20}{f'top-{args.k} [s]':>14}")
    for name, tf, tk in rows:
        print(f"{name:<24}{tf:>20.3f}{tk:>14.3f}")
    print(f"numpy / faiss time ratio: full {t_np_full / t_fs_full:.1f}x, top-k {t_np_topk / t_fs_topk:.1f}x")
    print(f"identical distances: full={same_full}, top-k={same_topk}")


if __name__ == "__main__":
    main()
