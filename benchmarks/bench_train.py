"""Training and encoding throughput per device and per strategy.

Rows: every registered method (and DMH's trunk and head variants) trained one model at a
time, the step `dmh.run.fit` takes (batch drawn, augmented, standardized; forward, backward,
optimizer step); then DMH trained as several runs stacked into one model
(`dmh.run.fit_many.StackedRuns`, `dmh grid --stack M`), images/s over all its runs. Prints
images/s of training and of encoding, and the share of a step spent outside the model.
Usage:
    python benchmarks/bench_train.py [--device cpu|cuda] [--threads 1] [--steps 20]
        [--batch 64] [--warmup 3] [--encode-batch 1024] [--stack 1 3 8] [--json results/bench/train-throughput.json]
"""
from __future__ import annotations

import argparse
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch

from dmh.core.config import TrainConfig
from dmh.experiments.trunk_sizes import TRUNK_SIZES, train_mflops
from dmh.methods import METHODS, create_method
from dmh.models import count_parameters
from dmh.run.encode import Normalizer
from dmh.run.fit import make_optimizer, prepare_batch, sgd_step
from dmh.run.fit_many import StackedRuns


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def one_model(cfg, n_classes, images, labels, norm, steps, batch, device, warmup=3, channels_last=False,
              encode_batch=1024):
    """(params, train img/s, encode img/s, share of a step outside the model) of one model;
    `channels_last`: in that memory format, as `fit` trains under `dmh grid --channels-last`."""
    layout = {"memory_format": torch.channels_last} if channels_last else {}
    torch.manual_seed(0)
    model, crit = create_method(cfg, n_classes)
    model.to(device, **layout)
    crit.to(device)
    opt = make_optimizer(cfg, list(model.parameters()) + list(crit.parameters()))
    gen = torch.Generator().manual_seed(0)
    t_data = t_model = 0.0
    for step in range(warmup + steps):
        t0 = time.perf_counter()
        idx = torch.randint(0, len(images), (batch,), generator=gen)
        xb, yb = prepare_batch(images, labels, idx, norm, gen, device)
        xb = xb.contiguous(**layout)
        _sync(device)
        t1 = time.perf_counter()
        sgd_step(model, crit, opt, xb, yb, cfg.precision)
        _sync(device)
        if step >= warmup:
            t_data, t_model = t_data + t1 - t0, t_model + time.perf_counter() - t1
    model.eval()
    with torch.no_grad():
        x = norm(images[:encode_batch]).to(device).contiguous(**layout)
        model.forward_head(model.forward_features(x))
        _sync(device)
        t0 = time.perf_counter()
        for _ in range(3):
            model.forward_head(model.forward_features(x))
        _sync(device)
        enc = 3 * len(x) / (time.perf_counter() - t0)
    return count_parameters(model), steps * batch / (t_data + t_model), enc, t_data / (t_data + t_model)


def stacked(cfg, n_classes, runs, images, labels, norm, steps, batch, device, warmup=3):
    """Training img/s over `runs` DMH runs stacked into one model (batches drawn as `fit_many`
    draws them: one generator a run)."""
    models, crits = [], []
    for seed in range(runs):
        torch.manual_seed(seed)
        model, crit = create_method(cfg, n_classes)
        models.append(model.to(device).train())
        crits.append(crit.to(device))
    together = StackedRuns(models, crits, cfg)
    gens = [torch.Generator().manual_seed(s) for s in range(runs)]
    for step in range(warmup + steps):
        if step == warmup:
            _sync(device)
            t0 = time.perf_counter()
        parts = [prepare_batch(images, labels, torch.randint(0, len(images), (batch,), generator=g),
                               norm, g, device) for g in gens]
        together.step(torch.stack([x for x, _ in parts]), torch.stack([y for _, y in parts]),
                      [0.01] * runs, 0.5)
    _sync(device)
    return runs * steps * batch / (time.perf_counter() - t0)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1, help="torch threads (the grids run 1 a worker)")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--batch", type=int, default=64, help="images a step (the recipe's 64)")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps before the timed ones")
    p.add_argument("--encode-batch", type=int, default=1024, help="images a timed encoding pass")
    p.add_argument("--classes", type=int, default=105)
    p.add_argument("--bits", type=int, default=48)
    p.add_argument("--stack", type=int, nargs="*", default=[1, 3], help="runs stacked in one model")
    p.add_argument("--precision", nargs="*", default=["fp32", "bf16"], choices=["fp32", "bf16"],
                   help="DMH's rows at each training precision (the other methods at fp32)")
    p.add_argument("--json", type=Path, default=None, help="also write the rows here (atomic)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    rng = np.random.default_rng(0)
    images = torch.from_numpy(rng.integers(0, 256, (4096, 3, 32, 32), dtype=np.uint8))
    labels = torch.from_numpy(rng.integers(0, a.classes, 4096))
    norm = Normalizer([0.5] * 3, [0.25] * 3)
    variants = [("DMH dense + conv-GAP (default)", TrainConfig(bits=a.bits)),
                ("DMH plain + conv-GAP", TrainConfig(bits=a.bits, trunk="plain")),
                ("DMH dense + FC head", TrainConfig(bits=a.bits, head="fc"))]
    variants += [(METHODS[m].label, TrainConfig(bits=a.bits, method=m)) for m in METHODS if m != "dmh"]
    # the recipe study's trunk sizes (growth rate, layers per block): what equal FLOPs cost in time
    variants += [(f"DMH trunk {name}", TrainConfig(bits=a.bits, model_kwargs=kw))
                 for name, kw in list(TRUNK_SIZES.items())[1:]]
    measure = partial(one_model, n_classes=a.classes, images=images, labels=labels, norm=norm, steps=a.steps,
                      batch=a.batch, device=a.device, warmup=a.warmup, encode_batch=a.encode_batch)
    rows = []
    for name, cfg in variants:
        n, tr, enc, share = measure(cfg)
        rows.append({"model": name, "method": cfg.method, "strategy": "one model", "parameters": n,
                     "train_img_per_s": round(tr, 1), "encode_img_per_s": round(enc, 1),
                     "share_outside_model": round(share, 4), "train_mflop_per_image":
                     round(train_mflops(cfg), 2) if cfg.method == "dmh" else None})
    paper = rows[0]
    for r in rows:  # a trunk size's time at the paper trunk's FLOPs, relative to the paper trunk's
        if r["model"].startswith("DMH trunk"):
            r["time_at_equal_flops"] = round(paper["train_img_per_s"] / r["train_img_per_s"]
                                             * paper["train_mflop_per_image"] / r["train_mflop_per_image"], 3)
    for precision in a.precision:
        cfg = TrainConfig(bits=a.bits, precision=precision)
        if precision != "fp32":
            n, tr, enc, share = measure(cfg)
            rows.append({"model": "DMH dense + conv-GAP (default)", "method": "dmh",
                         "strategy": f"one model, {precision}", "parameters": n,
                         "train_img_per_s": round(tr, 1), "share_outside_model": round(share, 4)})
        # the same model in channels_last memory format (`dmh grid --channels-last`)
        n, tr, enc, share = measure(cfg, channels_last=True)
        rows.append({"model": "DMH dense + conv-GAP (default)", "method": "dmh",
                     "strategy": f"one model, {precision}, channels_last", "parameters": n,
                     "train_img_per_s": round(tr, 1), "encode_img_per_s": round(enc, 1),
                     "share_outside_model": round(share, 4)})
        for runs in a.stack if precision == "fp32" else ():  # vmap drops autocast: no bf16 stack
            ips = stacked(cfg, a.classes, runs, images, labels, norm, a.steps, a.batch, a.device, a.warmup)
            rows.append({"model": "DMH dense + conv-GAP (default)", "method": "dmh",
                         "strategy": f"{runs} stacked, {precision}", "train_img_per_s": round(ips, 1)})
    head = (f"torch {torch.__version__}, {a.device}, {a.threads} threads, batch {a.batch} a run, "
            f"32x32, {a.classes} classes, {a.bits} bits, {a.steps} timed steps")
    print(head)
    print(f"{'model':32s} {'strategy':30s} {'params':>8s} {'train img/s':>12s} {'encode img/s':>13s} "
          f"{'outside model':>14s}")
    for r in rows:
        enc, out = r.get("encode_img_per_s"), r.get("share_outside_model")
        print(f"{r['model']:32s} {r['strategy']:30s} {r.get('parameters', '-'):>8} "
              f"{r['train_img_per_s']:12.0f} {'-' if enc is None else f'{enc:.0f}':>13s} "
              f"{'-' if out is None else f'{100 * out:.1f}%':>14s}")
    for r in rows:
        if "time_at_equal_flops" in r:
            print(f"{r['model']}: at the paper trunk's training FLOPs it takes "
                  f"{r['time_at_equal_flops']:.2f}x the paper trunk's time")
    if a.json:
        from dmh.core.atomic import write_json
        from dmh.core.provenance import provenance

        write_json(a.json, {"setting": head, **provenance(a.threads, a.device), "rows": rows})


if __name__ == "__main__":
    main()
