"""Retrieval at scale: dmh.index backends on galleries of 10^4 .. 10^7 face codes.

    python benchmarks/bench_index.py [--sizes 1e4 1e5 1e6] [--n-bits 48]
        [--codes codes.npz | --bit-probs P1,P2,...] [--query-flip F] [--backends flat hash
        multihash scan mih milvus] [--no-reference] [--threads 1] [--budget 2] [--json out.json]

10^4..10^6 take about 4 min on 2 shared cores; `--sizes 1e7 --backends flat hash multihash
scan mih` about 18 min and 5 GB of memory at peak; Milvus Lite's 1,000-query batches take
minutes at 10^7: `--backends milvus --queries 100 --no-reference` apart takes about 1 min.

The book's chapter "Retrieval at scale" (notebooks/scale.ipynb, dmh.report.scale) reads
the records committed as results/bench/index-*.json, made from the 48-bit codes of the
paper's Pins run:

    dmh index build dmh-pins-48b-s0-test-87ea53bc53 pins --out pins48.npz
    python benchmarks/bench_index.py --codes pins48.npz --sizes 1e4 1e5 1e6 \
        --json results/bench/index-1e4-1e6.json
    python benchmarks/bench_index.py --codes pins48.npz --sizes 1e7 \
        --backends flat hash multihash scan mih --json results/bench/index-1e7.json
    python benchmarks/bench_index.py --codes pins48.npz --sizes 1e7 --backends milvus \
        --queries 100 --no-reference --json results/bench/index-1e7-milvus.json
    python benchmarks/bench_index.py --codes pins48.npz --sizes 1e6 1e7 --backends flat scan mih \
        --k 10 --radius 0 2 4 6 8 10 12 --queries 200 --single 100 --budget 1 --no-reference \
        --json results/bench/index-radius.json

Real-looking codes. Bit k of every gallery code is 1 with probability p[k], independently.
p is given (--bit-probs, K values) or estimated from real codes (--codes: the `.npz` of
`dmh encode RUN FOLDER --out codes.npz`, or an index file of `dmh index build`):
p[k] = the fraction of those codes whose bit k is set (`unpackbits(codes).mean(axis=0)`);
default p = 0.5. This matches each bit's marginal, not the correlations between bits or
the clustering by identity. Queries are new photos of gallery people: gallery codes with
each bit flipped with probability f (--query-flip; from --codes with labels, f = the median
Hamming distance between two codes of one identity / K, so that a query is as far from its
person's gallery face as two faces of one person are; else 0.1).

Per size and backend: build time (backend made + codes added), bytes per face (faiss:
the serialized index; Milvus Lite: its files on disk; scan, mih: the arrays they hold), latency p50/p99 of one query
(--single of them, one at a time) and of a batch of --queries (over --repeats batches;
either stops taking samples after --budget seconds), queries/s of the batch, and for
sub-linear backends (and Milvus, scan and mih, as a check) recall@k against the exhaustive ranking
(tie-aware: the share of ranks whose distance equals the exact one's; and by id). Radius
search (at each --radius) the same way, its recall the share of queries whose result equals the
exhaustive one. "faiss flat raw" rows are IndexBinaryFlat alone at the code's 6 bytes and
padded to 8: the padding's gain, and the cost of `flat`'s deterministic tie order
(dmh.index.ties). Also faiss IndexFlatIP over 48-d float features (synthetic: the codes'
signs times uniform magnitudes, standing in for the hash layer's outputs), the memory of
a 128-d float embedding, and the memory-bandwidth bound of one exhaustive scan: bytes
scanned / read bandwidth, measured in this run as the fastest of two one-thread reads of a
512 MiB array (READS: a float64 sum, and a uint64 OR-reduce, whose wide loads read faster
where the sum's adds bind), one thread like one query's scan.

The record (--json) holds the rows (each with its `kind` and batch size `queries`), the
run's arguments, bit probabilities, query flip rate, read bandwidth, this machine's RAM,
and, when --codes is a `dmh index build` file, which index it was and its bytes per face
of each stored array (codes, ids, labels, keys): what a real index holds besides codes.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from dmh.codes import n_bytes_for
from dmh.core.provenance import provenance
from dmh.index import open_backend
from dmh.index.faiss_binary import fast_width, pad_codes


def bit_probs_from(args) -> tuple[np.ndarray, float | None]:
    """(p, estimated query flip rate or None) from --codes or --bit-probs (else p = 0.5)."""
    if args.codes:
        with np.load(args.codes, allow_pickle=False) as z:
            codes = z["codes"]
            n_bits = int(json.loads(z["header"].tobytes())["n_bits"]) if "header" in z.files \
                else int(z["n_bits"])
            labels = z["labels"] if "labels" in z.files else None
        bits = np.unpackbits(codes, axis=1, count=n_bits)
        return bits.mean(axis=0), (None if labels is None else same_identity_flip(bits, labels))
    if args.bit_probs:
        return np.array([float(x) for x in args.bit_probs.split(",")]), None
    return np.full(args.n_bits, 0.5), None


def codes_source(path: str) -> tuple[dict, dict]:
    """(what the --codes file is, its bytes per face of each stored array)."""
    with np.load(path, allow_pickle=False) as z:
        arrays = {name: z[name].nbytes for name in z.files if name != "header"}
        header = json.loads(z["header"].tobytes()) if "header" in z.files else {}
        count = len(z["codes"])
    source = dict(file=Path(path).name, count=count,
                  **{k: header[k] for k in ("format", "run", "config_name", "n_bits", "sha256")
                     if k in header})
    return source, {name: nbytes / count for name, nbytes in arrays.items()}


def machine_ram_bytes() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def same_identity_flip(bits: np.ndarray, labels: np.ndarray, pairs: int = 20000) -> float:
    """Median Hamming distance of two codes of one identity, over K."""
    rng = np.random.default_rng(0)
    order = np.argsort(labels, kind="stable")
    lo = np.searchsorted(labels[order], labels, "left")
    size = np.searchsorted(labels[order], labels, "right") - lo
    i = rng.choice(np.flatnonzero(size > 1), pairs)
    j = order[lo[i] + rng.integers(0, size[i])]
    keep = i != j
    return float(np.median((bits[i[keep]] != bits[j[keep]]).sum(axis=1))) / bits.shape[1]


def sample_codes(p: np.ndarray, n: int, rng, chunk: int = 1_000_000) -> np.ndarray:
    out = np.empty((n, n_bytes_for(len(p))), np.uint8)
    for s in range(0, n, chunk):
        m = min(chunk, n - s)
        out[s:s + m] = np.packbits(rng.random((m, len(p)), dtype=np.float32) < p, axis=1)
    return out


def perturb(codes: np.ndarray, n_bits: int, flip: float, rng) -> np.ndarray:
    bits = np.unpackbits(codes, axis=1, count=n_bits)
    return np.packbits(bits ^ (rng.random(bits.shape) < flip), axis=1)


READS = {  # one-thread reads of one array; the fastest gives the tightest bound
    "float64 sum": np.sum,  # pairwise summation: on some CPUs its adds, not the memory, bind
    "uint64 OR-reduce": lambda a: np.bitwise_or.reduce(a.view(np.uint64)),  # wide loads, one OR
}


def read_bandwidth(mib: int = 512, repeats: int = 5) -> dict[str, float]:
    """Bytes/s of each of READS over a `mib` MiB array, best of `repeats`."""
    a = np.ones(mib * 2**20 // 8)
    return {name: a.nbytes / min(_timed(lambda: read(a)) for _ in range(repeats))
            for name, read in READS.items()}


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def latencies(search, queries, k, args):
    """Timings of one query at a time (up to --single) and of --queries at once (up to
    --repeats), each stopping early after --budget seconds (at least 10 and 1 of them);
    with the last batch's result."""
    single, t0 = [], time.perf_counter()
    while len(single) < args.single and (len(single) < 10 or time.perf_counter() - t0 < args.budget):
        i = len(single)
        single.append(_timed(lambda: search(queries[i:i + 1], k)))
    batch, t0 = [], time.perf_counter()
    while len(batch) < args.repeats and (not batch or time.perf_counter() - t0 < args.budget):
        t = time.perf_counter()
        out = search(queries[:args.queries], k)
        batch.append(time.perf_counter() - t)
    pct = lambda x, p: float(np.percentile(x, p))  # noqa: E731
    return dict(single_p50_ms=pct(single, 50) * 1e3, single_p99_ms=pct(single, 99) * 1e3,
                batch_p50_s=pct(batch, 50), batch_p99_s=pct(batch, 99),
                qps=args.queries / pct(batch, 50), n_single=len(single), n_batches=len(batch)), out


def recall(d, i, d_exact, i_exact) -> dict:
    """Tie-aware recall (ranks whose distance is the exact one's), recall by id, and the
    share of queries whose ranking (ids and distances, in order) is the exhaustive one."""
    tie_aware = float((d == d_exact).mean())
    by_id = float(np.mean([len(np.intersect1d(a[a >= 0], b)) / len(b) for a, b in zip(i, i_exact)]))
    same = float(np.mean(np.all((d == d_exact) & (i == i_exact), axis=1)))
    return dict(recall=tie_aware, recall_id=by_id, exact_match=same)


def configs(kinds: list[str], n: int, n_bits: int, tmp: Path) -> list[tuple[str, str, dict]]:
    b = int(np.clip(round(np.log2(n)), 8, min(24, n_bits)))
    out = []
    if "flat" in kinds:
        out.append(("flat", "flat", {}))
    if "scan" in kinds:
        out.append(("scan", "scan", {}))
    if "mih" in kinds:  # substrings of ~24, ~16 and ~12 bits, none much over log2(n)
        # (Norouzi et al. size them at ~log2(n) bits: longer ones leave most buckets empty
        # and make a query flip many bits; at 1e4 faces, 24-bit substrings took 43 ms/query)
        for m in sorted({-(-n_bits // 24), -(-n_bits // 16), -(-n_bits // 12)}):
            if n_bits / m <= max(12, np.log2(n) + 2):
                out.append((f"mih {m} tables", "mih", dict(tables=m)))
    if "hash" in kinds:
        out += [(f"hash b={b} nflip={f}", "hash", dict(b=b, nflip=f)) for f in (1, 2)]
    if "multihash" in kinds:
        # the default 16-bit substrings, and Norouzi et al.'s rule: substrings of ~log2(n) bits
        rule = int(np.clip(round(n_bits / np.log2(n)), 1, n_bits // 8))
        setups = {(n_bits // 16, 1), (n_bits // 16, 2), (rule, 2), (rule, 3)}
        out += [(f"multihash {nh}x{n_bits // nh} nflip={f}", "multihash",
                 dict(nhash=nh, b=n_bits // nh, nflip=f)) for nh, f in sorted(setups, reverse=True)]
    if "milvus" in kinds:
        out.append(("milvus-lite BIN_FLAT", "milvus", dict(uri=str(tmp / f"m{n}.db"),
                                                           collection=f"g{n}")))
    return out


def bytes_per_face(kind: str, backend, n: int, tmp: Path) -> float:
    import faiss

    if kind == "milvus":
        backend.col.flush()
        return sum(f.stat().st_size for f in tmp.rglob("*") if f.is_file()) / n
    if kind in ("scan", "mih"):
        return backend.nbytes() / n
    return len(faiss.serialize_index_binary(backend.index)) / n


def raw_flat_rows(gallery, queries, args, width, n):
    """faiss IndexBinaryFlat alone (ties unordered), at the code's width and padded."""
    import faiss

    rows = []
    for w in sorted({gallery.shape[1], width}):
        t = time.perf_counter()
        index = faiss.IndexBinaryFlat(w * 8)
        index.add(pad_codes(gallery, w))
        build = time.perf_counter() - t
        q = pad_codes(queries, w)
        for k in args.k:
            timing, _ = latencies(index.search, q, k, args)
            rows.append(dict(n=n, backend=f"faiss flat raw {w} B", kind="flat raw", k=k,
                             queries=args.queries, build_s=build, bytes_per_face=w, **timing))
    return rows


def float_rows(gallery, queries, args, n, rng):
    """faiss IndexFlatIP over 48-d float features with the codes' signs."""
    import faiss

    def feats(codes, chunk=1_000_000):  # in chunks: 10^7 faces stay at 2 GB of features
        out = np.empty((len(codes), args.n_bits), np.float32)
        for s in range(0, len(codes), chunk):
            signs = np.unpackbits(codes[s:s + chunk], axis=1, count=args.n_bits).astype(np.float32)
            out[s:s + chunk] = (signs * 2 - 1) * rng.uniform(0.05, 1, signs.shape).astype(np.float32)
        return out

    fg, fq = feats(gallery), feats(queries)
    t = time.perf_counter()
    index = faiss.IndexFlatIP(args.n_bits)
    index.add(fg)
    build = time.perf_counter() - t
    return [dict(n=n, backend=f"faiss IndexFlatIP {args.n_bits}-d float32", kind="float", k=k,
                 queries=args.queries, build_s=build, bytes_per_face=4 * args.n_bits,
                 **latencies(index.search, fq, k, args)[0]) for k in args.k]


def bench_size(n: int, p: np.ndarray, flip: float, args, bandwidth: float) -> list[dict]:
    rng = np.random.default_rng(args.seed)
    gallery = sample_codes(p, n, rng)
    queries = perturb(gallery[rng.integers(0, n, max(args.queries, args.single))], args.n_bits,
                      flip, rng)
    width = fast_width(gallery.shape[1])
    rows = [] if args.no_reference else raw_flat_rows(gallery, queries, args, width, n)
    exact = open_backend("flat", args.n_bits)
    exact.add(gallery)
    truth = exact.search(queries[:args.queries], max(args.k))
    truth_r = {r: exact.search_radius(queries[:args.queries], r) for r in args.radius}
    tmp = Path(tempfile.mkdtemp(prefix="bench_index_"))
    try:
        for label, kind, opts in configs(args.backends, n, args.n_bits, tmp):
            t = time.perf_counter()
            backend = open_backend(kind, args.n_bits, **opts)
            backend.add(gallery)
            build = time.perf_counter() - t
            size = bytes_per_face(kind, backend, n, tmp)
            for k in args.k:
                timing, (d, i) = latencies(backend.search, queries, k, args)
                row = dict(n=n, backend=label, kind=kind, k=k, queries=args.queries,
                           build_s=build, bytes_per_face=size, **timing)
                if kind in ("hash", "multihash", "mih"):
                    row["options"] = opts
                if not backend.exact or kind in ("milvus", "scan", "mih"):  # exact ones: a check
                    row |= recall(d, i, truth[0][:, :k], truth[1][:, :k])
                if kind == "flat":  # how far the k-th neighbour is (reach of a hash table)
                    kth = truth[0][:, k - 1]
                    row["kth_distance"] = {f"p{q}": float(np.percentile(kth, q)) for q in (10, 50, 90)}
                rows.append(row)
            for r in args.radius if kind in ("flat", "multihash", "milvus", "scan", "mih") else ():
                timing, found = latencies(backend.search_radius, queries, r, args)
                same = float(np.mean([np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
                                      for a, b in zip(found, truth_r[r])]))
                rows.append(dict(n=n, backend=label, kind=kind, k=f"r<={r}",
                                 queries=args.queries, build_s=build, bytes_per_face=size,
                                 recall=same, exact_match=same, **timing))
            print(f"  n={n} {label}: {time.perf_counter() - t:.0f} s", flush=True)
            if kind == "milvus":
                backend.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.no_reference:
        return rows
    rows += float_rows(gallery, queries, args, n, rng)
    for row in rows:  # exhaustive scans: the bytes of every gallery row, read once
        if row["backend"].startswith(("faiss flat raw", "faiss IndexFlatIP")) or row["kind"] in ("flat", "scan"):
            row["scan_bound_ms"] = row["bytes_per_face"] * n / bandwidth * 1e3
    rows.append(dict(n=n, backend="128-d float32 embedding (memory only)", kind="embedding", k="-",
                     bytes_per_face=512, memory_mib=512 * n / 2**20,
                     scan_bound_ms=512 * n / bandwidth * 1e3))
    return rows


def table(rows: list[dict]) -> str:
    cols = [("n", "{}"), ("backend", "{}"), ("k", "{}"), ("build_s", "{:.3f}"),
            ("bytes_per_face", "{:.1f}"), ("single_p50_ms", "{:.3f}"), ("single_p99_ms", "{:.3f}"),
            ("batch_p50_s", "{:.3f}"), ("batch_p99_s", "{:.3f}"), ("qps", "{:.0f}"),
            ("recall", "{:.3f}"), ("recall_id", "{:.3f}"), ("scan_bound_ms", "{:.3f}")]
    cells = [[c for c, _ in cols]] + [[f.format(r[c]) if r.get(c) is not None else "" for c, f in cols]
                                      for r in rows]
    widths = [max(len(x[j]) for x in cells) for j in range(len(cols))]
    return "\n".join("  ".join(x[j].rjust(widths[j]) if j != 1 else x[j].ljust(widths[j])
                               for j in range(len(cols))) for x in cells)


def c_kernel(backends: list[str]) -> str | None:
    """Which inner loop dmh's scan and mih ran (None if neither was measured)."""
    if not {"scan", "mih"} & set(backends):
        return None
    from dmh.index.native import kernel_path
    return kernel_path()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=lambda s: int(float(s)), nargs="+",
                    default=[10_000, 100_000, 1_000_000], help="gallery sizes (1e7 works)")
    ap.add_argument("--n-bits", type=int, default=48)
    ap.add_argument("--codes", help="real codes (.npz with `codes`) to estimate bit probabilities")
    ap.add_argument("--bit-probs", help="K comma-separated probabilities of a 1 bit")
    ap.add_argument("--query-flip", type=float, default=None)
    ap.add_argument("--backends", nargs="+", default=["flat", "hash", "multihash", "scan", "mih", "milvus"])
    ap.add_argument("--k", type=int, nargs="+", default=[10, 100])
    ap.add_argument("--radius", type=int, nargs="+", default=[6],
                    help="radius search at each (the chapter's tables: 6; a sweep: where "
                         "sub-linear search stops paying)")
    ap.add_argument("--queries", type=int, default=1000, help="queries per batch")
    ap.add_argument("--single", type=int, default=200, help="one-at-a-time queries timed")
    ap.add_argument("--repeats", type=int, default=3, help="batches timed")
    ap.add_argument("--budget", type=float, default=2.0,
                    help="seconds after which a timing stops taking samples")
    ap.add_argument("--no-reference", action="store_true",
                    help="skip the reference rows (faiss flat raw, float search, 128-d memory)")
    ap.add_argument("--threads", type=int, default=1, help="faiss OpenMP threads")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, help="write the record here")
    args = ap.parse_args()

    import faiss

    faiss.omp_set_num_threads(args.threads)
    p, est_flip = bit_probs_from(args)
    args.n_bits = len(p)
    flip = args.query_flip if args.query_flip is not None else (est_flip or 0.1)
    reads = read_bandwidth()
    bandwidth = max(reads.values())
    print(f"{args.n_bits}-bit codes, p(bit=1) in [{p.min():.2f}, {p.max():.2f}] (mean {p.mean():.2f}"
          f"{', from ' + args.codes if args.codes else ''}); queries flip bits w.p. {flip:.3f}; "
          f"faiss {faiss.__version__}, {args.threads} thread(s); read bandwidth "
          f"{bandwidth / 1e9:.1f} GB/s (1 thread; "
          + ", ".join(f"{k} {v / 1e9:.1f}" for k, v in reads.items()) + ")", flush=True)
    rows = []
    for n in args.sizes:
        t = time.perf_counter()
        rows += bench_size(n, p, flip, args, bandwidth)
        print(f"n={n}: {time.perf_counter() - t:.0f} s", flush=True)
    print(table(rows))
    if args.json:
        source, layout = codes_source(args.codes) if args.codes else (None, None)
        record = dict(provenance=provenance(threads=args.threads), faiss=faiss.__version__,
                      args={k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
                      bit_probs=p.tolist(), query_flip=flip, read_bandwidth_bytes_s=bandwidth,
                      read_bandwidth_by_kernel=reads, c_kernel=c_kernel(args.backends),
                      machine_ram_bytes=machine_ram_bytes(), codes_source=source,
                      index_bytes_per_face=layout, rows=rows)
        args.json.write_text(json.dumps(record, indent=1))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
