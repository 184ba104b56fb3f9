"""Retrieval examples of a trained run, kept as a small record beside the run records: a few
seeded test queries' top-k lists (image keys, identities, Hamming distances) and the count of
query-gallery pairs at each distance, same person and different people. A book build reads
the record, not the weights: the weights are not committed and take an hour to retrain."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..core.config import TrainConfig
from ..core.provenance import provenance
from ..retrieval import hamming_distances, hamming_topk
from .records import RecordError
from .store import read_json

N_QUERIES, TOP_K, QUERY_SEED = 6, 10, 0
PAIRS = ("same person", "different people")
# per query, one entry per retrieved item; `top_queried`: is that person among the queried
# people at all (open protocols' distractors are not)
FIELDS = ("top_keys", "top_identities", "top_distances", "top_correct", "top_queried")


def pick_queries(labels: np.ndarray, n: int, seed: int) -> np.ndarray:
    """`n` query indices, one per identity drawn without replacement, seeded."""
    rng = np.random.default_rng(seed)
    ids = rng.choice(np.unique(labels), size=min(n, len(np.unique(labels))), replace=False)
    return np.array([rng.choice(np.flatnonzero(labels == i)) for i in ids])


def top_k_lists(qcodes, gcodes, qlabels, glabels, n: int = N_QUERIES, k: int = TOP_K,
                seed: int = QUERY_SEED) -> dict:
    """The top-k gallery items (ties in gallery order) of `n` seeded queries, one per identity."""
    qidx = pick_queries(qlabels, n, seed)
    d, idx = hamming_topk(qcodes[qidx], gcodes, k)
    return {"query_index": qidx, "gallery_index": idx, "distance": d,
            "correct": glabels[idx] == qlabels[qidx][:, None]}


def distance_counts(qcodes, gcodes, qlabels, glabels, bits: int) -> dict[str, list[int]]:
    """Query-gallery pairs at each Hamming distance 0..bits, same person and different people."""
    dist = hamming_distances(qcodes, gcodes)
    same = qlabels[:, None] == glabels[None, :]
    return {name: np.bincount(dist[mask], minlength=bits + 1).tolist()
            for name, mask in zip(PAIRS, (same, ~same))}


def examples_from_codes(qc, gc, query, gallery, bits: int, k: int = TOP_K) -> dict:
    """The record's lists from codes of the test queries and gallery (face sets with `keys`,
    `labels`, `identities`)."""
    top = top_k_lists(qc, gc, query.labels, gallery.labels, k=k)
    keys = lambda fs, idx: [fs.keys[i] for i in idx]  # noqa: E731
    who = lambda fs, idx: [fs.identities[fs.labels[i]] for i in idx]  # noqa: E731
    return {"n_query": len(query.keys), "n_gallery": len(gallery.keys),
            "query_keys": keys(query, top["query_index"]),
            "query_identities": who(query, top["query_index"]),
            "top_keys": [keys(gallery, row) for row in top["gallery_index"]],
            "top_identities": [who(gallery, row) for row in top["gallery_index"]],
            "top_distances": top["distance"].tolist(), "top_correct": top["correct"].tolist(),
            "top_queried": np.isin(gallery.labels[top["gallery_index"]], query.labels).tolist(),
            "pairs_at_distance": distance_counts(qc, gc, query.labels, gallery.labels, bits)}


def examples_record(cfg: TrainConfig) -> dict:
    """The examples record of a finished run, from its checkpoint (`ensure_checkpoint` first)."""
    from .checkpoint import load_trained
    from .encode import encode
    from .fit import protocol_parts
    from .store import checkpoint_path

    t = time.perf_counter()
    model, norm, cfg = load_trained(str(checkpoint_path(cfg)))
    _, query, gallery, _ = protocol_parts(cfg)
    qc, gc = encode(model, query.images, norm).codes, encode(model, gallery.images, norm).codes
    return {"name": cfg.name(), "config": cfg.to_dict(), **provenance(threads=cfg.threads),
            **examples_from_codes(qc, gc, query, gallery, cfg.bits),
            "wall_s": round(time.perf_counter() - t, 1)}


def _marks_agree(d: dict) -> bool:
    """The marks are derived from the identities, so a record that contradicts them is spoiled:
    'same person' is the query's identity; 'queried' is one answer per identity, true for
    every query's own."""
    queried = {}
    for q, ids, same, asked in zip(d["query_identities"], d["top_identities"], d["top_correct"],
                                   d["top_queried"]):
        if list(same) != [t == q for t in ids]:
            return False
        for t, m in [(q, True), *zip(ids, asked)]:
            if queried.setdefault(t, m) != m:
                return False
    return True


def read_examples(path: Path) -> dict:
    """An examples record, checked: a one-line error naming the file and the fix otherwise."""
    d = read_json(path)
    fix = "delete it and rerun the command that made it (`dmh grid examples-<dataset>`)"
    try:
        rows, k = len(d["query_keys"]), len(d["top_keys"][0]) if d["top_keys"] else 0
        shapes = [len(d["query_identities"]), *(len(d[f]) for f in FIELDS)]
        inner = [len(r) for f in FIELDS for r in d[f]]
        bits = d["config"]["bits"]
        counts = [d["pairs_at_distance"][p] for p in PAIRS]
        ok = (set(shapes) == {rows} and set(inner) <= {k}
              and all(len(c) == bits + 1 and all(isinstance(n, int) and n >= 0 for n in c) for c in counts)
              and all(isinstance(x, int) and 0 <= x <= bits for r in d["top_distances"] for x in r)
              and all(list(r) == sorted(r) for r in d["top_distances"]))
        agree = _marks_agree(d)
    except (KeyError, TypeError, IndexError) as e:
        raise RecordError(f"{path}: not an examples record (missing or malformed {e}); {fix}") from None
    if not ok:
        raise RecordError(f"{path}: an examples record whose lists disagree in length or range; {fix}")
    if not agree:
        raise RecordError(f"{path}: an examples record whose 'same person' or 'queried' marks contradict its identities; {fix}")
    return d


__all__ = ["distance_counts", "examples_from_codes", "examples_record", "read_examples", "top_k_lists"]
