"""dmh.report.scale and scale_plan on hand-made benchmark records (answers computed by hand),
and every committed benchmark record (results/bench/index-*.json) loads and yields the
chapter's tables."""
import json
import math

import pytest

from dmh.report import scale as S
from dmh.report import scale_plan as SP
from dmh.run.records import RecordError

BW = 8e9  # bytes/s: an 8-byte code per face scans 10^4 faces in 0.01 ms


def _row(n, backend, kind, k, single, batch_s, size, **more):
    return dict(n=n, backend=backend, kind=kind, k=k, queries=1000, build_s=0.0, bytes_per_face=size,
                single_p50_ms=single, batch_p50_s=batch_s, **more)


def _c_rows(n, f, bound):
    """dmh's scan (1.6x the bound at top-100) and mih (exact, 0.001 ms at top-10)."""
    return [_row(n, "scan", "scan", 10, 0.015 * f, 0.012 * f, 8, scan_bound_ms=bound, recall=1.0),
            _row(n, "scan", "scan", 100, 0.016 * f, 0.014 * f, 8, scan_bound_ms=bound, recall=1.0),
            _row(n, "scan", "scan", "r<=6", 0.008 * f, 0.008 * f, 8, scan_bound_ms=bound, recall=1.0),
            _row(n, "mih 3 tables", "mih", 10, 0.001, 0.0008, 56, recall=1.0, recall_id=1.0,
                 exact_match=1.0, options={"tables": 3}),
            _row(n, "mih 2 tables", "mih", 10, 0.002 if n == 10_000 else 0.004, 0.002, 70, recall=1.0,
                 recall_id=1.0, exact_match=1.0, options={"tables": 2})]  # faster at the larger n


def _rows(n, fast_enough=False, milvus_same=1.0, c_kernels=False):
    """At n = 10^4 (times of n = 10^3 are a tenth, the radius search's a half)."""
    f = n / 10_000
    bound = n * 8 / BW * 1e3
    mh = dict(nhash=3, b=16)
    return (_c_rows(n, f, bound) if c_kernels else []) + [
        _row(n, "flat", "flat", 10, 0.02 * f, 0.015 * f, 8, scan_bound_ms=bound, kth_distance={"p50": 7}),
        _row(n, "flat", "flat", 100, 0.03 * f, 0.025 * f, 8, scan_bound_ms=bound, kth_distance={"p50": 9}),
        _row(n, "flat", "flat", "r<=6", 0.01 * f, 0.01 * f, 8, scan_bound_ms=bound, recall=1.0,
             exact_match=1.0),
        _row(n, "multihash 3x16 nflip=2", "multihash", 10, 0.002 if fast_enough else 0.004, 0.004, 20,
             recall=0.97, recall_id=0.9, exact_match=0.8, options=dict(mh, nflip=2)),
        _row(n, "multihash 3x16 nflip=2", "multihash", "r<=6", 0.001 if n == 10_000 else 0.0005, 0.001, 20,
             recall=1.0, exact_match=1.0, options=dict(mh, nflip=2)),
        _row(n, "multihash 3x16 nflip=1", "multihash", 10, 0.001, 0.001, 20, recall=0.5, recall_id=0.4,
             exact_match=0.3, options=dict(mh, nflip=1)),
        _row(n, "hash b=13 nflip=1", "hash", 10, 0.0005, 0.0005, 25, recall=0.1, recall_id=0.1,
             exact_match=0.0, options=dict(b=13, nflip=1)),
        *[_row(n, "milvus-lite BIN_FLAT", "milvus", k, 1.0 * f, 0.5 * f, 120, recall=1.0, recall_id=1.0,
               exact_match=milvus_same if (n, k) == (10_000, 100) else 1.0) for k in (10, 100, "r<=6")],
        _row(n, "faiss IndexFlatIP 48-d float32", "float", 10, 0.5 * f, 0.4 * f, 192,
             scan_bound_ms=n * 192 / BW * 1e3),
        dict(n=n, backend="128-d float32 embedding (memory only)", kind="embedding", k="-", bytes_per_face=512),
    ]


def record(c_kernels=False, **kw):
    return S.check_record(dict(
        provenance={"git_commit": "c" * 40, "hardware": {"cpu": "Test CPU"}}, faiss="1.0",
        args=dict(sizes=[1000, 10_000], backends=["flat", "hash", "multihash", "milvus"], queries=1000,
                  threads=1, n_bits=48, codes="/somewhere/codes.npz"),
        bit_probs=[0.5] * 48, query_flip=0.25, read_bandwidth_bytes_s=BW, machine_ram_bytes=16e9,
        codes_source={"file": "codes.npz", "config_name": "run-x"},
        index_bytes_per_face=dict(codes=6, ids=8, labels=8, key_bytes=40, key_offsets=8),
        rows=_rows(1000, c_kernels=c_kernels) + _rows(10_000, c_kernels=c_kernels, **kw)),
        "results/bench/index-test.json")


def test_ratios_and_speedups():
    df = S.rows_frame([record()])
    b = S.bound_table(df).set_index(["n", "backend", "k"])
    assert b.loc[(10_000, "flat", "100"), "one query / bound"] == pytest.approx(3.0)
    assert b.loc[(10_000, "flat", "100"), "in a batch / bound"] == pytest.approx(2.5)
    assert b.loc[(10_000, "flat", "10"), "one query / bound"] == pytest.approx(2.0)
    assert b.loc[(10_000, "faiss IndexFlatIP 48-d float32", "10"), "one query / bound"] == pytest.approx(0.5 / 0.24)
    r = S.recall_table(df).set_index(["n", "backend", "k"])
    assert r.loc[(10_000, "multihash 3x16 nflip=2", "10"), S.UP] == pytest.approx(5.0)
    assert r.loc[(10_000, "hash b=13 nflip=1", "10"), S.UP] == pytest.approx(40.0)
    assert r.loc[(10_000, "multihash 3x16 nflip=2", "10"), "speed-up (batch)"] == pytest.approx(0.015 / 0.004)
    assert S.slope(df, "flat", "10") == pytest.approx(1.0)
    assert S.slope(df, "multihash 3x16 nflip=2", "r<=6") == pytest.approx(math.log10(2))
    assert math.isnan(S.slope(df[df.n == 10_000], "flat", "10"))
    drawn = S.most_accurate(df)
    assert set(drawn[drawn.kind == "multihash"].backend) == {"multihash 3x16 nflip=2"}
    lines = S.latency_lines(df)
    assert set(lines.family) == {"faiss flat (exhaustive)", "faiss hash", "faiss multihash",
                                 "Milvus Lite (BIN_FLAT)", "float32 48-d IndexFlatIP",
                                 "bandwidth bound (flat scan)"}


def test_reach():
    t = S.reach_table(S.rows_frame([record()]), 10_000).set_index("backend")
    assert S.buckets(16, 2) == 1 + 16 + 120
    assert S.buckets(13, 7) == 1 + 13 + 78 + 286 + 715 + 1287 + 1716 + 1716
    assert t.loc["multihash 3x16 nflip=2", "flips needed"] == 7 // 3 == 2
    assert t.loc["multihash 3x16 nflip=1", "buckets visited"] == 3 * 17
    assert t.loc["multihash 3x16 nflip=1", "buckets needed"] == 3 * 137
    assert t.loc["hash b=13 nflip=1", "flips needed"] == 7
    assert t.loc["hash b=13 nflip=1", "buckets needed"] == 5812
    assert t.loc["multihash 3x16 nflip=2", "faces per bucket"] == 10_000 / 2**16


def test_goals():
    g = S.goals(S.rows_frame([record()])).set_index("goal")
    assert list(g.n.unique()) == [10_000]
    assert g.holds.tolist() == [False, False, True]  # 3x the bound; 5x at recall 0.97; identical
    assert "= 3.00x" in g.measured.iloc[0] and "in a batch of 1000 2.50x" in g.measured.iloc[0]
    assert g.measured.iloc[1] == ("at recall@10 >= 0.95: multihash 3x16 nflip=2 5.00x flat's speed "
                                  "(5.00x faiss flat's); at >= 10x: multihash 3x16 nflip=1 recall@10 0.500")
    g = S.goals(S.rows_frame([record(fast_enough=True, milvus_same=0.99)]))
    assert g.holds.tolist() == [False, True, False]
    assert "top-100 99%" in g.measured.iloc[2] and "at 1e3: all identical" in g.measured.iloc[2]
    none = S.rows_frame([record()])
    none.loc[none.kind == "multihash", "recall"] = 0.9
    assert S.goals(none).measured.iloc[1].startswith("at recall@10 >= 0.95: none; at >= 10x: ")


def test_c_kernels_the_faster_exhaustive_scan_and_exact_mih():
    """With dmh's scan faster than faiss flat, speed-ups are over the scan (and over flat
    in their own column); the exhaustive goal holds by the scan; mih's exact top 10 at
    15x the scan's speed holds the sub-linear goal; the billion-face plan scans with it."""
    recs = [record(c_kernels=True)]
    df = S.rows_frame(recs)
    best = S.exhaustive_best(df).loc[(10_000, "10")]
    assert best.exhaustive == "scan" and best.single_p50_ms_ex == pytest.approx(0.015)
    r = S.recall_table(df).set_index(["n", "backend", "k"])
    assert r.loc[(10_000, "multihash 3x16 nflip=2", "10"), S.UP] == pytest.approx(0.015 / 0.004)
    assert r.loc[(10_000, "multihash 3x16 nflip=2", "10"), "speed-up over faiss flat"] == pytest.approx(5.0)
    assert r.loc[(10_000, "mih 3 tables", "10"), S.UP] == pytest.approx(15.0)
    assert r.loc[(10_000, "mih 3 tables", "10"), "speed-up (batch)"] == pytest.approx(0.012 / 0.0008)
    g = S.goals(df)
    assert g.holds.tolist() == [True, True, True]
    assert g.measured.iloc[0].startswith("bound 0.01 ms; one query: scan 0.02 ms = 1.60x (in a batch "
                                         "of 1000 1.40x); flat 0.03 ms = 3.00x")
    assert g.measured.iloc[1].startswith("at recall@10 >= 0.95: mih 3 tables 15.00x scan's speed "
                                         "(20.00x faiss flat's)")
    drawn = S.most_accurate(df)
    assert set(drawn[drawn.kind == "mih"].backend) == {"mih 3 tables"}  # equal recall: the faster
    assert "mih" not in set(S.reach_table(df, 10_000).backend.str.split().str[0])
    plan = SP.shard_plan(recs, df)
    assert set(plan.scan) == {"scan"} and plan["top-100 one query (ms)"].iloc[0] == pytest.approx(1600.0)
    t = SP.beyond_exhaustive(recs, df).set_index(["backend", "k"])
    assert t.loc[("scan", "100"), "recall"] == 1.0 and ("mih 3 tables", "10") in t.index
    slow = SP.beyond_exhaustive(recs, df[df.backend != "mih 3 tables"]).set_index(["backend", "k"])
    assert slow.loc[("mih 2 tables", "10"), "measured slope"] == pytest.approx(-math.log10(2))
    assert slow.loc[("mih 2 tables", "10"), "slope used"] == 0.0  # not faster still


def test_radius_sweep_and_where_sub_linear_stops_paying():
    """mih at 0.001 ms up to radius 4, 0.02 ms at 8; the scan 0.01 ms at any radius: mih is
    faster up to radius 4 (10x), slower at 8 (0.5x)."""
    rec = record(c_kernels=True)
    for r, mih_ms in ((0, 0.001), (4, 0.001), (8, 0.02)):
        rec["rows"] += [_row(10_000, "scan", "scan", f"r<={r}", 0.01, 0.01, 8, recall=1.0),
                        _row(10_000, "mih 3 tables", "mih", f"r<={r}", mih_ms, mih_ms, 56, recall=1.0)]
    df = S.rows_frame([rec])
    sw = S.radius_sweep(df).query("backend == 'mih 3 tables'").set_index("radius")
    assert sw.loc[4, S.UP] == pytest.approx(10.0) and sw.loc[8, S.UP] == pytest.approx(0.5)
    t = S.overtake_table(df).set_index(["n", "backend"])
    assert t.loc[(10_000, "mih 3 tables"), "faster than exhaustive up to radius"] == 4
    assert t.loc[(10_000, "mih 3 tables"), "radii measured"] == "0..8"
    # multihash's r<=6 (0.001 ms) beats flat's (0.01 ms): faster up to its only radius
    assert t.loc[(10_000, "multihash 3x16 nflip=2"), "faster than exhaustive up to radius"] == 6


def test_extrapolation_to_a_billion():
    recs = [record()]
    df = S.rows_frame(recs)
    mem = SP.memory_at(recs, df).set_index("what")
    assert mem.loc["source keys (UTF-8 paths + int64 offsets)", "bytes per face"] == 48
    assert mem.loc["faiss flat (exhaustive) index", "GB at 1e9 faces"] == pytest.approx(8.0)
    assert mem.loc["Milvus Lite (BIN_FLAT) index", "GB at 1e9 faces"] == pytest.approx(120.0)
    assert mem.loc["128-d float32 embedding", "GB at 1e9 faces"] == pytest.approx(512.0)
    plan = SP.shard_plan(recs, df)  # half of 16 GB per shard
    codes, full, small = plan.to_dict("records")
    assert codes["shards"] == 1 and codes["bound (ms)"] == pytest.approx(1000.0)  # 8 GB at 8 GB/s
    assert codes["top-10 one query (ms)"] == pytest.approx(2000.0)
    assert codes["top-100 one query (ms)"] == pytest.approx(3000.0)
    assert codes["top-10 queries/s per shard thread"] == pytest.approx(1 / 1.5)
    assert full["shards"] == 9 and full["faces per shard"] == 111_111_112  # 72 GB over 8 GB
    assert full["GB per shard"] == pytest.approx(111_111_112 * 72 / 1e9)
    assert full["top-100 one query (ms)"] == pytest.approx(111_111_112 * 8 / BW * 1e3 * 3)
    assert small["shards"] == 100_000 and small["top-100 one query (ms)"] == pytest.approx(0.03)
    assert SP.shard_plan(recs, df, ram=64e9).shards.tolist() == [1, 3, 100_000]
    t = SP.beyond_exhaustive(recs, df).set_index(["backend", "k"])
    col = "per shard of 1.1e+08 (ms)"
    part = 111_111_112 / 10_000
    assert t.loc[("flat", "100"), col] == pytest.approx(0.03 * part)
    assert t.loc[("multihash 3x16 nflip=2", "r<=6"), col] == pytest.approx(0.001 * 2 ** math.log10(part))
    assert t.loc[("multihash 3x16 nflip=2", "10"), "recall"] == pytest.approx(0.97)
    ivf = t.loc[("Milvus BIN_IVF_FLAT nlist=1024 nprobe=16 (estimate)", "10"), col]
    assert ivf == pytest.approx(1.0 * part * 16 / 1024)


def test_setup_table_and_bad_records():
    s = S.setup_table([record()]).iloc[0]
    assert s.command == ("python benchmarks/bench_index.py --codes codes.npz --sizes 1e3 1e4 --backends "
                         "flat hash multihash milvus --queries 1000 --json results/bench/index-test.json")
    assert s["query flips (bits)"] == 12 and s["read GB/s"] == 8
    with pytest.raises(RecordError, match="x.json: not a bench_index record"):
        S.check_record({"rows": []}, "x.json")
    rec = record()
    del rec["rows"][0]["single_p50_ms"]
    with pytest.raises(RecordError, match=r"rows \[0\]"):
        S.check_record(rec, "y.json")


def test_missing_records_name_the_command(tmp_path):
    from dmh.run.store import MissingRecord

    with pytest.raises(MissingRecord, match="bench_index.py"):
        S.load_records(tmp_path)
    (tmp_path / "index-bad.json").write_text("{not json")
    with pytest.raises(RecordError, match="not valid JSON"):
        S.load_records(tmp_path)
    (tmp_path / "index-bad.json").write_text(json.dumps(record()))
    assert len(S.load_records(tmp_path)) == 1


def test_every_committed_record_loads():
    recs = S.load_records()
    assert {r["file"] for r in recs} >= {"index-1e4-1e6.json", "index-1e7.json", "index-1e7-milvus.json"}
    df = S.rows_frame(recs)
    assert df.n.max() >= 10_000_000 and not df.duplicated(["n", "backend", "k"]).any()
    assert set(df.kind) == set(S.FAMILIES)
    assert S.goals(df).shape == (3, 4)
    assert len(SP.shard_plan(recs, df)) == 3 and len(SP.beyond_exhaustive(recs, df)) >= 5
