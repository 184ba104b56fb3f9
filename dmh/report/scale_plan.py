"""Retrieval at scale, a billion faces: the memory each part of an index takes, the shards
that hold it, and one query's latency per shard, worked from the committed benchmark
records (dmh.report.scale reads them) by the measured bytes per face, read bandwidth and
ratios to the bandwidth bound; sub-linear searches along their measured log-log slope."""
from __future__ import annotations

import math

import pandas as pd

from .scale import EXHAUSTIVE, FAMILIES, SUBLINEAR, _one, e, most_accurate, slope


def _largest(records: list[dict], df: pd.DataFrame) -> tuple[int, dict]:
    """The largest size of the exhaustive faiss search, and the record that measured it."""
    n = int(df[df.kind == "flat"].n.max())
    return n, next(r for r in records if r["file"] == _one(df, kind="flat", n=n, k="10").record)


def fastest_exhaustive(df: pd.DataFrame, n: int) -> str:
    """The exhaustive backend with the fastest one-query top-100 at size n."""
    ex = df[df.kind.isin(EXHAUSTIVE) & (df.n == n) & (df.k == "100")]
    return str(ex.sort_values("single_p50_ms").iloc[0].kind)


def memory_at(records: list[dict], df: pd.DataFrame, target: float = 1e9) -> pd.DataFrame:
    """Bytes per face of what an index holds (the real index's arrays, and each backend as
    measured at its largest size), and what `target` faces take."""
    lay = _largest(records, df)[1].get("index_bytes_per_face") or {}
    parts = (("codes (as stored, packed bits)", ["codes"]), ("face ids (int64)", ["ids"]),
             ("identity labels (int64)", ["labels"]),
             ("source keys (UTF-8 paths + int64 offsets)", ["key_bytes", "key_offsets"]))
    rows = [(what, sum(lay[a] for a in arrays), "dmh index file") for what, arrays in parts
            if all(a in lay for a in arrays)]
    for kind in ("flat", "scan", "multihash", "hash", "mih", "milvus", "float", "embedding"):
        t = most_accurate(df[df.kind == kind])
        if len(t):
            r = t[t.n == t.n.max()].iloc[0]
            rows.append((FAMILIES[kind] + ("" if kind == "embedding" else " index"), r.bytes_per_face,
                         f"{r.backend}, n={e(r.n)}"))
    t = pd.DataFrame(rows, columns=["what", "bytes per face", "measured on"])
    t[f"GB at {e(target)} faces"] = t["bytes per face"] * target / 1e9
    return t


def shard_plan(records: list[dict], df: pd.DataFrame, target: float = 1e9, usable: float = 0.5,
               ram: float | None = None, kind: str | None = None) -> pd.DataFrame:
    """Exhaustive search of `target` faces split over shards that each scan their part in
    parallel: the fewest shards whose index fits in `usable` of `ram` (default: the
    benchmark machine's RAM), with codes only and with ids, labels and keys too; and shards
    of the largest size measured. Latency = the part's bytes / the measured read bandwidth
    (one thread per query) times the ratio to that bound measured at the largest size by
    the exhaustive backend `kind` (default: the faster one there)."""
    n, rec = _largest(records, df)
    kind = kind or fastest_exhaustive(df, n)
    ram = ram or rec["machine_ram_bytes"]
    mem = memory_at(records, df, target).set_index("what")["bytes per face"]
    code = _one(df, kind=kind, n=n, k="100").bytes_per_face
    meta = sum(v for w, v in mem.items() if w.startswith(("face ids", "identity", "source keys")))
    plans = [(what, math.ceil(target * b / (ram * usable)), b) for what, b in (
        ("codes in RAM", code), ("codes + ids, labels, keys in RAM", code + meta))]
    out = []
    for what, shards, b in plans + [(f"shards of {e(n)} faces (as measured)", math.ceil(target / n), code)]:
        part = math.ceil(target / shards)
        row = {"plan": what, "scan": kind, "shards": shards, "faces per shard": part,
               "GB per shard": part * b / 1e9, "RAM per shard (GB)": ram / 1e9}
        for k in ("10", "100"):
            f = _one(df, kind=kind, n=n, k=k)
            row["bound (ms)"] = bound = part * f.bytes_per_face / f.bandwidth * 1e3
            row[f"top-{k} one query (ms)"] = bound * f.single_p50_ms / f.scan_bound_ms
            row[f"top-{k} queries/s per shard thread"] = 1e3 * f.scan_bound_ms / (
                bound * f.batch_ms_per_query)
        out.append(row)
    return pd.DataFrame(out)


def beyond_exhaustive(records: list[dict], df: pd.DataFrame, target: float = 1e9,
                      shards: int | None = None) -> pd.DataFrame:
    """What changes at `target` faces in `shards` parts (default: the plan with ids, labels
    and keys in RAM): one query's latency per part, exhaustive searches linear in the part,
    sub-linear ones along their measured log-log slope between their two largest sizes (at
    least 0); and
    Milvus BIN_IVF_FLAT scanning nprobe/nlist of a part with dmh's defaults (an estimate:
    Milvus Lite has only BIN_FLAT)."""
    import inspect

    from ..index.milvus import MilvusBinary

    shards = shards or int(shard_plan(records, df, target).shards.iloc[1])
    part, rows = math.ceil(target / shards), []
    for kind, k in (("flat", "100"), ("scan", "100"), ("flat", "r<=6"), ("scan", "r<=6"),
                    ("multihash", "r<=6"), ("mih", "r<=6"), ("multihash", "10"), ("mih", "10"),
                    ("milvus", "10")):
        if not ((df.kind == kind) & (df.k == k)).any():
            continue
        # radius search is exact at any setting: its fastest; top-k: the most accurate
        t = df[(df.kind == kind) & (df.k == k)].sort_values("single_p50_ms") if k == "r<=6" \
            else most_accurate(df[df.kind == kind])
        t = t[t.k == k]
        r = t[t.n == t.n.max()].iloc[0]
        n, a = int(r.n), slope(df, r.backend, k)
        # a search that got faster with n (mih top-k: nearer neighbours, fewer flips) is not
        # assumed to get faster still
        used = max(a, 0.0) if kind in SUBLINEAR else 1.0
        rows.append({"backend": r.backend, "k": k, "n measured": n, "one query (ms)": r.single_p50_ms,
                     "measured slope": a, "slope used": used,
                     "recall": 1.0 if kind in EXHAUSTIVE else r.recall,
                     f"per shard of {part:.1e} (ms)": r.single_p50_ms * (part / n) ** used})
    nlist, nprobe = (inspect.signature(MilvusBinary).parameters[x].default for x in ("nlist", "nprobe"))
    m = df[(df.kind == "milvus") & (df.k == "10")].sort_values("n").iloc[-1]
    rows.append({"backend": f"Milvus BIN_IVF_FLAT nlist={nlist} nprobe={nprobe} (estimate)",
                 "k": "10", "n measured": int(m.n), "one query (ms)": m.single_p50_ms,
                 "measured slope": float("nan"), "slope used": 1.0, "recall": float("nan"),
                 f"per shard of {part:.1e} (ms)": m.single_p50_ms * part / m.n * nprobe / nlist})
    return pd.DataFrame(rows)
