"""Reference codes that need no training: random bits and LSH of the raw pixels.

They are the floor every learned method must beat on the same split and metric.
"""
from __future__ import annotations

import time

import numpy as np

from .baselines import LSH, RandomCodes
from .codes import encode_signs
from .data import load_protocol
from .metrics import evaluate_codes


def evaluate_projection(method, parts: dict, n_bits: int) -> dict:
    """Fit `method` on the gallery (= training set) pixels and score query vs gallery codes."""
    gallery, query = parts["gallery"], parts["query"]
    method.fit(gallery.images.astype(np.float32))
    gcodes = encode_signs(method.project(gallery.images.astype(np.float32)))
    qcodes = encode_signs(method.project(query.images.astype(np.float32)))
    return evaluate_codes(qcodes, gcodes, query.labels, gallery.labels, n_bits)


def floors(datasets=("lfw", "pins"), bits=(12, 24, 36, 48), seed: int = 0) -> list[dict]:
    rows = []
    for ds in datasets:
        t = time.perf_counter()
        parts, split = load_protocol(ds)
        load_s = time.perf_counter() - t
        for k in bits:
            for name, cls in (("random", RandomCodes), ("lsh_pixels", LSH)):
                m = evaluate_projection(cls(n_bits=k, seed=seed), parts, k)
                rows.append({"dataset": ds, "method": name, "bits": k, "seed": seed,
                             "n_identities": split["n_identities"],
                             "n_queries": len(parts["query"]), "n_gallery": len(parts["gallery"]),
                             "split_checksum": split["split_checksum"],
                             "data_load_s": round(load_s, 2),
                             "map_all": m["map_all"], "map_all_stable": m["map_all_stable"],
                             "p_at_r2": m["p_at_r2"], "p_at_10": m["precision_at_k"][10]})
    return rows
