"""Training and encoding throughput of DMH, its ablation variants and every deep baseline.

Prints images/s for forward+backward+SGD step (batch 256, 32x32) and for encoding, and the
share of a training step spent outside the model (batch indexing, augmentation,
normalization) in the same loop `dmh.train` runs. Usage:
    python benchmarks/bench_train.py [--threads 2] [--steps 20] [--classes 105] [--bits 48]
        [--json results/bench/train-throughput.json]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from dmh.comparison import DEEP_METHODS
from dmh.core.config import TrainConfig
from dmh.methods import build_method
from dmh.models import count_parameters
from dmh.train import Normalizer, prepare_batch, sgd_step


def bench(model, criterion, images, labels, norm, steps, batch, warmup=3):
    opt = torch.optim.SGD(list(model.parameters()) + list(criterion.parameters()), lr=0.01,
                          momentum=0.9)
    gen = torch.Generator().manual_seed(0)
    n = len(images)
    t_data = t_model = 0.0
    for step in range(warmup + steps):
        t0 = time.perf_counter()
        idx = torch.randint(0, n, (batch,), generator=gen)
        xb, yb = prepare_batch(images, labels, idx, norm, gen)
        t1 = time.perf_counter()
        sgd_step(model, criterion, opt, xb, yb)
        t2 = time.perf_counter()
        if step >= warmup:
            t_data += t1 - t0
            t_model += t2 - t1
    train_ips = steps * batch / (t_data + t_model)
    model.eval()
    with torch.no_grad():
        x = norm(images[:1024])
        model.forward_head(model.forward_features(x))
        t0 = time.perf_counter()
        for _ in range(3):
            model.forward_head(model.forward_features(norm(images[:1024])))
        enc_ips = 3 * 1024 / (time.perf_counter() - t0)
    model.train()
    return train_ips, enc_ips, t_data / (t_data + t_model)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--classes", type=int, default=105)
    p.add_argument("--bits", type=int, default=48)
    p.add_argument("--json", type=Path, default=None, help="also write the rows here (atomic)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    images = torch.from_numpy(rng.integers(0, 256, (4096, 3, 32, 32), dtype=np.uint8))
    labels = torch.from_numpy(rng.integers(0, a.classes, 4096))
    norm = Normalizer([0.5] * 3, [0.25] * 3)
    rows = []
    variants = [("DMH dense + conv-GAP (default)", TrainConfig(bits=a.bits)),
                ("DMH plain + conv-GAP", TrainConfig(bits=a.bits, trunk="plain")),
                ("DMH dense + FC head", TrainConfig(bits=a.bits, head="fc"))]
    # the comparison chapter's baselines, each with its own network and loss
    variants += [(m, TrainConfig(bits=a.bits, method=m)) for m in DEEP_METHODS if m != "dmh"]
    for name, cfg in variants:
        torch.manual_seed(0)
        model, crit = build_method(cfg, a.classes)
        rows.append((name, cfg.method, count_parameters(model),
                     *bench(model, crit, images, labels, norm, a.steps, a.batch)))
    head = (f"torch {torch.__version__}, {a.threads} threads, batch {a.batch}, 32x32, "
            f"{a.classes} classes, {a.bits} bits, {a.steps} timed steps")
    print(head)
    print(f"{'model':34s} {'params':>9s} {'train img/s':>12s} {'encode img/s':>13s} {'outside model':>14s}")
    for name, _, n, tr, enc, share in rows:
        print(f"{name:34s} {n:9d} {tr:12.0f} {enc:13.0f} {100 * share:13.1f}%")
    if a.json:
        from dmh.core.atomic import write_json
        from dmh.core.provenance import provenance

        write_json(a.json, {"setting": head, **provenance(a.threads),
                            "rows": [{"model": name, "method": m, "parameters": n,
                                      "train_img_per_s": round(tr, 1), "encode_img_per_s": round(enc, 1),
                                      "share_outside_model": round(share, 4)}
                                     for name, m, n, tr, enc, share in rows]})


if __name__ == "__main__":
    main()
