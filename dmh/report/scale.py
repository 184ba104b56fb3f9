"""Retrieval at scale: tables and figures' data from the committed records of
`benchmarks/bench_index.py` (results/bench/index-*.json), and their extrapolation to a
billion faces. Pure functions over the records' JSON; the only inputs not measured are the
arguments (the target size, the share of a machine's RAM an index may use, the goals).
The extrapolation to a billion faces is in dmh.report.scale_plan."""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from ..run.records import RecordError
from ..run.store import MissingRecord, paper_store, read_json

BENCH = "python benchmarks/bench_index.py"
FAMILIES = {  # a row's kind -> its name in tables and figures, in drawing order
    "flat": "faiss flat (exhaustive)", "scan": "dmh scan (exhaustive, C)",
    "hash": "faiss hash", "multihash": "faiss multihash",
    "mih": "dmh mih (exact multi-index hashing, C)",
    "milvus": "Milvus Lite (BIN_FLAT)", "float": "float32 48-d IndexFlatIP",
    "flat raw": "faiss flat, no tie order", "embedding": "128-d float32 embedding"}
EXHAUSTIVE = ("flat", "scan")  # dmh's exact scans of every code; speed-ups are over the faster
SUBLINEAR = ("hash", "multihash", "mih")
FAISS_HASH = ("hash", "multihash")  # fixed flips (nflip): their reach is a setting
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
    t = most_accurate(df[df.k.isin(["10", "100"]) & df.kind.isin([*EXHAUSTIVE, "milvus", "float", *SUBLINEAR])])
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


def exhaustive_best(df: pd.DataFrame) -> pd.DataFrame:
    """Per size and k, the faster exhaustive backend's one-query and in-batch times (each
    the faster of those measured, named in `exhaustive`, `exhaustive (batch)`)."""
    ex = df[df.kind.isin(EXHAUSTIVE)]
    one = ex.loc[ex.groupby(["n", "k"]).single_p50_ms.idxmin()].set_index(["n", "k"])
    many = ex.loc[ex.groupby(["n", "k"]).batch_ms_per_query.idxmin()].set_index(["n", "k"])
    return pd.DataFrame({"single_p50_ms_ex": one.single_p50_ms, "exhaustive": one.backend,
                         "batch_ms_per_query_ex": many.batch_ms_per_query,
                         "exhaustive (batch)": many.backend})


def speedups(df: pd.DataFrame, kinds=SUBLINEAR + ("milvus",), over: str | None = None) -> pd.DataFrame:
    """Rows of `kinds` with the exhaustive search's time at the same size and k divided by
    theirs (> 1: faster than exhaustive), one query and per query in a batch: over the
    faster exhaustive backend (default), or over the backend named `over` (e.g. "flat")."""
    ex = exhaustive_best(df if over is None else df[df.backend == over])
    t = df[df.kind.isin(kinds)].join(ex, on=["n", "k"])
    t[UP] = t.single_p50_ms_ex / t.single_p50_ms
    t["speed-up (batch)"] = t.batch_ms_per_query_ex / t.batch_ms_per_query
    return t.reset_index(drop=True)


def recall_table(df: pd.DataFrame, k=("10", "100")) -> pd.DataFrame:
    """Sub-linear settings: recall@k (tie-aware: ranks at the exact distance; by id), the
    share of queries ranked exactly as exhaustive search, and the speed-ups over the faster
    exhaustive backend (named) and over faiss flat."""
    t = speedups(df, SUBLINEAR)
    t["speed-up over faiss flat"] = speedups(df, SUBLINEAR, over="flat")[UP]
    cols = ["n", "backend", "k", "recall", "recall_id", "exact_match", "single_p50_ms", UP,
            "exhaustive", "speed-up (batch)", "speed-up over faiss flat", "bytes_per_face"]
    t = t[t.k.isin(k)][cols].sort_values(["n", "k", "recall"], ascending=[True, True, False])
    return t.reset_index(drop=True)


def radius_sweep(df: pd.DataFrame, kinds=("multihash", "mih")) -> pd.DataFrame:
    """Radius searches of `kinds` at every radius measured (column `radius`), with their
    speed-ups over the faster exhaustive search at the same size and radius."""
    t = speedups(df[df.k.str.startswith("r<=")], kinds)
    return t.assign(radius=t.k.str[3:].astype(int)).sort_values(["n", "backend", "radius"])


def overtake_table(df: pd.DataFrame) -> pd.DataFrame:
    """Per size and sub-linear setting: the radii measured, and the largest radius up to
    which it is faster than the faster exhaustive search (one query; -1: at none)."""
    t = radius_sweep(df)
    rows = []
    for (n, b), g in t.groupby(["n", "backend"], sort=False):
        faster = g[g[UP] > 1].radius
        rows.append({"n": n, "backend": b, "radii measured": f"{g.radius.min()}..{g.radius.max()}",
                     "faster than exhaustive up to radius": int(faster.max()) if len(faster) else -1,
                     "speed-up at the smallest radius": g[UP].iloc[0],
                     "speed-up at the largest radius": g[UP].iloc[-1]})
    return pd.DataFrame(rows)


def flips_needed(distance: float, nhash: int, b: int) -> int:
    """Bit flips per table a hash search needs to be sure to find an item at `distance`:
    by pigeonhole one of `nhash` disjoint substrings differs in <= distance // nhash bits."""
    return min(int(distance) // nhash, b)


def buckets(b: int, nflip: int) -> int:
    """Buckets of a b-bit key within nflip flips: sum_{i<=nflip} C(b, i)."""
    return sum(math.comb(b, i) for i in range(nflip + 1))


def reach_table(df: pd.DataFrame, n: int, k: str = "10") -> pd.DataFrame:
    """Per faiss hash setting at size n: flips visited vs flips needed to be sure of the
    median k-th neighbour (its distance from the exhaustive search), and buckets visited.
    (dmh's mih widens its flips per query until sure: no setting to compare.)"""
    d = float(_one(df, kind="flat", n=n, k=k).kth_distance["p50"])
    rows = []
    for _, r in df[df.kind.isin(FAISS_HASH) & (df.n == n) & (df.k == k)].iterrows():
        o, nh = r.options, r.options.get("nhash", 1)
        need = flips_needed(d, nh, o["b"])
        rows.append({"backend": r.backend, "faces per bucket": n / 2 ** o["b"],
                     f"median {k}th distance": d, "flips visited": o["nflip"],
                     "flips needed": need, "buckets visited": nh * buckets(o["b"], o["nflip"]),
                     "buckets needed": nh * buckets(o["b"], need), f"recall@{k}": r.recall})
    return pd.DataFrame(rows)


def goals(df: pd.DataFrame, n: int | None = None, bound_x: float = 2.0, speedup_x: float = 10.0,
          min_recall: float = 0.95) -> pd.DataFrame:
    """The three goals at size n (default the largest): goal, measured, holds. The
    exhaustive goal holds if one exhaustive backend meets it (each is listed); speed-ups
    are over the faster exhaustive backend (and, in the text, over faiss flat)."""
    n = int(n or df.n.max())
    ex = df[df.kind.isin(EXHAUSTIVE) & (df.n == n) & (df.k == "100")]
    ratio = (ex.single_p50_ms / ex.scan_bound_ms).set_axis(ex.backend)
    parts = [f"{b} {f.single_p50_ms:.2f} ms = {f.single_p50_ms / f.scan_bound_ms:.2f}x (in a batch of "
             f"{int(f.queries)} {f.batch_ms_per_query / f.scan_bound_ms:.2f}x)" for b, f in
             ex.sort_values("single_p50_ms").set_index("backend").iterrows()]
    out = [(f"exhaustive top-100 within {bound_x:g}x of the bandwidth bound",
            f"bound {ex.scan_bound_ms.iloc[0]:.2f} ms; one query: " + "; ".join(parts),
            bool((ratio <= bound_x).any()))]
    s = speedups(df, SUBLINEAR).query("n == @n and k == '10'")
    s = s.assign(flat_up=speedups(df, SUBLINEAR, over="flat").query("n == @n and k == '10'")[UP].to_numpy())
    ok = s[s.recall >= min_recall].sort_values(UP, ascending=False)
    fast = s[s[UP] >= speedup_x].sort_values("recall", ascending=False)
    line = "; ".join([f"at recall@10 >= {min_recall}: " + (
        f"{ok.iloc[0].backend} {ok.iloc[0][UP]:.2f}x {ok.iloc[0].exhaustive}'s speed "
        f"({ok.iloc[0].flat_up:.2f}x faiss flat's)" if len(ok) else "none"),
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
