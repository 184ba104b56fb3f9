"""Retrieval at scale: tables and figures' data from the committed records of
`benchmarks/bench_index.py` (results/bench/index-*.json), and their extrapolation to a
billion faces. Pure functions over the records' JSON; the only inputs not measured are the
arguments (the target size, the share of a machine's RAM an index may use, the goals)."""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from ..run.records import RecordError
from ..run.store import MissingRecord, paper_store, read_json

BENCH = "python benchmarks/bench_index.py"
FAMILIES = {  # a row's kind -> its name in tables and figures, in drawing order
    "flat": "faiss flat (exhaustive)", "hash": "faiss hash", "multihash": "faiss multihash",
    "milvus": "Milvus Lite (BIN_FLAT)", "float": "float32 48-d IndexFlatIP",
    "flat raw": "faiss flat, no tie order", "embedding": "128-d float32 embedding"}
SUBLINEAR = ("hash", "multihash")
UP = "speed-up (one query)"
_NEEDED = ("provenance", "faiss", "args", "query_flip", "read_bandwidth_bytes_s", "rows")
_ROW = {"n", "backend", "kind", "k", "bytes_per_face"}


def check_record(rec: dict, where: str) -> dict:
    """A benchmark record with the fields the chapter reads, or a one-line RecordError."""
    missing, timed = [f for f in _NEEDED if f not in rec], _ROW | {"single_p50_ms", "batch_p50_s"}
    bad = [i for i, r in enumerate(rec.get("rows", [])) if r.get("kind") not in FAMILIES
           or not (_ROW if r.get("k") == "-" else timed) <= r.keys()]
    if missing or bad or not rec.get("rows"):
        raise RecordError(f"{where}: not a bench_index record (missing {missing}, rows {bad[:5]} "
                          f"incomplete); rerun `{BENCH} ... --json {where}`")
    return rec | {"file": Path(where).name}


def load_records(folder: Path | None = None) -> list[dict]:
    """Every results/bench/index-*.json, checked, in file-name order."""
    folder = Path(folder) if folder else paper_store().root / "bench"
    paths = sorted(folder.glob("index-*.json"))
    if not paths:
        raise MissingRecord(f"no benchmark record {folder}/index-*.json: run `{BENCH} --codes "
                            f"CODES.npz --json {folder}/index-SIZES.json`")
    return [check_record(read_json(p), str(p)) for p in paths]


def e(n: float) -> str:
    """1e+07 -> "1e7"."""
    return f"{n:.0e}".replace("e+0", "e").replace("e+", "e")


def rows_frame(records: list[dict]) -> pd.DataFrame:
    """One row per measurement; k as text ("10", "r<=6", "-"); a measurement repeated in a
    later record is dropped. Adds family, batch size, the record's read bandwidth and the
    batch time per query and per 1,000 queries."""
    out = [dict(row, k=str(row["k"]), queries=row.get("queries", rec["args"]["queries"]),
                bandwidth=rec["read_bandwidth_bytes_s"], record=rec["file"])
           for rec in records for row in rec["rows"]]
    df = pd.DataFrame(out).drop_duplicates(["n", "backend", "k"], keep="first")
    for col in ("single_p50_ms", "batch_p50_s", "scan_bound_ms", "recall", "recall_id", "exact_match"):
        df[col] = df[col].astype(float) if col in df else float("nan")
    df["family"] = df.kind.map(FAMILIES)
    df["batch_ms_per_query"] = df.batch_p50_s / df.queries * 1e3
    df["batch_1000_s"] = df.batch_p50_s * 1000 / df.queries
    return df.reset_index(drop=True)


def _one(df: pd.DataFrame, **eq) -> pd.Series:
    sel = df[(df[list(eq)] == pd.Series(eq)).all(axis=1)]
    if len(sel) != 1:
        raise KeyError(f"{len(sel)} benchmark rows with {eq}; expected one")
    return sel.iloc[0]


def most_accurate(df: pd.DataFrame) -> pd.DataFrame:
    """The rows the figures draw: every exhaustive backend, and per sub-linear family and
    size the setting with the highest recall@10 (ties: the faster one), at every k."""
    sub = df[df.kind.isin(SUBLINEAR) & (df.k == "10")]
    top = sub.sort_values(["recall", "single_p50_ms"], ascending=[False, True]).groupby(["kind", "n"]).head(1)
    best = set(zip(top.n, top.backend))
    return df[[k not in SUBLINEAR or (n, b) in best for k, n, b in zip(df.kind, df.n, df.backend)]]


def latency_lines(df: pd.DataFrame) -> pd.DataFrame:
    """The headline figure's lines: family, n, k, one query's p50 (ms), 1,000 queries (s) and
    recall, for the backends searched top-k (sub-linear: the most accurate setting) and the
    bandwidth bound of one exhaustive scan of the faiss flat index."""
    t = most_accurate(df[df.k.isin(["10", "100"]) & df.kind.isin(["flat", "milvus", "float", *SUBLINEAR])])
    bound = df[(df.kind == "flat") & df.k.isin(["10", "100"])].assign(
        family="bandwidth bound (flat scan)", single_p50_ms=lambda x: x.scan_bound_ms,
        batch_1000_s=lambda x: x.scan_bound_ms)  # 1,000 scans of ms each = that many s
    cols = ["family", "backend", "n", "k", "single_p50_ms", "batch_1000_s", "recall"]
    return pd.concat([t[cols], bound[cols]], ignore_index=True)


def bound_table(df: pd.DataFrame) -> pd.DataFrame:
    """Exhaustive scans against one scan's memory-bandwidth bound (bytes / read bandwidth):
    one query's p50 latency and the time per query in a batch, as multiples of the bound."""
    t = df[df.scan_bound_ms.notna() & df.single_p50_ms.notna()].copy()
    t["one query / bound"] = t.single_p50_ms / t.scan_bound_ms
    t["in a batch / bound"] = t.batch_ms_per_query / t.scan_bound_ms
    cols = ["n", "backend", "k", "bytes_per_face", "scan_bound_ms", "single_p50_ms",
            "batch_ms_per_query", "one query / bound", "in a batch / bound"]
    by_k = lambda c: c.str.len() if c.name == "k" else c  # noqa: E731  10, 100, r<=6
    return t[cols].sort_values(["n", "backend", "k"], key=by_k).reset_index(drop=True)


def speedups(df: pd.DataFrame, kinds=SUBLINEAR + ("milvus",)) -> pd.DataFrame:
    """Rows of `kinds` with the exhaustive faiss flat search's time at the same size and k
    divided by theirs (> 1: faster than exhaustive), one query and per query in a batch."""
    flat = df[df.kind == "flat"].set_index(["n", "k"])[["single_p50_ms", "batch_ms_per_query"]]
    t = df[df.kind.isin(kinds)].join(flat.add_suffix("_flat"), on=["n", "k"])
    t[UP] = t.single_p50_ms_flat / t.single_p50_ms
    t["speed-up (batch)"] = t.batch_ms_per_query_flat / t.batch_ms_per_query
    return t.reset_index(drop=True)


def recall_table(df: pd.DataFrame, k=("10", "100")) -> pd.DataFrame:
    """Sub-linear settings: recall@k (tie-aware: ranks at the exact distance; by id), the
    share of queries ranked exactly as exhaustive search, and the speed-ups."""
    t = speedups(df, SUBLINEAR)
    cols = ["n", "backend", "k", "recall", "recall_id", "exact_match", "single_p50_ms", UP,
            "speed-up (batch)", "bytes_per_face"]
    t = t[t.k.isin(k)][cols].sort_values(["n", "k", "recall"], ascending=[True, True, False])
    return t.reset_index(drop=True)


def flips_needed(distance: float, nhash: int, b: int) -> int:
    """Bit flips per table a hash search needs to be sure to find an item at `distance`:
    by pigeonhole one of `nhash` disjoint substrings differs in <= distance // nhash bits."""
    return min(int(distance) // nhash, b)


def buckets(b: int, nflip: int) -> int:
    """Buckets of a b-bit key within nflip flips: sum_{i<=nflip} C(b, i)."""
    return sum(math.comb(b, i) for i in range(nflip + 1))


def reach_table(df: pd.DataFrame, n: int, k: str = "10") -> pd.DataFrame:
    """Per sub-linear setting at size n: flips visited vs flips needed to be sure of the
    median k-th neighbour (its distance from the exhaustive search), and buckets visited."""
    d = float(_one(df, kind="flat", n=n, k=k).kth_distance["p50"])
    rows = []
    for _, r in df[df.kind.isin(SUBLINEAR) & (df.n == n) & (df.k == k)].iterrows():
        o, nh = r.options, r.options.get("nhash", 1)
        need = flips_needed(d, nh, o["b"])
        rows.append({"backend": r.backend, "faces per bucket": n / 2 ** o["b"],
                     f"median {k}th distance": d, "flips visited": o["nflip"],
                     "flips needed": need, "buckets visited": nh * buckets(o["b"], o["nflip"]),
                     "buckets needed": nh * buckets(o["b"], need), f"recall@{k}": r.recall})
    return pd.DataFrame(rows)


def goals(df: pd.DataFrame, n: int | None = None, bound_x: float = 2.0, speedup_x: float = 10.0,
          min_recall: float = 0.95) -> pd.DataFrame:
    """The three goals at size n (default the largest): goal, measured, holds."""
    n = int(n or df.n.max())
    f = _one(df, kind="flat", n=n, k="100")
    r1, r2 = f.single_p50_ms / f.scan_bound_ms, f.batch_ms_per_query / f.scan_bound_ms
    out = [(f"exhaustive top-100 within {bound_x:g}x of the bandwidth bound",
            f"one query {f.single_p50_ms:.2f} ms vs bound {f.scan_bound_ms:.2f} ms = {r1:.2f}x; "
            f"in a batch of {int(f.queries)} {r2:.2f}x", bool(r1 <= bound_x))]
    s = speedups(df, SUBLINEAR).query("n == @n and k == '10'")
    ok = s[s.recall >= min_recall].sort_values(UP, ascending=False)
    fast = s[s[UP] >= speedup_x].sort_values("recall", ascending=False)
    line = "; ".join([f"at recall@10 >= {min_recall}: " + (
        f"{ok.iloc[0].backend} {ok.iloc[0][UP]:.2f}x exhaustive's speed" if len(ok) else "none"),
        f"at >= {speedup_x:g}x: " + (f"{fast.iloc[0].backend} recall@10 {fast.iloc[0].recall:.3f}"
                                     if len(fast) else "none")])
    out.append((f"a sub-linear index >= {speedup_x:g}x faster than exhaustive at recall@10 >= "
                f"{min_recall}", line, bool(len(ok)) and bool(ok.iloc[0][UP] >= speedup_x)))
    m = df[df.kind == "milvus"]
    last, other = m[m.n == m.n.max()], m[m.n < m.n.max()]
    line = f"n={e(last.n.iloc[0])}, {int(last.queries.iloc[0])} queries: " + ", ".join(
        f"{'top-' + k if k.isdigit() else k} {v:.0%}" for k, v in zip(last.k, last.exact_match))
    line += f" identical; at {', '.join(e(x) for x in sorted(set(other.n)))}: " + (
        "all identical" if (other.exact_match == 1).all() else f"{other.exact_match.min():.0%} at worst")
    out.append(("Milvus's results equal faiss's", line, bool((m.exact_match == 1).all())))
    return pd.DataFrame(out, columns=["goal", "measured", "holds"]).assign(n=n)


def slope(df: pd.DataFrame, backend: str, k: str, col: str = "single_p50_ms") -> float:
    """Log-log growth of `col` with n between the two largest sizes `backend` ran at
    (1: linear in the gallery); NaN if it ran at one size."""
    t = df[(df.backend == backend) & (df.k == k)].sort_values("n").tail(2)
    y, x = t[col].to_numpy(), t.n.to_numpy()
    return float(math.log(y[1] / y[0]) / math.log(x[1] / x[0])) if len(t) == 2 else float("nan")


def _largest(records: list[dict], df: pd.DataFrame) -> tuple[int, dict]:
    """The largest size of the exhaustive faiss search, and the record that measured it."""
    n = int(df[df.kind == "flat"].n.max())
    return n, next(r for r in records if r["file"] == _one(df, kind="flat", n=n, k="10").record)


def memory_at(records: list[dict], df: pd.DataFrame, target: float = 1e9) -> pd.DataFrame:
    """Bytes per face of what an index holds (the real index's arrays, and each backend as
    measured at its largest size), and what `target` faces take."""
    lay = _largest(records, df)[1].get("index_bytes_per_face") or {}
    parts = (("codes (as stored, packed bits)", ["codes"]), ("face ids (int64)", ["ids"]),
             ("identity labels (int64)", ["labels"]),
             ("source keys (UTF-8 paths + int64 offsets)", ["key_bytes", "key_offsets"]))
    rows = [(what, sum(lay[a] for a in arrays), "dmh index file") for what, arrays in parts
            if all(a in lay for a in arrays)]
    for kind in ("flat", "multihash", "hash", "milvus", "float", "embedding"):
        t = most_accurate(df[df.kind == kind])
        if len(t):
            r = t[t.n == t.n.max()].iloc[0]
            rows.append((FAMILIES[kind] + ("" if kind == "embedding" else " index"), r.bytes_per_face,
                         f"{r.backend}, n={e(r.n)}"))
    t = pd.DataFrame(rows, columns=["what", "bytes per face", "measured on"])
    t[f"GB at {e(target)} faces"] = t["bytes per face"] * target / 1e9
    return t


def shard_plan(records: list[dict], df: pd.DataFrame, target: float = 1e9, usable: float = 0.5,
               ram: float | None = None) -> pd.DataFrame:
    """Exhaustive search of `target` faces split over shards that each scan their part in
    parallel: the fewest shards whose index fits in `usable` of `ram` (default: the
    benchmark machine's RAM), with codes only and with ids, labels and keys too; and shards
    of the largest size measured. Latency = the part's bytes / the measured read bandwidth
    (one thread per query) times the measured ratio to that bound at the largest size."""
    n, rec = _largest(records, df)
    ram = ram or rec["machine_ram_bytes"]
    mem = memory_at(records, df, target).set_index("what")["bytes per face"]
    code = _one(df, kind="flat", n=n, k="100").bytes_per_face
    meta = sum(v for w, v in mem.items() if w.startswith(("face ids", "identity", "source keys")))
    plans = [(what, math.ceil(target * b / (ram * usable)), b) for what, b in (
        ("codes in RAM", code), ("codes + ids, labels, keys in RAM", code + meta))]
    out = []
    for what, shards, b in plans + [(f"shards of {e(n)} faces (as measured)", math.ceil(target / n), code)]:
        part = math.ceil(target / shards)
        row = {"plan": what, "shards": shards, "faces per shard": part,
               "GB per shard": part * b / 1e9, "RAM per shard (GB)": ram / 1e9}
        for k in ("10", "100"):
            f = _one(df, kind="flat", n=n, k=k)
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
    sub-linear ones along their measured log-log slope between their two largest sizes; and
    Milvus BIN_IVF_FLAT scanning nprobe/nlist of a part with dmh's defaults (an estimate:
    Milvus Lite has only BIN_FLAT)."""
    import inspect

    from ..index.milvus import MilvusBinary

    shards = shards or int(shard_plan(records, df, target).shards.iloc[1])
    part, rows = math.ceil(target / shards), []
    for kind, k in (("flat", "100"), ("flat", "r<=6"), ("multihash", "r<=6"), ("multihash", "10"),
                    ("milvus", "10")):
        # radius search is exact at any setting: its fastest; top-k: the most accurate
        t = df[(df.kind == kind) & (df.k == k)].sort_values("single_p50_ms") if k == "r<=6" \
            else most_accurate(df[df.kind == kind])
        t = t[t.k == k]
        r = t[t.n == t.n.max()].iloc[0]
        n, a = int(r.n), slope(df, r.backend, k)
        used = a if kind in SUBLINEAR else 1.0
        rows.append({"backend": r.backend, "k": k, "n measured": n, "one query (ms)": r.single_p50_ms,
                     "measured slope": a, "slope used": used,
                     "recall": 1.0 if kind == "flat" else r.recall,
                     f"per shard of {part:.1e} (ms)": r.single_p50_ms * (part / n) ** used})
    nlist, nprobe = (inspect.signature(MilvusBinary).parameters[x].default for x in ("nlist", "nprobe"))
    m = df[(df.kind == "milvus") & (df.k == "10")].sort_values("n").iloc[-1]
    rows.append({"backend": f"Milvus BIN_IVF_FLAT nlist={nlist} nprobe={nprobe} (estimate)",
                 "k": "10", "n measured": int(m.n), "one query (ms)": m.single_p50_ms,
                 "measured slope": float("nan"), "slope used": 1.0, "recall": float("nan"),
                 f"per shard of {part:.1e} (ms)": m.single_p50_ms * part / m.n * nprobe / nlist})
    return pd.DataFrame(rows)


def setup_table(records: list[dict]) -> pd.DataFrame:
    """One row per record: what it measured, on what, with which codes, and the command
    line that made it (the codes file by its name)."""
    rows = []
    for r in records:
        a, hw, src, p = r["args"], r["provenance"]["hardware"], r.get("codes_source") or {}, r["bit_probs"]
        opts = (f" --codes {src.get('file', a.get('codes'))}" if a.get("codes") else "") + (
            " --no-reference" if a.get("no_reference") else "")
        rows.append({"record": r["file"], "sizes": " ".join(e(n) for n in a["sizes"]),
                     "backends": " ".join(a["backends"]), "batch": a["queries"],
                     "faiss threads": a["threads"], "faiss": r["faiss"],
                     "read GB/s": r["read_bandwidth_bytes_s"] / 1e9,
                     "RAM GB": r.get("machine_ram_bytes", float("nan")) / 1e9, "cpu": hw["cpu"],
                     "commit": r["provenance"]["git_commit"][:12],
                     "codes from": src.get("config_name", a.get("codes") or "p = 0.5"),
                     "p(bit=1)": f"{min(p):.2f}..{max(p):.2f}", "query flips (bits)": r["query_flip"] * len(p),
                     "command": f"{BENCH}{opts} --sizes {' '.join(e(n) for n in a['sizes'])} --backends "
                                f"{' '.join(a['backends'])} --queries {a['queries']} "
                                f"--json results/bench/{r['file']}"})
    return pd.DataFrame(rows)
